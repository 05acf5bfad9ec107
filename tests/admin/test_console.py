"""The admin console's model admin (issue 7): who may open each URL, the lists'
search, filters, sort, pages and CSV export, every create/edit/delete and bulk
action, and the rules they share with the rest of the site."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mypack.audit import AuditEvent
from mypack.auth.models import ApiToken, User
from mypack.auth.passwords import verify_password
from mypack.extensions import db
from mypack.menu.models import MenuItem, Supplier
from mypack.orders import service as orders
from mypack.orders.models import Order
from tests.factories import (
    ITEM,
    PASSWORD,
    SUPPLIER,
    add_supplier,
    audit_events,
    client_as,
    counted_queries,
    csrf_token,
    item_id,
    login,
    make_user,
    post_form,
    put_on_order,
    stored_user,
)

ADMIN = "root@example.com"


@pytest.fixture
def admin(site):
    """A logged-in admin's client on a migrated SQLite site."""
    return client_as(site, ADMIN, "admin")


def rows(response) -> list[dict]:
    """The CSV body of a response, as dicts."""
    assert response.status_code == 200, response.text[:500]
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text)))


def flashes(client, path="/admin/") -> list[str]:
    return re.findall(r'class="flash[^"]*" role="status">([^<]*)<', client.get(path).text)


# --- access -------------------------------------------------------------------------------

#: Every admin URL (a new one must be added here, and so gets its access test).
ADMIN_URLS = {
    ("GET", "/admin/"), ("POST", "/admin/unlock"),
    ("GET", "/admin/users"), ("GET", "/admin/users.csv"), ("POST", "/admin/users/bulk"),
    ("GET", "/admin/users/new"), ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{user}"), ("POST", "/admin/users/{user}"),
    ("GET", "/admin/users/{user}/delete"), ("POST", "/admin/users/{user}/delete"),
    ("GET", "/admin/suppliers"), ("GET", "/admin/suppliers.csv"),
    ("GET", "/admin/suppliers/new"), ("POST", "/admin/suppliers/new"),
    ("GET", "/admin/suppliers/{supplier}"), ("POST", "/admin/suppliers/{supplier}"),
    ("GET", "/admin/suppliers/{supplier}/delete"),
    ("POST", "/admin/suppliers/{supplier}/delete"),
    ("GET", "/admin/items"), ("GET", "/admin/items.csv"), ("POST", "/admin/items/bulk"),
    ("GET", "/admin/items/new"), ("POST", "/admin/items/new"),
    ("GET", "/admin/items/{item}"), ("POST", "/admin/items/{item}"),
    ("GET", "/admin/items/{item}/delete"), ("POST", "/admin/items/{item}/delete"),
    ("GET", "/admin/orders"), ("GET", "/admin/orders.csv"),
    ("GET", "/admin/orders/new"), ("POST", "/admin/orders/new"),
    ("GET", "/admin/orders/{order}"), ("POST", "/admin/orders/{order}"),
    ("GET", "/admin/orders/{order}/delete"), ("POST", "/admin/orders/{order}/delete"),
    ("GET", "/admin/audit"), ("GET", "/admin/audit.csv"),
}


