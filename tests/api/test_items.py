"""The API's menu: /api/v1/items and /api/v1/suppliers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mypack.auth.models import User
from mypack.extensions import db
from mypack.menu.models import MenuItem, Supplier
from mypack.menu.prices import PRICE_PATTERN
from mypack.orders import service as orders
from tests.factories import (
    EMAILS,
    PRICES_REFUSED,
    assert_api_error,
    auth,
    basic,
    item_id,
    make_user,
    seed_menu,
)

ROLES = (None, "customer", "staff", "admin")


@pytest.fixture
def api(site):
    seed_menu(site)
    return site


@pytest.fixture
def client(api):
    return api.test_client()


def supplier_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Supplier.id).where(Supplier.name == name))


def menu_state(app) -> list:
    """Everything the menu holds, to show a request changed nothing."""
    with app.app_context():
        items = [(i.id, i.name, i.category, i.description, i.price, i.available,
                  i.supplier_id) for i in db.session.scalars(select(MenuItem).order_by("id"))]
        suppliers = [(s.id, s.name, s.email, s.phone, s.notes)
                     for s in db.session.scalars(select(Supplier).order_by("id"))]
    return items + suppliers


def names(response) -> list[str]:
    return [item["name"] for item in response.get_json()["items"]]


NEW_ITEM = {"name": "Chai", "category": "tea", "price": "3.10"}


# --- reading: public ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_anyone_reads_items_and_suppliers(api, client, role):
    espresso, beans = item_id(api, "Espresso"), supplier_id(api, "Bean Roasters")
    for path in ("/api/v1/items", f"/api/v1/items/{espresso}", "/api/v1/suppliers",
                 f"/api/v1/suppliers/{beans}", f"/api/v1/suppliers/{beans}/items"):
        assert client.get(path, headers=auth(role)).status_code == 200, path


def test_item_list_in_menu_order_with_exact_prices(client):
    response = client.get("/api/v1/items")
    body = response.get_json()
    assert names(response) == ["Espresso", "Flat white", "Green tea", "Croissant", "Old scone"]
    assert body["total"] == 5 and body["page"] == 1 and body["per_page"] == 20
    flat_white = body["items"][1]
    assert flat_white["price"] == "3.20"
    assert set(flat_white) == {"id", "name", "category", "description", "price", "available",
                               "supplier_id", "created_at", "updated_at"}


def test_one_item(api, client):
    croissant = item_id(api, "Croissant")
    body = client.get(f"/api/v1/items/{croissant}").get_json()
    assert body["name"] == "Croissant" and body["price"] == "2.95"
    assert body["supplier_id"] == supplier_id(api, "Bakery")


def test_unknown_item_and_supplier_are_404(client):
    assert_api_error(client.get("/api/v1/items/999"), 404)
    assert_api_error(client.get("/api/v1/suppliers/999"), 404)
    assert_api_error(client.get("/api/v1/suppliers/999/items"), 404)
    assert_api_error(client.get("/api/v1/items/nope"), 404)


@pytest.mark.parametrize("path", [
    "/api/v1/items/99999999999999999999", "/api/v1/suppliers/99999999999999999999",
    "/api/v1/suppliers/99999999999999999999/items", "/api/v1/items/-1",
])
def test_ids_beyond_the_database_range_are_404(client, path):
    # For every method: such a path matches no route (not a 405 naming GET).
    assert_api_error(client.get(path), 404)
    assert_api_error(client.patch(path, headers=auth("staff"), json={"name": "X"}), 404)
    assert_api_error(client.delete(path, headers=auth("staff")), 404)
    assert_api_error(client.post(path, headers=auth("staff"), json={}), 404)


#: What only staff see of a supplier (the pages show it to staff only too).
STAFF_ONLY = {"email", "phone", "notes"}


@pytest.mark.parametrize("role", ROLES)
def test_supplier_contacts_are_for_staff_only(api, client, role):
    beans = supplier_id(api, "Bean Roasters")
    body = client.get("/api/v1/suppliers", headers=auth(role)).get_json()
    assert [s["name"] for s in body["items"]] == ["Bakery", "Bean Roasters"]
    one = client.get(f"/api/v1/suppliers/{beans}", headers=auth(role)).get_json()
    if role in ("staff", "admin"):
        assert body["items"][1] == one == {"id": beans, "name": "Bean Roasters",
                                           "email": "hello@beans.example", "phone": "123",
                                           "notes": ""}
    else:
        assert body["items"][1] == one == {"id": beans, "name": "Bean Roasters"}
    # Nor anywhere else the public reads (items name their supplier by id only).
    espresso = item_id(api, "Espresso")
    for path in ("/api/v1/items", f"/api/v1/items/{espresso}",
                 f"/api/v1/suppliers/{beans}/items"):
        assert "hello@beans.example" not in client.get(path, headers=auth(role)).text


def test_the_menu_cache_never_mixes_staff_and_public_answers(make_app, migrated_sqlite):
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_sqlite(), CACHE_TYPE="SimpleCache")
    seed_menu(app)
    client = app.test_client()
    beans = supplier_id(app, "Bean Roasters")
    paths = ["/api/v1/items", "/api/v1/suppliers", f"/api/v1/suppliers/{beans}",
             f"/api/v1/suppliers/{beans}/items"]
    for path in paths:  # staff first: nothing of theirs may be kept for the public
        staff = client.get(path, headers=auth("staff"))
        public = client.get(path)
        assert staff.status_code == public.status_code == 200
        assert "hello@beans.example" not in public.text
        assert client.get(path, headers=auth("staff")).get_json() == staff.get_json()
    assert "hello@beans.example" in client.get(f"/api/v1/suppliers/{beans}",
                                               headers=auth("staff")).text


def test_supplier_items(api, client):
    bakery = supplier_id(api, "Bakery")
    response = client.get(f"/api/v1/suppliers/{bakery}/items")
    assert names(response) == ["Croissant", "Old scone"]
    assert names(client.get(f"/api/v1/suppliers/{bakery}/items?available=true")) == [
        "Croissant"]
    assert "Link" in response.headers


# --- pages, filters, sorting ---------------------------------------------------------------

def test_pages_and_link_header(client):
    response = client.get("/api/v1/items?per_page=2&page=2&category=coffee&per_page=2")
    assert response.get_json()["total"] == 2
    response = client.get("/api/v1/items?per_page=2&page=2")
    body = response.get_json()
    assert names(response) == ["Green tea", "Croissant"]
    assert (body["total"], body["page"], body["per_page"]) == (5, 2, 2)
    links = body["links"]
    assert "page=3" in links["next"] and "page=1" in links["prev"]
    assert "page=1" in links["first"] and "page=3" in links["last"]
    assert "page=2" in links["self"]
    header = response.headers["Link"]
    for rel in ("next", "prev", "first", "last"):
        assert f'rel="{rel}"' in header
    assert f'<{links["next"]}>; rel="next"' in header
    # Following "next" gets the last page, which has no next.
    last = client.get(links["next"])
    assert names(last) == ["Old scone"]
    assert last.get_json()["links"]["next"] is None
    assert 'rel="next"' not in last.headers["Link"]


def test_links_keep_the_filters(client):
    links = client.get("/api/v1/items?category=food&per_page=1").get_json()["links"]
    assert "category=food" in links["next"] and "per_page=1" in links["next"]


def test_first_page_has_no_prev_and_past_the_end_is_empty(client):
    body = client.get("/api/v1/items?per_page=2").get_json()
    assert body["links"]["prev"] is None
    body = client.get("/api/v1/items?page=9").get_json()
    assert body["items"] == [] and body["total"] == 5


@pytest.mark.parametrize("query, field", [
    ("per_page=101", "per_page"), ("per_page=0", "per_page"), ("page=0", "page"),
    ("page=abc", "page"), ("per_page=-1", "per_page"), ("category=wine", "category"),
    ("available=maybe", "available"), ("available=1", "available"),
    ("available=True", "available"), ("available=", "available"),
    ("min_price=abc", "min_price"),
    ("max_price=1.234", "max_price"), ("min_price=-1", "min_price"),
])
def test_bad_list_parameters_are_422(client, query, field):
    error = assert_api_error(client.get(f"/api/v1/items?{query}"), 422)
    assert field in error["fields"]


def test_per_page_100_is_allowed(client):
    assert client.get("/api/v1/items?per_page=100").status_code == 200


@pytest.mark.parametrize("query, expected", [
    ("category=coffee", ["Espresso", "Flat white"]),
    ("available=false", ["Old scone"]),
    ("q=WHITE", ["Flat white"]),
    ("q=%25", []),
    ("min_price=2.80", ["Flat white", "Green tea", "Croissant"]),
    ("max_price=2.8", ["Espresso", "Green tea", "Old scone"]),
    ("min_price=2.5&max_price=2.95&category=food", ["Croissant"]),
])
def test_item_filters(client, query, expected):
    assert names(client.get(f"/api/v1/items?{query}")) == expected


@pytest.mark.parametrize("search", ["%1B%5B2J", "a%0Ab", "%C2%9B", "a%09b"])
def test_searches_refuse_control_characters_as_the_menu_does(client, search):
    # The one text rule (mypack.text): the API's q, the menu's and the console's.
    for path in ("/api/v1/items", "/api/v1/suppliers"):
        response = client.get(f"{path}?q={search}")
        assert response.status_code == 422
        assert response.json["error"]["fields"]["q"] == ["Remove the control characters."]
    assert client.get(f"/?q={search}").status_code == 400


@pytest.mark.parametrize("sort, expected", [
    ("-price,name", ["Flat white", "Croissant", "Green tea", "Espresso", "Old scone"]),
    ("price", ["Old scone", "Espresso", "Green tea", "Croissant", "Flat white"]),
    ("name", ["Croissant", "Espresso", "Flat white", "Green tea", "Old scone"]),
    ("name,-name", ["Croissant", "Espresso", "Flat white", "Green tea", "Old scone"]),
    ("category,-price", ["Flat white", "Espresso", "Croissant", "Old scone", "Green tea"]),
])
def test_sorting(client, sort, expected):
    assert names(client.get(f"/api/v1/items?sort={sort}")) == expected


@pytest.mark.parametrize("sort", [
    "if(1=1,id,name)", "password_hash", "price;drop table users", "",
    ",", "--price", "supplier.name", "description", "id desc", "name\n", "name, price",
])
def test_sorting_only_on_allowed_fields(client, sort):
    # An empty sort= too: the document's pattern names at least one field.
    assert_api_error(client.get("/api/v1/items", query_string={"sort": sort}), 400)


def test_supplier_sorting_and_search(client):
    body = client.get("/api/v1/suppliers?sort=-name").get_json()
    assert [s["name"] for s in body["items"]] == ["Bean Roasters", "Bakery"]
    body = client.get("/api/v1/suppliers?q=bean").get_json()
    assert [s["name"] for s in body["items"]] == ["Bean Roasters"]
    assert_api_error(client.get("/api/v1/suppliers?sort=email"), 400)


# --- the role matrix for writes --------------------------------------------------------

def item_writes(app):
    espresso, scone = item_id(app, "Espresso"), item_id(app, "Old scone")
    return [
        ("post", "/api/v1/items", NEW_ITEM, 201),
        ("patch", f"/api/v1/items/{espresso}", {"price": "2.60"}, 200),
        ("delete", f"/api/v1/items/{scone}", None, 204),
    ]


def supplier_writes(app):
    beans = supplier_id(app, "Bean Roasters")
    bakery = supplier_id(app, "Bakery")
    return [
        ("post", "/api/v1/suppliers", {"name": "Tea House"}, 201),
        ("patch", f"/api/v1/suppliers/{beans}", {"phone": "456"}, 200),
        ("delete", f"/api/v1/suppliers/{bakery}?detach=true", None, 204),
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("writes", [item_writes, supplier_writes])
def test_write_role_matrix(api, client, role, which, writes):
    method, path, body, success = writes(api)[which]
    before = menu_state(api)
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(path, headers=auth(role), **kwargs)
    if role is None:
        assert_api_error(response, 401)
        assert "Basic" in response.headers["WWW-Authenticate"]
    elif role == "customer":
        assert_api_error(response, 403)
    else:
        assert response.status_code == success, response.get_data(as_text=True)
        assert menu_state(api) != before
        return
    assert menu_state(api) == before


def test_wrong_password_is_401(client):
    response = client.post("/api/v1/items", json=NEW_ITEM,
                           headers=basic(EMAILS["staff"], "wrong"))
    assert_api_error(response, 401)


# --- items: writes ---------------------------------------------------------------------

def test_create_item(api, client):
    beans = supplier_id(api, "Bean Roasters")
    response = client.post("/api/v1/items", headers=auth("staff"), json={
        "name": "  Mocha ", "category": "coffee", "price": "4", "supplier_id": beans,
        "description": "Chocolate"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Mocha" and body["price"] == "4.00" and body["available"] is True
    assert client.get(f"/api/v1/items/{body['id']}").get_json() == body


@pytest.mark.parametrize("price, shown", [
    ("3.2", "3.20"), ("3.25", "3.25"), ("9999.99", "9999.99"), ("0.01", "0.01"),
    ("0", "0.00"), ("0003", "3.00"), ("1000", "1000.00"),
])
def test_prices_accepted(client, price, shown):
    response = client.post("/api/v1/items", headers=auth("staff"),
                           json={**NEW_ITEM, "price": price})
    assert response.status_code == 201
    assert response.get_json()["price"] == shown


@pytest.mark.parametrize("price", [
    *PRICES_REFUSED, 3.205, -1, 10000, 1e16, True, None, [], {"a": 1},
    # Numbers, even those that would be a price: the document says a string.
    3.25, 0, 4, 1e3, 0.07,
])
def test_bad_prices_are_422_and_change_nothing(api, client, price):
    before = menu_state(api)
    error = assert_api_error(client.post("/api/v1/items", headers=auth("staff"),
                                     json={**NEW_ITEM, "price": price}), 422)
    assert "price" in error["fields"]
    espresso = item_id(api, "Espresso")
    assert_api_error(client.patch(f"/api/v1/items/{espresso}", headers=auth("staff"),
                              json={"price": price}), 422)
    assert menu_state(api) == before


@pytest.mark.parametrize("body, field", [
    ({**NEW_ITEM, "bogus": 1}, "bogus"),
    ({**NEW_ITEM, "id": 99}, "id"),
    ({**NEW_ITEM, "category": "wine"}, "category"),
    ({**NEW_ITEM, "name": "   "}, "name"),
    ({**NEW_ITEM, "name": "x" * 101}, "name"),
    ({"category": "tea", "price": "1.00"}, "name"),
    ({**NEW_ITEM, "supplier_id": "1"}, "supplier_id"),
    ({**NEW_ITEM, "supplier_id": 10**20}, "supplier_id"),
    ({**NEW_ITEM, "available": "perhaps"}, "available"),
    # JSON's true and false only, as documented: not 0, 1 or "true".
    ({**NEW_ITEM, "available": 0}, "available"),
    ({**NEW_ITEM, "available": 1}, "available"),
    ({**NEW_ITEM, "available": "true"}, "available"),
])
def test_bad_items_are_422_and_change_nothing(api, client, body, field):
    before = menu_state(api)
    error = assert_api_error(client.post("/api/v1/items", headers=auth("staff"), json=body), 422)
    assert field in error["fields"]
    assert menu_state(api) == before


def test_patch_item(api, client):
    espresso, bakery = item_id(api, "Espresso"), supplier_id(api, "Bakery")
    response = client.patch(f"/api/v1/items/{espresso}", headers=auth("admin"),
                            json={"available": False, "supplier_id": bakery})
    body = response.get_json()
    assert response.status_code == 200
    assert body["available"] is False and body["supplier_id"] == bakery
    assert body["name"] == "Espresso" and body["price"] == "2.50"
    response = client.patch(f"/api/v1/items/{espresso}", headers=auth("staff"),
                            json={"supplier_id": None})
    assert response.get_json()["supplier_id"] is None


def test_patch_errors_change_nothing(api, client):
    espresso = item_id(api, "Espresso")
    before = menu_state(api)
    path = f"/api/v1/items/{espresso}"
    error = assert_api_error(client.patch(path, headers=auth("staff"), json={"supplier_id": 999}),
                         409)
    assert "supplier_id" in error["fields"]
    assert_api_error(client.post("/api/v1/items", headers=auth("staff"),
                             json={**NEW_ITEM, "supplier_id": 999}), 409)
    assert_api_error(client.patch(path, headers=auth("staff"),
                              json={"name": "New", "bogus": True}), 422)
    assert_api_error(client.patch("/api/v1/items/999", headers=auth("staff"),
                              json={"name": "New"}), 404)
    # The document says a body is required: none at all is a 400, not an empty change.
    error = assert_api_error(client.patch(path, headers=auth("staff")), 400)
    assert "JSON body" in error["message"]
    assert menu_state(api) == before


def test_delete_item_on_an_order_is_409(api, client):
    espresso = item_id(api, "Espresso")
    with api.app_context():
        customer = db.session.scalar(select(User).where(User.email == EMAILS["customer"]))
        orders.place_order(customer, {espresso: 1}, "key-delete-test")
    before = menu_state(api)
    error = assert_api_error(client.delete(f"/api/v1/items/{espresso}", headers=auth("staff")),
                         409)
    assert "order" in error["message"]
    assert menu_state(api) == before
    # Marking it unavailable is the way out.
    response = client.patch(f"/api/v1/items/{espresso}", headers=auth("staff"),
                            json={"available": False})
    assert response.status_code == 200


def test_delete_item(api, client):
    scone = item_id(api, "Old scone")
    response = client.delete(f"/api/v1/items/{scone}", headers=auth("staff"))
    assert response.status_code == 204 and response.get_data() == b""
    assert_api_error(client.get(f"/api/v1/items/{scone}"), 404)
    assert_api_error(client.delete(f"/api/v1/items/{scone}", headers=auth("staff")), 404)


# --- suppliers: writes -----------------------------------------------------------------

def test_create_and_patch_supplier(client):
    response = client.post("/api/v1/suppliers", headers=auth("staff"), json={
        "name": "Tea House", "email": "orders@tea.example", "notes": "Mondays"})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "name": "Tea House", "email": "orders@tea.example",
                    "phone": "", "notes": "Mondays"}
    multiline = client.patch(f"/api/v1/suppliers/{body['id']}", headers=auth("staff"),
                             json={"notes": "Mondays\n\tand Thursdays"})
    assert multiline.get_json()["notes"] == "Mondays\n\tand Thursdays"
    response = client.patch(f"/api/v1/suppliers/{body['id']}", headers=auth("staff"),
                            json={"email": ""})
    assert response.status_code == 200 and response.get_json()["email"] == ""


@pytest.mark.parametrize("body, field", [
    ({"name": "X", "email": "not-an-email"}, "email"),
    ({"name": "X", "email": "a b@c.example"}, "email"),
    ({"name": "X", "email": "a\u00a0b@c.example"}, "email"),  # white space of any kind
    ({"name": "X\x9b2J"}, "name"),  # C1 control characters too
    ({"name": "A\nB"}, "name"),
    ({"name": " \t "}, "name"),
    ({"name": "X", "notes": "bell\x07"}, "notes"),
    ({"name": ""}, "name"),
    ({}, "name"),
    ({"name": "X", "website": "x"}, "website"),
])
def test_bad_suppliers_are_422(api, client, body, field):
    before = menu_state(api)
    error = assert_api_error(client.post("/api/v1/suppliers", headers=auth("staff"), json=body),
                         422)
    assert field in error["fields"]
    assert menu_state(api) == before


@pytest.mark.parametrize("name", ["A\x00B", "A\udd83B"])
def test_strings_no_database_stores_are_refused_with_the_body(api, client, name):
    # Refused as the body is read (mypack.bodies): a 400 naming the field.
    before = menu_state(api)
    error = assert_api_error(client.post("/api/v1/suppliers", headers=auth("staff"),
                                     json={"name": name}), 400)
    assert list(error["fields"]) == ["name"]
    assert menu_state(api) == before


def test_supplier_names_are_unique_in_any_case(api, client):
    before = menu_state(api)
    for name in ("Bakery", "BAKERY", " bakery "):
        error = assert_api_error(client.post("/api/v1/suppliers", headers=auth("staff"),
                                         json={"name": name}), 409)
        assert "name" in error["fields"]
    beans = supplier_id(api, "Bean Roasters")
    assert_api_error(client.patch(f"/api/v1/suppliers/{beans}", headers=auth("staff"),
                              json={"name": "bakery"}), 409)
    assert menu_state(api) == before
    # Its own name, in another case, is fine.
    response = client.patch(f"/api/v1/suppliers/{beans}", headers=auth("staff"),
                            json={"name": "BEAN ROASTERS"})
    assert response.status_code == 200


def test_delete_supplier_with_items(api, client):
    bakery = supplier_id(api, "Bakery")
    croissant = item_id(api, "Croissant")
    before = menu_state(api)
    error = assert_api_error(client.delete(f"/api/v1/suppliers/{bakery}", headers=auth("staff")),
                         409)
    assert "still has" in error["message"]
    assert "detach" in error["fields"]  # the parameter that would let it go
    assert menu_state(api) == before
    assert_api_error(client.delete(f"/api/v1/suppliers/{bakery}?detach=perhaps",
                               headers=auth("staff")), 422)
    response = client.delete(f"/api/v1/suppliers/{bakery}?detach=true", headers=auth("staff"))
    assert response.status_code == 204
    assert_api_error(client.get(f"/api/v1/suppliers/{bakery}"), 404)
    assert client.get(f"/api/v1/items/{croissant}").get_json()["supplier_id"] is None


def test_delete_supplier_without_items(api, client):
    response = client.post("/api/v1/suppliers", headers=auth("staff"), json={"name": "Empty"})
    new = response.get_json()["id"]
    assert client.delete(f"/api/v1/suppliers/{new}", headers=auth("staff")).status_code == 204
    assert_api_error(client.delete(f"/api/v1/suppliers/{new}", headers=auth("staff")), 404)


# --- the error shape of the protocol's errors --------------------------------------------

def test_405_415_and_bad_json(api, client):
    espresso = item_id(api, "Espresso")
    before = menu_state(api)
    response = client.put(f"/api/v1/items/{espresso}", headers=auth("staff"), json=NEW_ITEM)
    assert_api_error(response, 405)
    assert "PATCH" in response.headers["Allow"]
    assert_api_error(client.delete("/api/v1/items", headers=auth("staff")), 405)
    assert_api_error(client.post("/api/v1/items", headers=auth("staff"), data="name=Chai",
                             content_type="application/x-www-form-urlencoded"), 415)
    assert_api_error(client.patch(f"/api/v1/items/{espresso}", headers=auth("staff"),
                              data='{"price": "1.00"}', content_type="text/plain"), 415)
    assert_api_error(client.post("/api/v1/items", headers=auth("staff"), data="{not json",
                                 content_type="application/json"), 400)
    response = client.post("/api/v1/items", headers=auth("staff"), json=["a", "list"])
    assert_api_error(response, 422)
    assert menu_state(api) == before


# --- the OpenAPI document --------------------------------------------------------------

def test_openapi_describes_requests_and_responses(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    expected = {
        "/api/v1/items": {"get": {"200", "400", "422"},
                          "post": {"201", "401", "403", "422"}},
        "/api/v1/items/{item_id}": {"get": {"200", "404"},
                                    "patch": {"200", "401", "403", "404", "422"},
                                    "delete": {"204", "401", "403", "404", "409"}},
        "/api/v1/suppliers": {"get": {"200"}, "post": {"201", "409", "422"}},
        "/api/v1/suppliers/{supplier_id}": {"get": {"200", "404"},
                                            "patch": {"200", "409"},
                                            "delete": {"204", "409"}},
        "/api/v1/suppliers/{supplier_id}/items": {"get": {"200", "404"}},
    }
    for path, methods in expected.items():
        for method, codes in methods.items():
            operation = paths[path][method]
            assert codes <= set(operation["responses"]), (path, method)
            if method in ("post", "patch"):
                assert "requestBody" in operation, (path, method)
    schemas = spec["components"]["schemas"]
    assert {"Item", "ItemUpdate", "ItemPage", "PageLinks", "Supplier", "SupplierUpdate",
            "SupplierPage", "ErrorResponse"} <= set(schemas)
    assert schemas["Item"]["properties"]["price"]["type"] == "string"
    assert schemas["Item"]["properties"]["price"]["pattern"] == PRICE_PATTERN
    # The contacts are documented as staff-only, so optional, in the one Supplier.
    for field in STAFF_ONLY:
        assert "staff" in schemas["Supplier"]["properties"][field]["description"].lower()
        assert field not in schemas["Supplier"].get("required", [])
    assert set(schemas["ItemPage"]["properties"]) == {"items", "total", "page", "per_page",
                                                      "links"}
    assert "Link" in paths["/api/v1/items"]["get"]["responses"]["200"]["headers"]
    sort = next(p for p in paths["/api/v1/items"]["get"]["parameters"] if p["name"] == "sort")
    assert "price" in sort["schema"]["pattern"]
    list_params = {p["name"] for p in paths["/api/v1/items"]["get"]["parameters"]}
    assert {"page", "per_page", "sort", "category", "available", "q", "min_price",
            "max_price"} <= list_params


# --- every backend: exact money ----------------------------------------------------------

def test_prices_are_exact_on_every_backend(migrated_app):
    make_user(migrated_app, EMAILS["staff"], role="staff")
    client = migrated_app.test_client()
    ids = []
    for price in ("0.10", "0.20", "9999.99", "0.01"):
        response = client.post("/api/v1/items", headers=auth("staff"),
                               json={**NEW_ITEM, "name": f"Item {price}", "price": price})
        assert response.status_code == 201
        assert response.get_json()["price"] == price
        ids.append(response.get_json()["id"])
    body = client.get("/api/v1/items?sort=price").get_json()
    assert [item["price"] for item in body["items"]] == ["0.01", "0.10", "0.20", "9999.99"]
    body = client.get("/api/v1/items?min_price=0.1&max_price=0.2").get_json()
    assert [item["price"] for item in body["items"]] == ["0.10", "0.20"]


def test_supplier_names_unique_on_every_backend(migrated_app):
    make_user(migrated_app, EMAILS["staff"], role="staff")
    client = migrated_app.test_client()
    assert client.post("/api/v1/suppliers", headers=auth("staff"),
                       json={"name": "Bean Co"}).status_code == 201
    for name in ("Bean Co", "BEAN CO"):
        assert_api_error(client.post("/api/v1/suppliers", headers=auth("staff"),
                                 json={"name": name}), 409)
    assert client.get("/api/v1/suppliers").get_json()["total"] == 1


def test_every_documented_error_response_is_the_shape_sent(client):
    """The ``default`` and 422 responses every operation documents are mypack's one
    error shape, which is what a real error answer is (flask-smorest's own error
    schema, code/status/message/errors, is never sent)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "Error" not in spec["components"]["schemas"]
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        schema = spec["components"]["responses"][name]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, name
    body = spec["components"]["schemas"]["ErrorResponse"]
    assert body["required"] == ["error"]
    answer = client.get("/api/v1/items/999999").get_json()
    assert set(answer) == {"error"}
    assert set(answer["error"]) == set(spec["components"]["schemas"]["ErrorBody"]["properties"])
