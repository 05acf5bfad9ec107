"""The suite's shared builders: users and logged-in clients, credentials, menu items and
suppliers, orders, the migration head, and the count of SQL statements.

Test modules import what they share from here (and the machine's harness from
``tests.support``), never from each other.
"""

from __future__ import annotations

import base64
import re
import threading
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import event, func, select

from mypack.audit import AuditEvent
from mypack.auth import service
from mypack.auth.models import User
from mypack.extensions import db
from mypack.menu.models import MenuItem, Supplier
from mypack.orders import service as orders
from mypack.outbox.models import OutboxMessage

PASSWORD = "Flat-White-42"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

#: The API tests' people, by who they are: "other" is a second customer.
EMAILS = {"customer": "customer@example.com", "other": "other@example.com",
          "staff": "staff@example.com", "admin": "admin@example.com"}

#: The order pages' menu: (name, category, price, available).
MENU = [
    ("Flat white", "coffee", "3.20", True),
    ("Espresso", "coffee", "2.20", True),
    ("Earl Grey", "tea", "2.40", True),
    ("Croissant", "food", "0.10", True),
    ("Cold brew", "coffee", "3.40", False),
]

#: The staff pages' item and supplier forms, filled in.
ITEM = {"name": "Flat white", "category": "coffee", "price": "3.20",
        "description": "Double shot, velvety milk.", "supplier_id": "", "available": "y"}
SUPPLIER = {"name": "Northside Roasters", "email": "orders@northside.example",
            "phone": "+44 20 7946 0101", "notes": "Roasts on Tuesdays."}

#: Text a price field refuses, in the API and on the staff pages alike: the documented
#: pattern ^\d{1,4}(\.\d{1,2})?$ with ASCII digits (what \d means to OpenAPI's regexes),
#: however much of it Python's Decimal() or int() would take.
PRICES_REFUSED = ["3.205", "-1", "-0.01", "-0", "-0.00", "+3", "10000", "10000.00", "00000",
                  "1_000", "1e3", "1E+1", "1e-5", "NaN", "Infinity", "abc", "1,50", "3,20",
                  " 3.2 ", "3.2 ", "\t3.2", "3.2\n", "3.", ".5", "٣.٢٠", "١٢٣", "３",
                  "3.2٠", "", "9" * 30]


# --- the schema --------------------------------------------------------------------------

def upgrade(app) -> None:
    """What ``mypack db upgrade`` does, for ``app``'s database, in the test's process."""
    from flask_migrate import upgrade as upgrade_to_head

    from mypack.database import init_migrations

    init_migrations(app)
    with app.app_context():
        upgrade_to_head()


