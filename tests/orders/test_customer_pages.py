"""The customer's order pages: choose, review, confirm, list, view, cancel (issue items 3,
5, 8 and the order-list part of 9)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from mypack.extensions import db
from mypack.menu.models import MenuItem
from mypack.orders.models import Order, OrderLine
from tests.factories import (
    add_items,
    client_as,
    count,
    counted_queries,
    csrf_token,
    make_user,
    place,
    post_form,
)

_CONFIRM_FORM = re.compile(r'<form[^>]*action="/orders/confirm".*?</form>', re.S)
_FIELD = re.compile(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"')


def row_counts(app) -> tuple[int, int]:
    return count(app, Order), count(app, OrderLine)


def quantity_fields(quantities: dict[int, int | str]) -> dict[str, str]:
    return {f"qty-{item_id}": str(quantity) for item_id, quantity in quantities.items()}


def review(client, quantities: dict[int, int | str]):
    """Post the order page's form: the review (or the form again, with errors)."""
    return post_form(client, "/orders/new", quantity_fields(quantities))


def confirm_fields(review_page) -> dict[str, str]:
    """The hidden fields of the review's Confirm form, as the browser would send them."""
    form = _CONFIRM_FORM.search(review_page.text)
    assert form, "no Confirm form on the page"
    return dict(_FIELD.findall(form[0]))


# --- the whole flow, on every backend -------------------------------------------------------

def test_order_review_confirm_view_list_cancel(migrated_app):
    ids = add_items(migrated_app)
    client = client_as(migrated_app)

    page = client.get("/orders/new")
    assert page.status_code == 200
    assert [m for m in ("Coffee", "Tea", "Food") if f"<legend>{m}</legend>" in page.text] == \
        ["Coffee", "Tea", "Food"]
    assert f'name="qty-{ids["Flat white"]}"' in page.text and 'value="0"' in page.text
    assert "Cold brew" not in page.text  # unavailable

    reviewed = review(client, {ids["Flat white"]: 2, ids["Croissant"]: 3, ids["Espresso"]: 0})
    assert reviewed.status_code == 200
    assert "Review your order" in reviewed.text
    assert "6.40" in reviewed.text and "0.30" in reviewed.text and "6.70" in reviewed.text
    assert "Espresso" not in reviewed.text.split("<main", 1)[1]
    assert row_counts(migrated_app) == (0, 0)  # the review places nothing

    fields = confirm_fields(reviewed)
    confirmed = client.post("/orders/confirm", data=fields)
    assert confirmed.status_code == 302
    order_url = confirmed.location
    assert re.fullmatch(r"/orders/\d+", order_url)
    # Resubmitting the same confirmation (a double click, a reload) lands on the same order.
    again = client.post("/orders/confirm", data=fields)
    assert again.status_code == 302 and again.location == order_url
    assert row_counts(migrated_app) == (1, 2)

    shown = client.get(order_url)
    assert shown.status_code == 200
    assert "placed" in shown.text and "Flat white" in shown.text and "Croissant" in shown.text
    assert "3.20" in shown.text and "0.10" in shown.text and "6.70" in shown.text
    listed = client.get("/orders")
    assert listed.status_code == 200
    assert f'href="{order_url}"' in listed.text
    assert "6.70" in listed.text and "placed" in listed.text

    cancelled = post_form(client, f"{order_url}/cancel", {}, token_from=order_url)
    assert cancelled.status_code == 302 and cancelled.location == order_url
    shown = client.get(order_url)
    assert "is cancelled" in shown.text and "Cancel this order" not in shown.text
    with migrated_app.app_context():
        order = db.session.scalar(select(Order))
        assert order.status == "cancelled" and order.total == Decimal("6.70")


def test_the_price_is_the_one_at_ordering_time(migrated_app):
    ids = add_items(migrated_app)
    client = client_as(migrated_app)
    confirmed = client.post("/orders/confirm", data=confirm_fields(
        review(client, {ids["Flat white"]: 3, ids["Croissant"]: 7})))
    order_url = confirmed.location

    with migrated_app.app_context():
        db.session.get(MenuItem, ids["Flat white"]).price = Decimal("4.50")
        db.session.commit()

    shown = client.get(order_url).text
    assert "3.20" in shown and "9.60" in shown and "10.30" in shown and "4.50" not in shown
    with migrated_app.app_context():
        order = db.session.scalar(select(Order))
        assert order.total == Decimal("10.30")  # exact: 9.60 + 0.70, no float drift
        assert [(line.unit_price, line.quantity, line.subtotal) for line in order.lines] == [
            (Decimal("3.20"), 3, Decimal("9.60")), (Decimal("0.10"), 7, Decimal("0.70"))]


def test_the_review_shows_todays_price(site):
    ids = add_items(site)
    client = client_as(site)
    reviewed = review(client, {ids["Flat white"]: 1})
    with site.app_context():
        db.session.get(MenuItem, ids["Flat white"]).price = Decimal("3.50")
        db.session.commit()
    client.post("/orders/confirm", data=confirm_fields(reviewed))
    with site.app_context():
        # The price is read from the database when the order is placed, not the page.
        assert db.session.scalar(select(Order.total)) == Decimal("3.50")


# --- whose order ----------------------------------------------------------------------------

def test_another_customers_order_is_not_found(site):
    ids = add_items(site)
    make_user(site, "bea@example.com", name="Bea")
    theirs = place(site, "bea@example.com", {ids["Espresso"]: 1}, "bea-key-0000000000")
    client = client_as(site)

    assert client.get(f"/orders/{theirs}").status_code == 404
    assert client.get("/orders/999999").status_code == 404
    cancel = post_form(client, f"/orders/{theirs}/cancel", {}, token_from="/orders/new")
    assert cancel.status_code == 404
    assert f"/orders/{theirs}" not in client.get("/orders").text
    with site.app_context():
        assert db.session.get(Order, theirs).status == "placed"


@pytest.mark.parametrize("status", ["preparing", "ready", "collected", "cancelled"])
def test_an_order_can_be_cancelled_only_while_placed(site, status):
    ids = add_items(site)
    client = client_as(site)
    order_id = place(site, "ada@example.com", {ids["Espresso"]: 1}, "ada-key-0000000000")
    with site.app_context():
        db.session.get(Order, order_id).status = status
        db.session.commit()

    page = client.get(f"/orders/{order_id}")
    assert "Cancel this order" not in page.text
    answer = post_form(client, f"/orders/{order_id}/cancel", {}, token_from="/orders/new")
    assert answer.status_code == 302
    shown = client.get(answer.location).text
    assert f"Order {order_id} is {status} now; it was not changed." in shown
    assert "Only an order that is still placed can be cancelled." in shown
    with site.app_context():
        assert db.session.get(Order, order_id).status == status


# --- who may see the pages ------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("get", "/orders"), ("get", "/orders/new"), ("get", "/orders/1"),
    ("post", "/orders/new"), ("post", "/orders/confirm"), ("post", "/orders/1/cancel"),
])
def test_customer_pages_need_a_login(site, method, path):
    client = site.test_client()
    if method == "get":
        answer = client.get(path)
    else:
        answer = post_form(client, path, {}, token_from="/auth/login")
    assert answer.status_code == 302
    assert answer.location.startswith("/auth/login?next=")
    assert row_counts(site) == (0, 0)


def test_the_navigation_links_to_the_order_pages(site):
    anonymous = site.test_client().get("/auth/login").text
    assert 'href="/orders"' not in anonymous and 'href="/orders/new"' not in anonymous
    page = client_as(site).get("/orders").text
    assert 'href="/orders/new">Order<' in page and 'href="/orders">My orders<' in page
    assert "/staff/queue" not in page


# --- bad input (item 8) ---------------------------------------------------------------------

BAD_QUANTITIES = [
    ("abc", "Quantities are whole numbers from 0 to 50."),
    ("-1", "Quantities are whole numbers from 0 to 50."),
    ("51", "Quantities are whole numbers from 0 to 50."),
    ("1.5", "Quantities are whole numbers from 0 to 50."),
    ("1e1", "Quantities are whole numbers from 0 to 50."),
    ("99999999999999999999999", "Quantities are whole numbers from 0 to 50."),
    ("٣", "Quantities are whole numbers from 0 to 50."),  # a digit, but not 0-9
    ("1" * 10_000, "Quantities are whole numbers from 0 to 50."),
    ("0", "Choose at least one item."),
    ("", "Choose at least one item."),
]


@pytest.mark.parametrize("quantity, message", BAD_QUANTITIES)
def test_bad_quantities_are_refused_at_review(site, quantity, message):
    ids = add_items(site)
    client = client_as(site)
    answer = review(client, {ids["Flat white"]: quantity, ids["Espresso"]: 0})
    assert answer.status_code == 400
    assert message in answer.text
    assert "<legend>Coffee</legend>" in answer.text  # the choice again, to correct
    assert "1" * 100 not in answer.text  # an oversized value is not echoed back


@pytest.mark.parametrize("quantity, message", BAD_QUANTITIES)
def test_bad_quantities_are_refused_at_confirmation(site, quantity, message):
    ids = add_items(site)
    client = client_as(site)
    fields = confirm_fields(review(client, {ids["Flat white"]: 1}))
    answer = client.post("/orders/confirm",
                         data={**fields, f"qty-{ids['Flat white']}": quantity})
    assert answer.status_code == 400 and message in answer.text
    assert row_counts(site) == (0, 0)


@pytest.mark.parametrize("fields, message", [
    ({"qty-999999": "1"}, "Unknown item(s): 999999."),
    ({"qty-0": "1"}, "Quantities are whole numbers"),
    ({"qty-abc": "1"}, "Quantities are whole numbers"),
    ({"qty-99999999999999999999": "1"}, "Quantities are whole numbers"),
    ({"qty-COLD": "1"}, "Not available any more: Cold brew."),
])
def test_unknown_and_unavailable_items_are_refused(site, fields, message):
    ids = add_items(site)
    fields = {name.replace("COLD", str(ids["Cold brew"])): value for name, value in fields.items()}
    client = client_as(site)
    answer = post_form(client, "/orders/new", {f"qty-{ids['Espresso']}": "1", **fields})
    assert answer.status_code == 400 and message in answer.text

    confirm = confirm_fields(review(client, {ids["Espresso"]: 1}))
    answer = client.post("/orders/confirm", data={**confirm, **fields})
    # The review and the confirmation check the order alike, in the same words.
    assert answer.status_code == 400 and message in answer.text
    assert row_counts(site) == (0, 0)


def test_an_order_holds_at_most_30_different_items(site):
    ids = add_items(site, [(f"Item {n}", "food", "1.00", True) for n in range(31)])
    client = client_as(site)
    answer = review(client, dict.fromkeys(ids.values(), 1))
    assert answer.status_code == 400 and "at most 30 different items" in answer.text
    fields = confirm_fields(review(client, {ids["Item 0"]: 1}))
    answer = client.post("/orders/confirm",
                         data={**fields, **quantity_fields(dict.fromkeys(ids.values(), 1))})
    assert answer.status_code == 400
    assert row_counts(site) == (0, 0)


def test_a_field_sent_twice_is_refused(site):
    ids = add_items(site)
    client = client_as(site)
    name = f"qty-{ids['Espresso']}"
    answer = client.post("/orders/new", data={"csrf_token": csrf_token(client, "/orders/new"),
                                              name: ["1", "50"]})
    assert answer.status_code == 400 and "Quantities are whole numbers" in answer.text


def test_confirmation_revalidates_tampered_quantities(site):
    ids = add_items(site)
    client = client_as(site)
    fields = confirm_fields(review(client, {ids["Espresso"]: 1}))
    # Changed between review and confirmation: the service places what was sent, checked
    # and priced from the database, never a total the page carried.
    fields.update({f"qty-{ids['Espresso']}": "4", f"qty-{ids['Earl Grey']}": "2"})
    answer = client.post("/orders/confirm", data=fields)
    assert answer.status_code == 302
    with site.app_context():
        order = db.session.scalar(select(Order))
        assert order.total == Decimal("13.60")  # 4 x 2.20 + 2 x 2.40
        assert [(line.item_id, line.quantity) for line in order.lines] == [
            (ids["Espresso"], 4), (ids["Earl Grey"], 2)]


def test_an_item_unavailable_since_the_review_is_refused(site):
    ids = add_items(site)
    client = client_as(site)
    fields = confirm_fields(review(client, {ids["Espresso"]: 1, ids["Flat white"]: 1}))
    with site.app_context():
        db.session.get(MenuItem, ids["Flat white"]).available = False
        db.session.commit()
    answer = client.post("/orders/confirm", data=fields)
    assert answer.status_code == 400 and "Not available any more: Flat white." in answer.text
    assert row_counts(site) == (0, 0)


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has spaces in it 0123", "ö" * 20])
def test_a_bad_submission_key_is_refused(site, key):
    ids = add_items(site)
    client = client_as(site)
    fields = confirm_fields(review(client, {ids["Espresso"]: 1}))
    answer = client.post("/orders/confirm", data={**fields, "submission_key": key})
    assert answer.status_code == 400
    assert row_counts(site) == (0, 0)


def test_another_customers_submission_key_places_nothing(site):
    ids = add_items(site)
    make_user(site, "bea@example.com", name="Bea")
    place(site, "bea@example.com", {ids["Espresso"]: 1}, "bea-key-0000000000")
    client = client_as(site)
    fields = confirm_fields(review(client, {ids["Flat white"]: 1}))
    answer = client.post("/orders/confirm", data={**fields, "submission_key": "bea-key-0000000000"})
    assert answer.status_code == 400
    assert row_counts(site) == (1, 1)


@pytest.mark.parametrize("path", ["/orders/new", "/orders/confirm", "/orders/{id}/cancel"])
def test_posts_without_the_csrf_token_are_refused(site, path):
    ids = add_items(site)
    client = client_as(site)
    order_id = place(site, "ada@example.com", {ids["Espresso"]: 1}, "ada-key-0000000000")
    fields = confirm_fields(review(client, {ids["Espresso"]: 2}))
    del fields["csrf_token"]
    answer = client.post(path.format(id=order_id), data=fields)
    assert answer.status_code == 400
    assert row_counts(site) == (1, 1)
    with site.app_context():
        assert db.session.get(Order, order_id).status == "placed"


def test_the_review_change_button_keeps_the_quantities(site):
    ids = add_items(site)
    client = client_as(site)
    fields = confirm_fields(review(client, {ids["Espresso"]: 3}))
    answer = client.post("/orders/new", data={**fields, "change": "1"})
    assert answer.status_code == 200
    assert re.search(rf'name="qty-{ids["Espresso"]}"[^>]*value="3"', answer.text)
    assert row_counts(site) == (0, 0)


# --- bounded queries (item 9) ---------------------------------------------------------------

def _page_queries(app, client, path) -> int:
    with counted_queries(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_the_order_list_runs_the_same_queries_for_3_or_40_orders(site):
    ids = add_items(site)
    client = client_as(site)
    counts = []
    for number in (3, 40):
        for n in range(count(site, Order), number):
            place(site, "ada@example.com", {ids["Espresso"]: 1, ids["Croissant"]: 2},
                  f"ada-key-{n:012d}")
        counts.append(_page_queries(site, client, "/orders"))
    assert counts[0] == counts[1] <= 3


def test_the_order_page_runs_the_same_queries_for_1_or_25_lines(site):
    menu = [(f"Item {n}", "food", "1.00", True) for n in range(25)]
    ids = list(add_items(site, menu).values())
    client = client_as(site)
    small = place(site, "ada@example.com", {ids[0]: 1}, "ada-key-000000000001")
    large = place(site, "ada@example.com", dict.fromkeys(ids, 2), "ada-key-000000000002")
    counts = [_page_queries(site, client, f"/orders/{order_id}") for order_id in (small, large)]
    assert counts[0] == counts[1] <= 4