def test_every_admin_url_is_listed_for_the_access_tests(site):
    converters = re.compile(r"<int:(\w+)_id>")
    routes = {(method, converters.sub(r"{\1}", rule.rule))
              for rule in site.url_map.iter_rules() if rule.rule.startswith("/admin")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == ADMIN_URLS


@pytest.fixture
def one_of_each(site):
    """A supplier, an item, a customer and an order: ids for the URLs."""
    supplier = add_supplier(site, items=["Espresso"])
    with site.app_context():
        item = db.session.scalar(select(MenuItem.id))
    order = put_on_order(site, item, email="cus@example.com")
    return {"user": stored_user(site, "cus@example.com").id, "supplier": supplier, "item": item,
            "order": order}


@pytest.mark.parametrize("role", ["anonymous", "customer", "staff"])
def test_only_admins_reach_the_console(site, one_of_each, role):
    if role == "anonymous":
        client = site.test_client()
    else:
        client = client_as(site, f"{role}-x@example.com", role)
    token = csrf_token(client, "/auth/login" if role == "anonymous" else "/auth/profile")
    for method, template in sorted(ADMIN_URLS):
        path = template.format(**one_of_each)
        if method == "GET":
            response = client.get(path)
        else:  # with a valid token of this session: the role is what refuses it
            response = client.post(path, data={"csrf_token": token, "ids": "1",
                                               "action": "deactivate", "email": ADMIN})
        if role == "anonymous":
            assert response.status_code == 302, (method, path)
            assert response.headers["Location"].startswith("/auth/login?next="), path
        else:
            assert response.status_code == 403, (method, path, response.status_code)
    with site.app_context():  # nothing was changed by the refused posts
        assert db.session.scalar(select(func.count()).select_from(User)
                                 .where(User.active.is_(False))) == 0
        assert db.session.get(Order, one_of_each["order"]) is not None


def test_admins_open_every_page(site, one_of_each, admin):
    for method, template in sorted(ADMIN_URLS):
        if method == "GET":
            path = template.format(**one_of_each)
            response = admin.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            assert "<script" not in response.text and " style=" not in response.text


def test_every_admin_form_needs_the_csrf_token(site, one_of_each, admin):
    for method, template in sorted(ADMIN_URLS):
        if method == "POST":
            response = admin.post(template.format(**one_of_each), data={"ids": "1"})
            assert response.status_code == 400, template
            assert "CSRF" in response.text


def test_admin_link_shows_for_admins_only(site, admin):
    assert 'href="/admin/"' in admin.get("/").text
    staff = client_as(site, "sam@example.com", "staff")
    assert 'href="/admin/"' not in staff.get("/").text


# --- lists: search, filters, sort, pages, CSV ----------------------------------------------

def test_users_list_searches_filters_and_sorts(site, admin):
    make_user(site, "bea@example.com", name="Beatrice", role="staff")
    make_user(site, "cy@example.com", name="Cyrus", active=False)
    make_user(site, "dan_x@example.com", name="Dan")
    text = admin.get("/admin/users?q=BEAT").text
    assert "bea@example.com" in text and "cy@example.com" not in text
    # % and _ are plain characters, not wildcards.
    assert "dan_x@" in admin.get("/admin/users?q=n_x").text
    assert "bea@" not in admin.get("/admin/users?q=%25").text
    text = admin.get("/admin/users?active=no").text
    assert "cy@example.com" in text and "bea@example.com" not in text
    text = admin.get("/admin/users?role=staff").text
    assert "bea@example.com" in text and ADMIN not in text
    text = admin.get("/admin/users?sort=-email").text
    emails = re.findall(r'href="/admin/users/\d+">([^<]+)<', text)
    assert emails == sorted(emails, reverse=True) and len(emails) == 4
    # The sort and filters survive in the heading links and the export link.
    text = admin.get("/admin/users?role=customer&sort=-email").text
    assert "/admin/users.csv?role=customer&amp;sort=-email" in text
    assert "/admin/users?role=customer&amp;sort=email" in text


@pytest.mark.parametrize("query, message", [
    ("role=king", "Role: there is no choice"),
    ("active=maybe", "Active: there is no choice"),
    ("sort=password_hash", "cannot be sorted by"),
    ("sort=-", "cannot be sorted by"),
    ("page=abc", "The page must be a whole number"),
    ("page=-1", "The page must be a whole number"),
    ("page=99999999999", "The page must be a whole number"),
    ("page=1000001", "The page must be a whole number"),  # the API's limit, 10**6
    ("q=" + "x" * 101, "at most 100"),
    ("q=a%01b", "printable"),
])
def test_bad_list_input_is_a_400_that_says_why(site, admin, query, message):
    for path in ("/admin/users", "/admin/users.csv"):
        response = admin.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert message in response.text


def test_lists_page_and_a_page_past_the_end_is_404(site, admin):
    with site.app_context():
        db.session.add_all(Supplier(name=f"Supplier {n:03}") for n in range(120))
        db.session.commit()
    first = admin.get("/admin/suppliers").text
    assert "Supplier 000" in first and "Supplier 050" not in first
    assert 'rel="next"' in first
    third = admin.get("/admin/suppliers?page=3").text
    assert "Supplier 119" in third and "Supplier 099" not in third
    assert admin.get("/admin/suppliers?page=4").status_code == 404
    assert admin.get("/admin/suppliers?page=1000000").status_code == 404
    descending = admin.get("/admin/suppliers?sort=-name").text
    assert descending.index("Supplier 119") < descending.index("Supplier 118")


def test_users_csv_is_the_filtered_list_without_secrets(site, admin):
    make_user(site, "bea@example.com", name="Beatrice", role="staff")
    make_user(site, "cy@example.com", name="=HYPERLINK(\"http://evil\")")
    response = admin.get("/admin/users.csv?sort=email")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="users-')
    assert response.headers["Cache-Control"].startswith("private")
    table = rows(response)
    assert [row["email"] for row in table] == ["bea@example.com", "cy@example.com", ADMIN]
    assert list(table[0]) == ["id", "email", "name", "role", "active", "joined", "last_login"]
    assert table[0]["role"] == "staff" and table[0]["active"] == "yes"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", table[0]["joined"])
    # A cell a spreadsheet would run as a formula is quoted.
    assert table[1]["name"] == "'=HYPERLINK(\"http://evil\")"
    assert "pbkdf2" not in response.text and "session_token" not in response.text
    staff_only = rows(admin.get("/admin/users.csv?role=staff"))
    assert [row["email"] for row in staff_only] == ["bea@example.com"]


def test_csv_exports_every_page(site, admin):
    with site.app_context():
        db.session.add_all(Supplier(name=f"Supplier {n:04}", phone="-1")
                           for n in range(1200))
        db.session.commit()
    table = rows(admin.get("/admin/suppliers.csv"))
    assert len(table) == 1200 and table[-1]["name"] == "Supplier 1199"
    assert table[0]["phone"] == "'-1"  # a leading minus is a formula too
    assert [r["name"] for r in rows(admin.get("/admin/suppliers.csv?q=Supplier 11"))] == [
        f"Supplier 11{n:02}" for n in range(100)]


def test_list_pages_run_a_bounded_number_of_queries(site, admin):
    add_supplier(site, items=[f"Item {n}" for n in range(40)])
    for n in range(5):
        put_on_order(site, item_id(site, f"Item {n}"), email=f"c{n}@example.com")
    for path in ("/admin/users", "/admin/items", "/admin/suppliers", "/admin/orders",
                 "/admin/audit"):
        with counted_queries(site) as statements:
            assert admin.get(path).status_code == 200
        # The session's user, the count, the rows (and the filter choices) - not per row.
        assert len(statements) <= 5, (path, statements)


def test_lists_and_csv_on_every_database(migrated_app):
    """Search, filters, correlated counts and sorting are SQL: each backend runs them."""
    admin = client_as(migrated_app, ADMIN, "admin")
    add_supplier(migrated_app, "Crumb Bakery", items=["Scone", "Bun"])
    add_supplier(migrated_app, "Leaf & Kettle")
    with migrated_app.app_context():
        scone = db.session.scalar(select(MenuItem.id).where(MenuItem.name == "Scone"))
    order_id = put_on_order(migrated_app, scone, email="cus@example.com")
    text = admin.get("/admin/suppliers?has_items=no").text
    assert "Leaf &amp; Kettle" in text and "Crumb Bakery" not in text
    suppliers = rows(admin.get("/admin/suppliers.csv?sort=-items"))
    assert [(r["name"], r["items"]) for r in suppliers] == [("Crumb Bakery", "2"),
                                                            ("Leaf & Kettle", "0")]
    items = rows(admin.get("/admin/items.csv?q=sco&sort=-price"))
    assert [(r["name"], r["price"], r["supplier"]) for r in items] == [
        ("Scone", "2.50", "Crumb Bakery")]
    orders_csv = rows(admin.get(f"/admin/orders.csv?q=%23{order_id}"))
    assert [(r["id"], r["customer"], r["lines"], r["total"]) for r in orders_csv] == [
        (str(order_id), "cus@example.com", "1", "2.50")]
    assert rows(admin.get("/admin/orders.csv?q=CUS@&status=placed&period=today"))
    assert not rows(admin.get("/admin/orders.csv?status=collected"))
    users = rows(admin.get("/admin/users.csv?q=example&sort=-last_login"))
    assert {r["email"] for r in users} == {ADMIN, "cus@example.com"}
    events = rows(admin.get("/admin/audit.csv?event=login_success&period=1d"))
    assert [r["email"] for r in events] == [ADMIN]


# --- users ---------------------------------------------------------------------------------

NEW_USER = {"email": "New@Example.com", "display_name": "Nia", "role": "staff",
            "active": "y", "password": "Oat-Milk-Cortado-9", "confirm": "Oat-Milk-Cortado-9"}


def test_admin_creates_an_account_through_the_password_policy(site, admin):
    response = post_form(admin, "/admin/users/new", NEW_USER)
    assert response.status_code == 302
    created = stored_user(site, "new@example.com")
    assert created.role == "staff" and created.active
    assert created.email_confirmed  # an admin vouches for it: no confirmation mail
    assert verify_password(created.password_hash, NEW_USER["password"])
    assert created.password_hash.startswith("pbkdf2:sha256:")
    assert login(site.test_client(), "new@example.com", NEW_USER["password"]).status_code == 302
    [event] = audit_events(site, "register")[-1:]
    assert event.email == "new@example.com" and f"by {ADMIN}" in event.detail


@pytest.mark.parametrize("changes, error", [
    ({"password": "short", "confirm": "short"}, "at least"),
    ({"password": "", "confirm": ""}, "A new account needs a password."),
    ({"confirm": "Other-Password-99"}, "The passwords differ."),
    ({"email": "not an email"}, "Enter an email address."),
    ({"email": ADMIN}, "Another account has this email."),
    ({"role": "root"}, "Not a valid choice"),
    ({"display_name": ""}, "This field is required."),
    ({"display_name": "x" * 101}, "Field cannot be longer than 100 characters."),
    ({"display_name": "Nia\x1b[2J"}, "Remove the control character U+001B from the name."),
    ({"display_name": "Nia\u202e"}, "Remove the control character U+202E from the name."),
])
def test_bad_account_forms_are_400_with_the_error(site, admin, changes, error):
    response = post_form(admin, "/admin/users/new", {**NEW_USER, **changes})
    assert response.status_code == 400
    assert error in response.text
    assert stored_user(site, "new@example.com") is None


def test_admin_edits_an_account_in_one_audited_change(site, admin):
    bea = make_user(site, "bea@example.com", name="Bea")
    path = f"/admin/users/{bea}"
    response = post_form(admin, path, {"email": "Beatrice@Example.com", "display_name": "Beatrice",
                                       "role": "staff", "active": "y",
                                       "password": "Long-Black-Coffee-7",
                                       "confirm": "Long-Black-Coffee-7"})
    assert response.status_code == 302
    changed = stored_user(site, "beatrice@example.com")
    assert (changed.display_name, changed.role) == ("Beatrice", "staff")
    assert login(site.test_client(), "beatrice@example.com",
                 "Long-Black-Coffee-7").status_code == 302
    [profile] = audit_events(site, "profile_change")
    assert "email bea@example.com -> beatrice@example.com" in profile.detail
    assert f"by {ADMIN}" in profile.detail
    assert audit_events(site, "role_change")[0].detail == f"customer -> staff; by {ADMIN}"
    assert audit_events(site, "password_reset")[0].user_id == bea
    # An empty password keeps the current one.
    post_form(admin, path, {"email": "beatrice@example.com", "display_name": "B",
                            "role": "staff", "active": "y"})
    assert verify_password(stored_user(site, "beatrice@example.com").password_hash,
                           "Long-Black-Coffee-7")


@pytest.mark.parametrize("name, character", [
    ("Bea\x1b[2J", "U+001B"), ("Bea\u202eaeB", "U+202E"), ("Be\u200ba", "U+200B"),
])
def test_the_edit_form_refuses_control_characters_in_the_name(site, admin, name, character):
    bea = make_user(site, "bea@example.com", name="Bea")
    response = post_form(admin, f"/admin/users/{bea}", {
        "email": "bea@example.com", "display_name": name, "role": "customer", "active": "y"})
    assert response.status_code == 400
    assert f"Remove the control character {character} from the name." in response.text
    assert stored_user(site, "bea@example.com").display_name == "Bea"
    assert audit_events(site, "profile_change") == []


def test_the_last_admin_cannot_be_demoted_deactivated_or_deleted(site, admin):
    root = stored_user(site, ADMIN).id
    for data in ({"role": "staff", "active": "y"}, {"role": "admin"}):  # no "active": off
        response = post_form(admin, f"/admin/users/{root}",
                             {"email": ADMIN, "display_name": "Renamed", **data})
        assert response.status_code == 400
        assert "last active admin" in response.text
    unchanged = stored_user(site, ADMIN)
    assert (unchanged.role, unchanged.active, unchanged.display_name) == ("admin", True, "Root")
    response = post_form(admin, f"/admin/users/{root}/delete", {})
    assert response.status_code == 409 and "last active admin" in response.text
    response = post_form(admin, "/admin/users/bulk",
                         {"action": "role:customer", "ids": [str(root)]},
                         token_from="/admin/users")
    assert response.status_code == 302
    assert stored_user(site, ADMIN).role == "admin"
    assert any("last active admin" in message for message in flashes(admin))
    # With a second admin, the first may go.
    other = make_user(site, "second@example.com", role="admin")
    response = post_form(admin, f"/admin/users/{other}/delete", {})
    assert response.status_code == 302 and stored_user(site, "second@example.com") is None


def test_deleting_an_account_needs_confirmation_and_keeps_its_trail(site, admin):
    bea = make_user(site, "bea@example.com")
    with site.app_context():
        from mypack.auth import tokens

        tokens.create(db.session.get(User, bea), "laptop")
    page = admin.get(f"/admin/users/{bea}/delete")
    assert page.status_code == 200 and "Delete bea@example.com?" in page.text
    assert stored_user(site, "bea@example.com") is not None  # the GET only asks
    assert post_form(admin, f"/admin/users/{bea}/delete", {}).status_code == 302
    assert stored_user(site, "bea@example.com") is None
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
        trail = db.session.scalars(select(AuditEvent).where(
            AuditEvent.email == "bea@example.com").order_by(AuditEvent.id)).all()
    assert [event.event for event in trail] == ["register", "token_create", "user_delete"]
    assert all(event.user_id is None for event in trail)
    assert admin.get(f"/admin/users/{bea}").status_code == 404


def test_an_account_with_orders_is_deactivated_not_deleted(site, admin):
    add_supplier(site, items=["Espresso"])
    order = put_on_order(site, item_id(site, "Espresso"), email="cus@example.com")
    customer = stored_user(site, "cus@example.com").id
    response = post_form(admin, f"/admin/users/{customer}/delete", {})
    assert response.status_code == 409 and "deactivate the account instead" in response.text
    with site.app_context():
        assert db.session.get(Order, order) is not None


def test_bulk_activate_deactivate_and_set_role(site, admin):
    ids = [str(make_user(site, f"u{n}@example.com")) for n in range(3)]
    victim = site.test_client()
    login(victim, "u0@example.com")
    response = post_form(admin, "/admin/users/bulk",
                         {"action": "deactivate", "ids": ids,
                          "next": "/admin/users?q=u&sort=-email"}, token_from="/admin/users")
    assert response.headers["Location"] == "/admin/users?q=u&sort=-email"
    assert all(not stored_user(site, f"u{n}@example.com").active for n in range(3))
    assert victim.get("/auth/profile").status_code == 302  # their sessions ended
    assert len(audit_events(site, "deactivate")) == 3
    post_form(admin, "/admin/users/bulk", {"action": "activate", "ids": ids[:2]},
              token_from="/admin/users")
    assert [stored_user(site, f"u{n}@example.com").active for n in range(3)] == [True, True, False]
    post_form(admin, "/admin/users/bulk", {"action": "role:staff", "ids": ids},
              token_from="/admin/users")
    assert {stored_user(site, f"u{n}@example.com").role for n in range(3)} == {"staff"}
    assert "Make staff: done for 3 of 3." in flashes(admin)
    # An offsite "next" is not followed.
    response = post_form(admin, "/admin/users/bulk", {"action": "activate", "ids": ids,
                                                      "next": "//evil.example/"},
                         token_from="/admin/users")
    assert response.headers["Location"] == "/admin/users"


@pytest.mark.parametrize("data, message", [
    ({"action": "activate"}, "Tick at least one row."),
    ({"action": "explode", "ids": "1"}, "Not a valid choice"),
    ({"action": "activate", "ids": "abc"}, "could not be coerced"),
    ({"action": "activate", "ids": "99999999999"}, "not rows of this list"),
    ({"action": "activate", "ids": [str(n) for n in range(1, 300)]}, "At most 200"),
])
def test_bad_bulk_posts_are_400(site, admin, data, message):
    response = post_form(admin, "/admin/users/bulk", data, token_from="/admin/users")
    assert response.status_code == 400
    assert message in response.text


# --- suppliers and items -------------------------------------------------------------------

def test_suppliers_created_edited_and_deleted_with_the_staff_rules(site, admin):
    assert post_form(admin, "/admin/suppliers/new", SUPPLIER).status_code == 302
    response = post_form(admin, "/admin/suppliers/new", {**SUPPLIER, "name": "NORTHSIDE roasters"})
    assert response.status_code == 400 and "Another supplier has this name." in response.text
    with site.app_context():
        supplier = db.session.scalar(select(Supplier))
        db.session.add(MenuItem(name="Espresso", category="coffee", price=Decimal("2"),
                                supplier=supplier))
        db.session.commit()
        supplier_id = supplier.id
    assert post_form(admin, f"/admin/suppliers/{supplier_id}",
                     {**SUPPLIER, "phone": "123"}).status_code == 302
    response = post_form(admin, f"/admin/suppliers/{supplier_id}/delete", {})
    assert response.status_code == 409 and "still has 1 item(s)" in response.text
    response = post_form(admin, f"/admin/suppliers/{supplier_id}/delete", {"detach": "y"})
    assert response.status_code == 302
    with site.app_context():
        assert db.session.scalar(select(MenuItem.supplier_id)) is None
        assert db.session.get(Supplier, supplier_id) is None


def test_items_created_edited_validated_and_deleted(site, admin):
    supplier = add_supplier(site)
    assert post_form(admin, "/admin/items/new",
                     {**ITEM, "supplier_id": str(supplier)}).status_code == 302
    with site.app_context():
        item_id = db.session.scalar(select(MenuItem.id))
    for bad, error in ((dict(price="1e3"), "Enter a price such as 3.20."),
                       (dict(price="-1"), "cannot be negative"),
                       (dict(category="beer"), "Not a valid choice"),
                       (dict(supplier_id="999"), "Not a valid choice"),
                       (dict(name=""), "This field is required.")):
        response = post_form(admin, f"/admin/items/{item_id}", {**ITEM, **bad})
        assert response.status_code == 400 and error in response.text, bad
    assert post_form(admin, f"/admin/items/{item_id}",
                     {**ITEM, "price": "3.40"}).status_code == 302
    with site.app_context():
        assert db.session.get(MenuItem, item_id).price == Decimal("3.40")
    put_on_order(site, item_id)
    response = post_form(admin, f"/admin/items/{item_id}/delete", {})
    assert response.status_code == 409 and "mark it not available instead" in response.text
    assert "Delete Flat white</button>" not in admin.get(f"/admin/items/{item_id}/delete").text


def test_items_bulk_marks_unavailable_and_filters_by_supplier(site, admin):
    supplier = add_supplier(site, items=["Espresso", "Cortado", "Mocha"])
    with site.app_context():
        ids = {name: i for i, name in db.session.execute(select(MenuItem.id, MenuItem.name))}
        db.session.add(MenuItem(name="Water", category="other", price=Decimal("1")))
        db.session.commit()
    response = post_form(admin, "/admin/items/bulk",
                         {"action": "unavailable",
                          "ids": [str(ids["Espresso"]), str(ids["Mocha"]), "424242"]},
                         token_from="/admin/items")
    assert response.status_code == 302
    with site.app_context():
        unavailable = set(db.session.scalars(select(MenuItem.name)
                                             .where(MenuItem.available.is_(False))))
    assert unavailable == {"Espresso", "Mocha"}
    assert "Item 424242 does not exist (any more)." in flashes(admin)
    names = [r["name"] for r in rows(admin.get(f"/admin/items.csv?supplier={supplier}"
                                               "&available=yes"))]
    assert names == ["Cortado"]
    assert [r["name"] for r in rows(admin.get("/admin/items.csv?supplier=none"))] == ["Water"]
    assert admin.get("/admin/items?supplier=31337").status_code == 400


# --- orders --------------------------------------------------------------------------------

def test_orders_move_through_the_queue_transitions(site, admin):
    add_supplier(site, items=["Espresso"])
    order = put_on_order(site, item_id(site, "Espresso"), email="cus@example.com")
    page = admin.get(f"/admin/orders/{order}")
    assert "Espresso" in page.text and "cus@example.com" in page.text
    assert post_form(admin, f"/admin/orders/{order}",
                     {"status": "preparing", "seen": "placed"}).status_code == 302
    # A transition the rules do not allow from here is a form error.
    response = post_form(admin, f"/admin/orders/{order}", {"status": "collected",
                                                           "seen": "preparing"})
    assert response.status_code == 400 and "Not a valid choice" in response.text
    # Someone else moved it meanwhile: 409, nothing overwritten.
    response = post_form(admin, f"/admin/orders/{order}", {"status": "cancelled",
                                                           "seen": "placed"})
    assert response.status_code == 409 and "is preparing now" in response.text
    with site.app_context():
        assert db.session.get(Order, order).status == "preparing"
    response = post_form(admin, f"/admin/orders/{order}", {"status": "ready", "seen": "nonsense"})
    assert response.status_code == 400


def test_admin_places_an_order_for_a_customer(site, admin):
    add_supplier(site, items=["Espresso", "Mocha"])
    make_user(site, "cus@example.com")
    page = admin.get("/admin/orders/new")
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page.text)[1]
    data = {"email": "CUS@example.com", "key": key,
            "lines-0-item_id": str(item_id(site, "Espresso")), "lines-0-quantity": "2",
            "lines-1-item_id": str(item_id(site, "Mocha")), "lines-1-quantity": "1"}
    response = post_form(admin, "/admin/orders/new", data)
    assert response.status_code == 302
    assert post_form(admin, "/admin/orders/new", data).status_code == 302  # resubmitted
    with site.app_context():
        [order] = db.session.scalars(select(Order)).all()
        assert order.total == Decimal("7.50") and len(order.lines) == 2
    for bad, error in (({"email": "nobody@example.com"}, "No active account"),
                       ({"lines-0-quantity": "51"}, "From 1 to 50."),
                       ({"lines-0-item_id": "999"}, "Choose an item of the list."),
                       ({"lines-0-item_id": "x"}, "could not coerce"),
                       ({"lines-0-quantity": "", "lines-1-item_id": ""}, "Give an item"),
                       ({"key": ""}, "This form is out of date")):
        response = post_form(admin, "/admin/orders/new", {**data, "key": "k" * 20, **bad})
        assert response.status_code == 400 and error in response.text, bad
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_only_cancelled_orders_can_be_deleted(site, admin):
    add_supplier(site, items=["Espresso"])
    order = put_on_order(site, item_id(site, "Espresso"), email="cus@example.com")
    response = post_form(admin, f"/admin/orders/{order}/delete", {})
    assert response.status_code == 409 and "only cancelled orders" in response.text
    with site.app_context():
        orders.move(order, "placed", "cancelled")
    assert "Delete order" in admin.get(f"/admin/orders/{order}/delete").text
    assert post_form(admin, f"/admin/orders/{order}/delete", {}).status_code == 302
    with site.app_context():
        assert db.session.get(Order, order) is None


# --- audit log -----------------------------------------------------------------------------

def test_audit_log_is_read_only_and_filtered(site, admin):
    login(site.test_client(), ADMIN, "wrong password")
    text = admin.get("/admin/audit?event=login_failure").text
    assert "login_failure" in text and "login_success</td>" not in text
    events = rows(admin.get("/admin/audit.csv?event=login_success"))
    assert [e["email"] for e in events] == [ADMIN]
    assert events[0]["ip"] == "127.0.0.1" and events[0]["request_id"]
    assert admin.post("/admin/audit").status_code == 405
    assert admin.get("/admin/audit?event=hack").status_code == 400


def test_password_is_never_shown_in_the_edit_form(site, admin):
    root = stored_user(site, ADMIN).id
    text = admin.get(f"/admin/users/{root}").text
    assert PASSWORD not in text and "pbkdf2" not in text
    assert 'name="password" type="password" value=""' in text


NASTY = ["", "-", "0", "-1", "1e9", "99999999999999999999", "x" * 300, "é✓", "%", "'; --",
         "<script>", "a\x01b", "NaN", " ", "[]", "1.5"]
LISTS = {"/admin/users": ["q", "role", "active", "sort", "page"],
         "/admin/suppliers": ["q", "has_items", "sort", "page"],
         "/admin/items": ["q", "category", "available", "supplier", "sort", "page"],
         "/admin/orders": ["q", "status", "period", "sort", "page"],
         "/admin/audit": ["q", "event", "period", "sort", "page"]}


def test_no_query_string_breaks_a_list(site, admin, one_of_each):
    for path, params in LISTS.items():
        for param in params:
            for value in NASTY:
                for url in (path, path + ".csv"):
                    response = admin.get(url, query_string={param: value})
                    assert response.status_code in (200, 400, 404), (url, param, value)
                    if response.status_code == 200 and url.endswith(".csv"):
                        assert response.text.startswith("id,")


def test_no_form_input_breaks_a_form(site, admin, one_of_each):
    forms = {"/admin/users/new": ["email", "display_name", "role", "active", "password",
                                  "confirm"],
             "/admin/users/{user}": ["email", "display_name", "role", "active", "password"],
             "/admin/suppliers/new": ["name", "email", "phone", "notes"],
             "/admin/items/{item}": ["name", "category", "price", "supplier_id", "available"],
             "/admin/orders/{order}": ["status", "seen"],
             "/admin/orders/new": ["email", "key", "lines-0-item_id", "lines-0-quantity",
                                   "lines-9-quantity"],
             "/admin/users/bulk": ["action", "ids", "next"],
             "/admin/items/bulk": ["action", "ids", "next"],
             "/admin/suppliers/{supplier}/delete": ["detach"]}
    token = csrf_token(admin, "/admin/users/new")
    with site.app_context():
        before = db.session.scalar(select(func.count()).select_from(MenuItem))
    for template, fields in forms.items():
        path = template.format(**one_of_each)
        for value in NASTY:
            data = {"csrf_token": token, **{field: value for field in fields}}
            response = admin.post(path, data=data)
            # 404: the supplier was deleted by an earlier (valid) confirmation.
            assert response.status_code in (302, 400, 404, 409), (path, value, response.status_code)
    with site.app_context():  # nothing was lost on the way
        assert db.session.scalar(select(func.count()).select_from(MenuItem)) == before
        assert db.session.scalar(select(func.count()).select_from(User)
                                 .where(User.role == "admin")) == 1