def dispose(app) -> None:
    """Close the app's session and its pool's connections."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- users, logins and credentials ---------------------------------------------------------

def make_user(app, email="ada@example.com", role="customer", password=PASSWORD,
              name="Ada", active=True, confirmed=True) -> int:
    """A user in the app's database, through the accounts service; returns its id.
    Confirmed unless told (as an operator's accounts are): no confirmation mail."""
    with app.app_context():
        user = service.register(email, name, password, role=role, confirmed=confirmed)
        assert user is not None, f"{email} exists already"
        if not active:
            user.active = False
            db.session.commit()
        return user.id


def add_people(app, who=tuple(EMAILS)) -> dict[str, int]:
    """Users of EMAILS (``who`` of them), named after what they are; their ids."""
    return {name: make_user(app, EMAILS[name], role="customer" if name == "other" else name,
                            name=name.title())
            for name in who}


def csrf_token(client, path="/auth/login") -> str:
    """The CSRF token of the form on ``path``, as a browser would read it."""
    match = _TOKEN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match[1]


def post_form(client, path, data, token_from=None, **kwargs):
    """Post a form with the CSRF token of the page it is on."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def login(client, email="ada@example.com", password=PASSWORD, remember=False, next_url=None):
    """Log in through the login form; returns the response."""
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    path = "/auth/login" + (f"?next={next_url}" if next_url else "")
    return post_form(client, path, data)


def logged_in(client) -> bool:
    """Whether the client's cookies carry a live login (the profile page opens)."""
    return client.get("/auth/profile").status_code == 200


def client_as(app, email="ada@example.com", role="customer", name=None):
    """A client logged in as a new user with ``role`` (named after the email)."""
    make_user(app, email, role=role, name=name or email.split("@")[0].title())
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def basic(email="ada@example.com", password=PASSWORD) -> dict:
    """The Authorization header of HTTP Basic credentials."""
    credentials = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def bearer(token: str) -> dict:
    """The Authorization header of an API token."""
    return {"Authorization": f"Bearer {token}"}


def auth(who: str | None) -> dict:
    """HTTP Basic headers of EMAILS' ``who`` (none for anonymous)."""
    return {} if who is None else basic(EMAILS[who])


# --- reading back ------------------------------------------------------------------------

def stored_user(app, email) -> User | None:
    """A detached copy of the user's row as it is now (None: no such user)."""
    with app.app_context():
        found = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return found


def audit_events(app, event=None) -> list[AuditEvent]:
    """The audit log (of one ``event``), oldest first."""
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if event:
            query = query.where(AuditEvent.event == event)
        return list(db.session.scalars(query))


def item_id(app, name: str) -> int:
    """The id of the menu item called ``name``."""
    with app.app_context():
        return db.session.scalar(select(MenuItem.id).where(MenuItem.name == name))


def count(app, model) -> int:
    """The number of rows of ``model``."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- the menu ------------------------------------------------------------------------------

def add_items(app, rows=MENU, supplier: str | None = None) -> dict[str, int]:
    """Menu items straight through the models, from (name, category, price, available)
    rows, of a new ``supplier`` if named; returns ``{name: id}``."""
    with app.app_context():
        owner = Supplier(name=supplier) if supplier else None
        items = [MenuItem(name=name, category=category, price=Decimal(price),
                          available=available, supplier=owner, description=f"About {name}.")
                 for name, category, price, available in rows]
        db.session.add_all(items)
        db.session.commit()
        return {item.name: item.id for item in items}


def many_items(count: int) -> list[tuple[str, str, str, bool]]:
    """``count`` rows for add_items: every category, one in five unavailable."""
    return [(f"Item {n:03}", ("coffee", "tea", "food", "other")[n % 4], f"{n}.50", n % 5 != 0)
            for n in range(count)]


def add_supplier(app, name="Northside Roasters", items=()) -> int:
    """A supplier with coffees named ``items`` (2.50 each); returns its id."""
    with app.app_context():
        supplier = Supplier(name=name, items=[
            MenuItem(name=item, category="coffee", price=Decimal("2.50")) for item in items])
        db.session.add(supplier)
        db.session.commit()
        return supplier.id


def seed_menu(app) -> None:
    """The API's menu: the people of EMAILS, two suppliers and five items."""
    add_people(app)
    with app.app_context():
        beans = Supplier(name="Bean Roasters", email="hello@beans.example", phone="123")
        bakery = Supplier(name="Bakery")
        db.session.add_all([beans, bakery])
        db.session.flush()
        for name, category, price, supplier, available in [
            ("Espresso", "coffee", "2.50", beans, True),
            ("Flat white", "coffee", "3.20", beans, True),
            ("Green tea", "tea", "2.80", None, True),
            ("Croissant", "food", "2.95", bakery, True),
            ("Old scone", "food", "1.00", bakery, False),
        ]:
            db.session.add(MenuItem(name=name, category=category, price=Decimal(price),
                                    supplier=supplier, available=available))
        db.session.commit()


# --- orders --------------------------------------------------------------------------------

def place(app, email, quantities, key) -> int:
    """An order of ``{item id: quantity}`` placed through the service, as the confirm
    page would; returns its id."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return orders.place_order(user, quantities, key).id


def put_on_order(app, item_id: int, email="ada@example.com") -> int:
    """One of the item, ordered by a new customer ``email``; returns the order id."""
    make_user(app, email)
    return place(app, email, {item_id: 1}, f"key-{email}-{item_id}")


# --- answers -------------------------------------------------------------------------------

def assert_api_error(response, status: int) -> dict:
    """The response is the API's one error shape with ``status``; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "fields"}
    assert body["error"]["status"] == status and body["error"]["message"]
    return body["error"]


@contextmanager
def counted_queries(app):
    """The SQL statements the app's engine runs inside the block, in this thread (not
    the outbox's, which delivers mail beside the request)."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    thread = threading.get_ident()

    def note(connection, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == thread:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


# --- mail ----------------------------------------------------------------------------------

def outbox_rows(app) -> list[OutboxMessage]:
    """The outbox, oldest first, once the hand-overs and deliveries under way have ended
    (detached copies)."""
    assert app.extensions["outbox"].wait(30)
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows
