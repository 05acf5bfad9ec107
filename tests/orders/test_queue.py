"""The staff queue: open orders oldest first, the allowed moves only, conflicts between
staff members, roles, bounded queries (issue items 5, 8 and the queue part of 9)."""

from __future__ import annotations

import re

import pytest

from mypack.extensions import db
from mypack.orders.models import TRANSITIONS, Order
from tests.factories import (
    add_items,
    client_as,
    counted_queries,
    csrf_token,
    login,
    make_user,
    place,
    post_form,
)

_ORDER = re.compile(r'<article[^>]*id="order-(\d+)".*?</article>', re.S)
_MOVE = re.compile(r'name="seen" value="(\w+)">\s*<input type="hidden" name="status" '
                   r'value="(\w+)">')


@pytest.fixture
def menu(site):
    return add_items(site)


@pytest.fixture
def staff(site):
    """A logged-in staff member's client."""
    return client_as(site, "sam@example.com", role="staff")


def set_status(app, order_id, status):
    with app.app_context():
        db.session.get(Order, order_id).status = status
        db.session.commit()


def status_of(app, order_id):
    with app.app_context():
        return db.session.get(Order, order_id).status


def queue_buttons(page) -> dict[int, list[tuple[str, str]]]:
    """``{order id: [(seen, target), ...]}`` from the queue page's forms."""
    return {int(match[1]): _MOVE.findall(match[0]) for match in _ORDER.finditer(page)}


def move(client, order_id, seen, status, **extra):
    return post_form(client, f"/staff/queue/{order_id}", {"seen": seen, "status": status, **extra},
                     token_from="/staff/queue")


# --- the queue ------------------------------------------------------------------------------

def test_the_queue_shows_open_orders_oldest_first_with_allowed_moves(site, menu, staff):
    make_user(site, "ada@example.com", name="Ada")
    make_user(site, "bea@example.com", name="Bea")
    orders = {status: place(site, email, {menu["Espresso"]: n, menu["Croissant"]: 1},
                            f"key-{status}-000000000000")
              for n, (status, email) in enumerate([
                  ("placed", "ada@example.com"), ("preparing", "bea@example.com"),
                  ("ready", "ada@example.com"), ("collected", "bea@example.com"),
                  ("cancelled", "ada@example.com")], start=1)}
    for status, order_id in orders.items():
        set_status(site, order_id, status)

    page = staff.get("/staff/queue")
    assert page.status_code == 200
    buttons = queue_buttons(page.text)
    assert list(buttons) == [orders["placed"], orders["preparing"], orders["ready"]]
    for status in ("placed", "preparing", "ready"):
        assert buttons[orders[status]] == [(status, target) for target in TRANSITIONS[status]]
    first, second, _ = (match[0] for match in _ORDER.finditer(page.text))
    assert "Ada &lt;ada@example.com&gt;" in first
    assert "1 × Espresso" in first and "1 × Croissant" in first and "2.30" in first
    assert "Bea &lt;bea@example.com&gt;" in second and "2 × Espresso" in second


def test_the_queue_is_empty_without_open_orders(site, staff):
    assert "No open orders." in staff.get("/staff/queue").text


@pytest.mark.parametrize("seen, target", [
    (seen, target) for seen, targets in TRANSITIONS.items() for target in targets])
def test_staff_move_an_order_along_the_allowed_transitions(site, menu, staff, seen, target):
    make_user(site, "ada@example.com")
    order_id = place(site, "ada@example.com", {menu["Espresso"]: 1}, "ada-key-0000000000")
    set_status(site, order_id, seen)
    answer = move(staff, order_id, seen, target)
    assert answer.status_code == 302 and answer.location == "/staff/queue"
    assert f"Order {order_id} is {target} now." in staff.get("/staff/queue").text
    assert status_of(site, order_id) == target


def test_a_move_someone_else_made_first_is_a_conflict(site, menu, staff):
    make_user(site, "ada@example.com")
    order_id = place(site, "ada@example.com", {menu["Espresso"]: 1}, "ada-key-0000000000")
    # Two staff members saw it placed; the other one was quicker.
    assert move(staff, order_id, "placed", "preparing").status_code == 302
    set_status(site, order_id, "ready")
    answer = move(staff, order_id, "placed", "preparing")
    assert answer.status_code == 302
    assert f"Order {order_id} is ready now; it was not changed." in staff.get(answer.location).text
    assert status_of(site, order_id) == "ready"


@pytest.mark.parametrize("seen, target, status", [
    # Statuses that exist, a move the transitions do not allow: the order's state
    # machine refuses it (the service's OrderError, a 409 like the API's).
    ("placed", "collected", 409), ("placed", "ready", 409), ("ready", "cancelled", 409),
    ("collected", "placed", 409), ("cancelled", "placed", 409), ("placed", "placed", 409),
    # No such status: the form is malformed.
    ("placed", "brewing", 400), ("brewing", "ready", 400), ("", "preparing", 400),
    ("placed", "", 400), ("placed", "preparing" * 1000, 400), ("PLACED", "preparing", 400),
])
def test_moves_outside_the_transitions_are_refused(site, menu, staff, seen, target, status):
    make_user(site, "ada@example.com")
    order_id = place(site, "ada@example.com", {menu["Espresso"]: 1}, "ada-key-0000000000")
    assert move(staff, order_id, seen, target).status_code == status
    assert status_of(site, order_id) == "placed"


def test_moving_an_unknown_order_is_not_found(site, staff):
    assert move(staff, 999999, "placed", "preparing").status_code == 404


def test_a_move_without_the_csrf_token_is_refused(site, menu, staff):
    make_user(site, "ada@example.com")
    order_id = place(site, "ada@example.com", {menu["Espresso"]: 1}, "ada-key-0000000000")
    answer = staff.post(f"/staff/queue/{order_id}", data={"seen": "placed", "status": "preparing"})
    assert answer.status_code == 400
    assert status_of(site, order_id) == "placed"


# --- who may use the queue ------------------------------------------------------------------

@pytest.mark.parametrize("role, get_status, post_status", [
    (None, 302, 302), ("customer", 403, 403), ("staff", 200, 302), ("admin", 200, 302)])
def test_the_queue_role_matrix(site, menu, role, get_status, post_status):
    make_user(site, "ada@example.com")
    order_id = place(site, "ada@example.com", {menu["Espresso"]: 1}, "ada-key-0000000000")
    client = site.test_client()
    if role:
        make_user(site, "who@example.com", role=role)
        assert login(client, "who@example.com").status_code == 302
    answer = client.get("/staff/queue")
    assert answer.status_code == get_status
    token = csrf_token(client, "/auth/login" if role is None else "/auth/profile")
    answer = client.post(f"/staff/queue/{order_id}",
                         data={"csrf_token": token, "seen": "placed", "status": "preparing"})
    assert answer.status_code == post_status
    if role is None:
        assert answer.location.startswith("/auth/login?next=")
    assert status_of(site, order_id) == ("preparing" if post_status == 302 and role else "placed")


def test_only_staff_see_the_queue_link(site, staff):
    assert 'href="/staff/queue">Queue<' in staff.get("/orders").text
    assert "/staff/queue" not in client_as(site).get("/orders").text


# --- bounded queries (item 9) ---------------------------------------------------------------

def test_the_queue_runs_the_same_queries_for_3_or_40_orders(site, menu, staff):
    counts, placed = [], 0
    for number in (3, 40):
        for n in range(placed, number):
            # A customer of its own for each order: customers load in one query too.
            email = f"c{n}@example.com"
            make_user(site, email, name=f"C{n}")
            place(site, email, {menu["Espresso"]: 1, menu["Earl Grey"]: 2}, f"key-{n:014d}")
        placed = number
        with counted_queries(site) as statements:
            page = staff.get("/staff/queue")
        assert page.status_code == 200 and len(queue_buttons(page.text)) == number
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 5
