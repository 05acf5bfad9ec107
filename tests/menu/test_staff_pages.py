"""The staff pages for items and suppliers: who may open them, the forms and what they
refuse, deletes with their confirmations and the rules that protect orders (issue
items 4 and 9)."""

from __future__ import annotations

import io
import logging
from decimal import Decimal

import pytest
from sqlalchemy import select

from mypack.extensions import db
from mypack.menu import service
from mypack.menu.models import MenuItem, Supplier
from mypack.orders.models import OrderLine
from tests.factories import (
    ITEM,
    PRICES_REFUSED,
    SUPPLIER,
    add_items,
    add_supplier,
    client_as,
    count,
    counted_queries,
    csrf_token,
    many_items,
    post_form,
    put_on_order,
)

SAM = "sam@example.com"


def staff(app, role="staff"):
    """A logged-in client of Sam, a new staff member (or of ``role``)."""
    return client_as(app, SAM, role)


def first_answer(answer, real):
    """``real``, except that its first call returns ``answer``: a check that ran just
    before a concurrent change (the tests cannot time a real race)."""
    calls = []

    def answer_once(*args):
        calls.append(args)
        return answer if len(calls) == 1 else real(*args)
    return answer_once


def items(app) -> list[MenuItem]:
    with app.app_context():
        return list(db.session.scalars(select(MenuItem).order_by(MenuItem.id)))


def suppliers(app) -> list[Supplier]:
    with app.app_context():
        return list(db.session.scalars(select(Supplier).order_by(Supplier.id)))


# --- who may open the pages ---------------------------------------------------------------

STAFF_PAGES = [
    "/staff/items", "/staff/items?page=1", "/staff/items/new", "/staff/items/{item}/edit",
    "/staff/items/{item}/delete", "/staff/suppliers", "/staff/suppliers/new",
    "/staff/suppliers/{supplier}/edit", "/staff/suppliers/{supplier}/delete",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
@pytest.mark.parametrize("who, status", [
    (None, 302), ("customer", 403), ("staff", 200), ("admin", 200),
])
def test_role_matrix(site, path, who, status):
    supplier_id = add_supplier(site, items=["Espresso"])
    item_id = items(site)[0].id
    client = staff(site, role=who) if who else site.test_client()
    response = client.get(path.format(item=item_id, supplier=supplier_id))
    assert response.status_code == status
    if who is None:
        assert response.location.startswith("/auth/login?next=/staff/")


@pytest.mark.parametrize("path", [
    "/staff/items/new", "/staff/items/{item}/edit", "/staff/items/{item}/delete",
    "/staff/items/{item}/unavailable", "/staff/suppliers/new",
    "/staff/suppliers/{supplier}/edit", "/staff/suppliers/{supplier}/delete",
])
@pytest.mark.parametrize("who", [None, "customer"])
def test_posts_need_the_staff_role_too(site, path, who):
    supplier_id = add_supplier(site, items=["Espresso"])
    item_id = items(site)[0].id
    client = staff(site, role=who) if who else site.test_client()
    # A valid CSRF token (from a page they can open): the role check is what refuses.
    response = post_form(client, path.format(item=item_id, supplier=supplier_id),
                         {**ITEM, **SUPPLIER, "detach": "y"},
                         token_from="/auth/profile" if who else "/auth/login")
    assert response.status_code == (302 if who is None else 403)
    assert [(i.name, i.available) for i in items(site)] == [("Espresso", True)]
    assert [s.name for s in suppliers(site)] == ["Northside Roasters"]


# --- items: the happy paths ---------------------------------------------------------------

def test_create_an_item(site):
    supplier_id = add_supplier(site)
    client = staff(site)
    response = post_form(client, "/staff/items/new", {**ITEM, "supplier_id": str(supplier_id)})
    assert response.status_code == 302 and response.location == "/staff/items"
    (item,) = items(site)
    assert (item.name, item.category, item.price, item.description, item.supplier_id,
            item.available) == ("Flat white", "coffee", Decimal("3.20"),
                                "Double shot, velvety milk.", supplier_id, True)
    page = client.get("/staff/items").text
    assert "Item added: Flat white." in page
    assert "Northside Roasters" in page and "€3.20" in page


def test_the_new_item_form(site):
    add_supplier(site)
    page = staff(site).get("/staff/items/new").text
    assert '<option selected value="">(none)</option>' in page
    assert "Northside Roasters</option>" in page
    assert 'name="available" type="checkbox" value="y"' in page and "checked" in page


def test_edit_an_item(site):
    ids = add_items(site, [("Latte", "coffee", "3.10", True)])
    client = staff(site)
    form = client.get(f"/staff/items/{ids['Latte']}/edit").text
    assert 'value="3.10"' in form and 'value="Latte"' in form
    response = post_form(client, f"/staff/items/{ids['Latte']}/edit",
                         {**ITEM, "name": "Oat latte", "price": "3.5", "available": ""})
    assert response.status_code == 302
    (item,) = items(site)
    assert (item.name, item.price, item.available) == ("Oat latte", Decimal("3.50"), False)
    assert "Item saved: Oat latte." in client.get("/staff/items").text


def test_the_staff_item_list_has_pages(site):
    add_items(site, many_items(60))
    client = staff(site)
    assert 'href="/staff/items?page=2"' in client.get("/staff/items").text
    assert client.get("/staff/items?page=2").text.count("/edit") == 10
    assert client.get("/staff/items?page=3").status_code == 404
    assert client.get("/staff/items?page=two").status_code == 400


def test_delete_an_item_after_confirming(site):
    ids = add_items(site, [("Latte", "coffee", "3.10", True)])
    client = staff(site)
    confirm = client.get(f"/staff/items/{ids['Latte']}/delete")
    assert confirm.status_code == 200
    assert "Delete Latte?" in confirm.text and 'method="post"' in confirm.text
    assert count(site, MenuItem) == 1  # the GET deleted nothing
    response = post_form(client, f"/staff/items/{ids['Latte']}/delete", {})
    assert response.status_code == 302 and response.location == "/staff/items"
    assert count(site, MenuItem) == 0
    assert "Item deleted: Latte." in client.get("/staff/items").text


@pytest.mark.parametrize("path", ["/staff/items/999/edit", "/staff/items/999/delete",
                                  "/staff/suppliers/999/edit", "/staff/suppliers/999/delete"])
def test_unknown_rows_are_404(site, path):
    assert staff(site).get(path).status_code == 404


# --- items: what the form refuses ---------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("price", "abc", "Enter a price such as 3.20."),
    ("price", "-1", "The price cannot be negative."),
    ("price", "-0.01", "The price cannot be negative."),
    ("price", "10000", "The price must be below 10000."),
    ("price", "9" * 20, "The price must be below 10000."),
    ("price", "9" * 30, "Enter a price such as 3.20."),
    ("price", "1e3", "Enter a price such as 3.20."),
    ("price", "NaN", "Enter a price such as 3.20."),
    ("price", "Infinity", "Enter a price such as 3.20."),
    ("price", "3.105", "A price has at most two decimal places."),
    ("price", "3,20", "Enter a price such as 3.20."),
    ("price", "1_000", "Enter a price such as 3.20."),
    ("price", "", "Enter a price."),
    ("price", "   ", "Enter a price."),
    ("name", "", "This field is required."),
    ("name", "   ", "This field is required."),
    ("name", "x" * 101, "Field cannot be longer than 100 characters."),
    ("description", "x" * 2001, "Field cannot be longer than 2000 characters."),
    ("category", "cake", "Not a valid choice."),
    ("category", "", "Not a valid choice."),
    ("supplier_id", "999", "Not a valid choice."),
    ("supplier_id", "abc", "Invalid Choice: could not coerce."),
    ("supplier_id", "1 OR 1=1", "Invalid Choice: could not coerce."),
])
def test_bad_item_input_is_a_form_error(site, field, value, message):
    add_supplier(site)
    client = staff(site)
    response = post_form(client, "/staff/items/new", {**ITEM, field: value})
    assert response.status_code == 400
    assert response.text.count(message) == 1
    assert count(site, MenuItem) == 0



@pytest.mark.parametrize("price", PRICES_REFUSED)
def test_the_form_refuses_every_price_the_api_refuses(site, price):
    # One pattern for both (mypack.menu.prices): what the API refuses, the page refuses.
    response = post_form(staff(site), "/staff/items/new", {**ITEM, "price": price})
    assert response.status_code == 400
    assert count(site, MenuItem) == 0


@pytest.mark.parametrize("path, field", [
    *(("/staff/items/new", field) for field in ITEM),
    *(("/staff/suppliers/new", field) for field in SUPPLIER),
])
def test_a_field_sent_as_a_file_part_is_a_400(site, caplog, path, field):
    client = staff(site)
    data = {"csrf_token": csrf_token(client, path), **(ITEM if "items" in path else SUPPLIER)}
    data[field] = (io.BytesIO(data[field].encode()), "field.txt")
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert count(site, MenuItem) == 0 and count(site, Supplier) == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

@pytest.mark.parametrize("field", ["name", "category", "price"])
def test_a_missing_field_is_a_form_error(site, field):
    data = {name: value for name, value in ITEM.items() if name != field}
    response = post_form(staff(site), "/staff/items/new", data)
    assert response.status_code == 400
    assert count(site, MenuItem) == 0


@pytest.mark.parametrize("path, field", [
    ("/staff/items/new", "name"), ("/staff/items/new", "description"),
    ("/staff/suppliers/new", "name"), ("/staff/suppliers/new", "email"),
    ("/staff/suppliers/new", "phone"), ("/staff/suppliers/new", "notes"),
])
@pytest.mark.parametrize("char", ["\x01", "\x9b"])  # C0 and C1 (CSI)
def test_control_characters_are_a_form_error(migrated_app, path, field, char):
    # Control characters are a form error on every backend, never a 500 (NUL, which
    # PostgreSQL refuses outright, is turned away for every request, see
    # tests/auth/test_lockout.py::test_nul_characters_are_a_400_not_a_500).
    value = f"a@b.example{char}" if field == "email" else f"Oat{char}milk"
    response = post_form(staff(migrated_app), path, {**ITEM, **SUPPLIER, field: value})
    assert response.status_code == 400
    assert "Remove the control characters." in response.text
    assert count(migrated_app, MenuItem) == 0 and count(migrated_app, Supplier) == 0


def test_descriptions_and_notes_may_have_line_breaks(site):
    client = staff(site)
    text = "Line one.\r\n\tLine two."
    assert post_form(client, "/staff/items/new", {**ITEM, "description": text}).status_code == 302
    assert post_form(client, "/staff/suppliers/new", {**SUPPLIER, "notes": text}).status_code == 302
    assert items(site)[0].description == text and suppliers(site)[0].notes == text


def test_a_bad_edit_changes_nothing(site):
    ids = add_items(site, [("Latte", "coffee", "3.10", True)])
    response = post_form(staff(site), f"/staff/items/{ids['Latte']}/edit",
                         {**ITEM, "price": "-3"})
    assert response.status_code == 400
    assert 'value="-3"' in response.text  # the form shows what was typed
    (item,) = items(site)
    assert (item.name, item.price) == ("Latte", Decimal("3.10"))


@pytest.mark.parametrize("path", ["/staff/items/new", "/staff/suppliers/new"])
def test_a_post_without_csrf_token_is_400(site, path):
    client = staff(site)
    response = client.post(path, data={**ITEM, **SUPPLIER})
    assert response.status_code == 400
    assert count(site, MenuItem) == 0 and count(site, Supplier) == 0


def test_a_delete_without_csrf_token_is_400(site):
    ids = add_items(site, [("Latte", "coffee", "3.10", True)])
    assert staff(site).post(f"/staff/items/{ids['Latte']}/delete").status_code == 400
    assert count(site, MenuItem) == 1


PRICES = ["3.10", "0.05", "0", "9999.99", "1234.5", "0.5", "007.70", "0.00"]


def test_prices_stay_exact_decimals(migrated_app):
    client = staff(migrated_app)
    for n, price in enumerate(PRICES):
        response = post_form(client, "/staff/items/new", {**ITEM, "name": f"Item {n}",
                                                          "price": price})
        assert response.status_code == 302, price
    stored = [item.price for item in items(migrated_app)]
    assert stored == [Decimal(p).quantize(Decimal("0.01")) for p in PRICES]
    assert [str(price) for price in stored] == ["3.10", "0.05", "0.00", "9999.99", "1234.50",
                                                "0.50", "7.70", "0.00"]
    assert all(isinstance(price, Decimal) for price in stored)


# --- items on orders ----------------------------------------------------------------------

def test_an_item_on_an_order_cannot_be_deleted(migrated_app):
    ids = add_items(migrated_app, [("Latte", "coffee", "3.10", True)])
    put_on_order(migrated_app, ids["Latte"])
    client = staff(migrated_app)
    confirm = client.get(f"/staff/items/{ids['Latte']}/delete")
    assert "Latte cannot be deleted: it is on 1 order," in " ".join(confirm.text.split())
    assert "Mark not available" in confirm.text
    assert f'action="/staff/items/{ids["Latte"]}/delete"' not in confirm.text
    # A delete posted anyway (an old page, a crafted form) is refused the same way.
    refused = post_form(client, f"/staff/items/{ids['Latte']}/delete", {})
    assert refused.status_code == 409
    assert "cannot be deleted" in refused.text
    assert count(migrated_app, MenuItem) == 1 and count(migrated_app, OrderLine) == 1


def test_mark_an_item_on_an_order_unavailable_instead(migrated_app):
    ids = add_items(migrated_app, [("Latte", "coffee", "3.10", True)])
    put_on_order(migrated_app, ids["Latte"])
    client = staff(migrated_app)
    response = post_form(client, f"/staff/items/{ids['Latte']}/unavailable", {},
                         token_from=f"/staff/items/{ids['Latte']}/delete")
    assert response.status_code == 302
    assert "Latte is marked not available." in client.get("/staff/items").text
    assert [(i.name, i.available) for i in items(migrated_app)] == [("Latte", False)]
    assert count(migrated_app, OrderLine) == 1
    assert "already marked not available" in client.get(
        f"/staff/items/{ids['Latte']}/delete").text


def test_an_order_placed_during_the_delete_is_caught_by_the_foreign_key(migrated_app,
                                                                        monkeypatch):
    ids = add_items(migrated_app, [("Latte", "coffee", "3.10", True)])
    put_on_order(migrated_app, ids["Latte"])
    client = staff(migrated_app)
    token_page = f"/staff/items/{ids['Latte']}/delete"
    # As if the order came in between the check and the delete: the check sees none.
    monkeypatch.setattr(service, "orders_with_item", first_answer(0, service.orders_with_item))
    response = post_form(client, token_page, {})
    assert response.status_code == 409
    assert "cannot be deleted: it is on 1" in response.text
    assert count(migrated_app, MenuItem) == 1 and count(migrated_app, OrderLine) == 1


# --- suppliers ----------------------------------------------------------------------------

def test_create_edit_and_list_suppliers(site):
    client = staff(site)
    assert post_form(client, "/staff/suppliers/new", SUPPLIER).status_code == 302
    (supplier,) = suppliers(site)
    assert (supplier.name, supplier.email, supplier.phone, supplier.notes) == tuple(
        SUPPLIER.values())
    add_items(site, [("Espresso", "coffee", "2.20", True)])
    post_form(client, f"/staff/items/{items(site)[0].id}/edit",
              {**ITEM, "name": "Espresso", "supplier_id": str(supplier.id)})
    response = post_form(client, f"/staff/suppliers/{supplier.id}/edit",
                         {**SUPPLIER, "name": "Northside", "email": ""})
    assert response.status_code == 302 and response.location == "/staff/suppliers"
    page = client.get("/staff/suppliers").text
    assert "Supplier saved: Northside." in page
    assert '<td class="num">1</td>' in page  # its items
    (supplier,) = suppliers(site)
    assert (supplier.name, supplier.email) == ("Northside", "")


def test_a_supplier_keeps_its_own_name_when_edited(site):
    supplier_id = add_supplier(site)
    response = post_form(staff(site), f"/staff/suppliers/{supplier_id}/edit",
                         {**SUPPLIER, "notes": "New notes."})
    assert response.status_code == 302


@pytest.mark.parametrize("field, value, message", [
    ("name", "", "This field is required."),
    ("name", "x" * 101, "Field cannot be longer than 100 characters."),
    ("email", "not-an-email", "Enter an email address."),
    ("email", "a@b.c" + "x" * 250, "Field cannot be longer than 254 characters."),
    ("phone", "1" * 41, "Field cannot be longer than 40 characters."),
    ("notes", "x" * 2001, "Field cannot be longer than 2000 characters."),
])
def test_bad_supplier_input_is_a_form_error(site, field, value, message):
    response = post_form(staff(site), "/staff/suppliers/new", {**SUPPLIER, field: value})
    assert response.status_code == 400
    assert message in response.text
    assert count(site, Supplier) == 0


@pytest.mark.parametrize("name", ["Northside Roasters", "NORTHSIDE ROASTERS",
                                  "  Northside Roasters  "])
def test_supplier_names_are_unique(migrated_app, name):
    add_supplier(migrated_app)
    response = post_form(staff(migrated_app), "/staff/suppliers/new", {**SUPPLIER, "name": name})
    assert response.status_code == 400
    assert "Another supplier has this name." in response.text
    assert count(migrated_app, Supplier) == 1


def test_renaming_to_a_taken_name_is_refused(migrated_app):
    add_supplier(migrated_app)
    other = add_supplier(migrated_app, "Crumb Bakery")
    response = post_form(staff(migrated_app), f"/staff/suppliers/{other}/edit",
                         {**SUPPLIER, "name": "northside roasters"})
    assert response.status_code == 400
    assert sorted(s.name for s in suppliers(migrated_app)) == ["Crumb Bakery",
                                                               "Northside Roasters"]


def test_a_name_saved_meanwhile_is_caught_by_the_unique_index(migrated_app, monkeypatch):
    add_supplier(migrated_app)
    client = staff(migrated_app)
    # As if another request saved the name between the form's check and the commit.
    monkeypatch.setattr(service, "supplier_name_taken", lambda name, supplier=None: False)
    response = post_form(client, "/staff/suppliers/new", SUPPLIER)
    assert response.status_code == 400
    assert "Another supplier has this name." in response.text
    assert count(migrated_app, Supplier) == 1


def test_names_the_collation_equates_are_a_form_error_too(migrated_app, backend):
    add_supplier(migrated_app, "Café Supplies")
    response = post_form(staff(migrated_app), "/staff/suppliers/new",
                         {**SUPPLIER, "name": "Cafe Supplies"})
    # MySQL's utf8mb4_unicode_ci makes the two names equal; the others keep both.
    assert response.status_code == (400 if backend == "mysql" else 302)
    assert count(migrated_app, Supplier) == (1 if backend == "mysql" else 2)


def test_delete_a_supplier_without_items(migrated_app):
    supplier_id = add_supplier(migrated_app)
    client = staff(migrated_app)
    confirm = client.get(f"/staff/suppliers/{supplier_id}/delete")
    assert "supplies no items" in confirm.text
    assert count(migrated_app, Supplier) == 1
    response = post_form(client, f"/staff/suppliers/{supplier_id}/delete", {})
    assert response.status_code == 302 and response.location == "/staff/suppliers"
    assert count(migrated_app, Supplier) == 0
    assert "Supplier deleted: Northside Roasters." in client.get("/staff/suppliers").text


def test_a_supplier_with_items_offers_the_choice(migrated_app):
    supplier_id = add_supplier(migrated_app, items=["Espresso", "Latte"])
    confirm = staff(migrated_app).get(f"/staff/suppliers/{supplier_id}/delete")
    assert confirm.status_code == 200
    assert "supplies 2 items" in confirm.text
    assert ">Espresso</a>" in confirm.text and ">Latte</a>" in confirm.text
    assert 'name="detach" value="y"' in confirm.text
    assert "Keep the supplier" in confirm.text


def test_a_supplier_with_items_is_kept_unless_asked_to_detach_them(migrated_app):
    supplier_id = add_supplier(migrated_app, items=["Espresso", "Latte"])
    response = post_form(staff(migrated_app), f"/staff/suppliers/{supplier_id}/delete", {})
    assert response.status_code == 409
    assert "was not deleted: it has items" in response.text
    assert count(migrated_app, Supplier) == 1
    assert [i.supplier_id for i in items(migrated_app)] == [supplier_id, supplier_id]


def test_delete_a_supplier_and_leave_its_items_without_one(migrated_app):
    supplier_id = add_supplier(migrated_app, items=["Espresso", "Latte"])
    other = add_supplier(migrated_app, "Crumb Bakery", items=["Scone"])
    client = staff(migrated_app)
    response = post_form(client, f"/staff/suppliers/{supplier_id}/delete", {"detach": "y"})
    assert response.status_code == 302
    assert "2 item(s) now have no supplier." in client.get("/staff/suppliers").text
    assert [s.id for s in suppliers(migrated_app)] == [other]
    assert [(i.name, i.supplier_id) for i in items(migrated_app)] == [
        ("Espresso", None), ("Latte", None), ("Scone", other)]


def test_an_item_added_during_the_delete_is_caught_by_the_foreign_key(migrated_app,
                                                                      monkeypatch):
    supplier_id = add_supplier(migrated_app, items=["Espresso"])
    client = staff(migrated_app)
    token = client.get(f"/staff/suppliers/{supplier_id}/delete")
    assert token.status_code == 200
    # As if the item was added between the check and the delete: the check sees none.
    monkeypatch.setattr(service, "supplier_items", first_answer([], service.supplier_items))
    # The token from another page: the confirmation page would ask the patched check.
    response = post_form(client, f"/staff/suppliers/{supplier_id}/delete", {},
                         token_from="/auth/profile")
    assert response.status_code == 409
    assert ">Espresso</a>" in response.text
    assert count(migrated_app, Supplier) == 1
    assert [i.supplier_id for i in items(migrated_app)] == [supplier_id]


def test_a_supplier_removed_from_the_choices_is_refused(site):
    supplier_id = add_supplier(site)
    client = staff(site)
    post_form(client, f"/staff/suppliers/{supplier_id}/delete", {})
    response = post_form(client, "/staff/items/new", {**ITEM, "supplier_id": str(supplier_id)})
    assert response.status_code == 400
    assert "Not a valid choice." in response.text
    assert count(site, MenuItem) == 0


# --- bounded queries ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/staff/items", "/staff/suppliers"])
def test_staff_lists_run_the_same_queries_for_5_or_60_items(make_app, migrated_sqlite, path):
    counts = []
    for size in (5, 60):
        app = make_app(SQLALCHEMY_DATABASE_URI=migrated_sqlite(f"{size}.sqlite"))
        for n in range(size // 5):
            add_items(app, [(f"{name} {n}", *rest) for name, *rest in many_items(5)],
                      supplier=f"Supplier {n}")
        client = staff(app)
        client.get(path)  # warm up
        with counted_queries(app) as statements:
            assert client.get(path).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
