"""The API's orders: /api/v1/orders."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mypack.extensions import db
from mypack.orders.models import Order, OrderLine
from tests.factories import (
    EMAILS,
    add_items,
    add_people,
    assert_api_error,
    auth,
    counted_queries,
    make_user,
)

ROLES = (None, "customer", "staff", "admin")


def coffees(app, *rows) -> list[int]:
    """Coffees of (name, price, available) rows; their ids."""
    return list(add_items(app, [(name, "coffee", price, available)
                                for name, price, available in rows]).values())


@pytest.fixture
def api(site):
    add_people(site)
    site.item_ids = coffees(site, ("Espresso", "2.50", True), ("Flat white", "3.20", True),
                            ("Gone", "1.00", False))
    return site


@pytest.fixture
def client(api):
    return api.test_client()


def order_state(app) -> list:
    """Every order and line, to show a request changed nothing."""
    with app.app_context():
        orders = [(o.id, o.user_id, o.status, o.total, o.submission_key)
                  for o in db.session.scalars(select(Order).order_by(Order.id))]
        lines = [(line.order_id, line.item_id, line.quantity, line.unit_price)
                 for line in db.session.scalars(select(OrderLine).order_by(OrderLine.id))]
    return orders + lines


def place(client, who="customer", lines=None, **extra):
    body = {"lines": lines or [{"item_id": 1, "quantity": 2}], **extra}
    response = client.post("/api/v1/orders", headers=auth(who), json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def move(client, who, order_id, from_status, to_status):
    return client.post(f"/api/v1/orders/{order_id}/status", headers=auth(who),
                       json={"from": from_status, "to": to_status})


# --- placing -------------------------------------------------------------------------------

def test_place_an_order(api, client):
    espresso, flat_white, _ = api.item_ids
    order = place(client, lines=[{"item_id": espresso, "quantity": 2},
                                 {"item_id": flat_white, "quantity": 1}])
    assert order["status"] == "placed" and order["total"] == "8.20"
    assert [(line["item_name"], line["quantity"], line["unit_price"], line["subtotal"])
            for line in order["lines"]] == [("Espresso", 2, "2.50", "5.00"),
                                             ("Flat white", 1, "3.20", "3.20")]
    assert set(order) == {"id", "user_id", "status", "total", "created_at", "updated_at",
                          "lines"}
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth("customer")
                      ).get_json() == order


def test_the_same_submission_key_places_one_order(api, client):
    first = place(client, submission_key="my-key-0001")
    second = place(client, submission_key="my-key-0001")
    assert first["id"] == second["id"]
    with api.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    # Another customer's key is not theirs to reuse.
    before = order_state(api)
    response = client.post("/api/v1/orders", headers=auth("other"), json={
        "lines": [{"item_id": 1, "quantity": 1}], "submission_key": "my-key-0001"})
    assert_api_error(response, 409)
    assert order_state(api) == before


@pytest.mark.parametrize("body, field", [
    ({"lines": []}, "lines"),
    ({}, "lines"),
    ({"lines": [{"item_id": 1, "quantity": 0}]}, "lines"),
    ({"lines": [{"item_id": 1, "quantity": 51}]}, "lines"),
    ({"lines": [{"item_id": 1, "quantity": "2"}]}, "lines"),
    ({"lines": [{"item_id": 1, "quantity": 2.5}]}, "lines"),
    ({"lines": [{"item_id": 1, "quantity": True}]}, "lines"),
    ({"lines": [{"item_id": "1", "quantity": 1}]}, "lines"),
    ({"lines": [{"item_id": 10**20, "quantity": 1}]}, "lines"),
    ({"lines": [{"item_id": 1, "quantity": 10**20}]}, "lines"),
    ({"lines": [{"item_id": 1}]}, "lines"),
    ({"lines": [{"item_id": 1, "quantity": 1, "price": "0.01"}]}, "lines"),
    ({"lines": [{"item_id": i, "quantity": 1} for i in range(1, 32)]}, "lines"),
    ({"lines": {"1": 2}}, "lines"),
    ({"lines": [{"item_id": 1, "quantity": 1}], "total": "0.00"}, "total"),
    ({"lines": [{"item_id": 1, "quantity": 1}], "status": "collected"}, "status"),
    ({"lines": [{"item_id": 1, "quantity": 1}], "submission_key": "short"},
     "submission_key"),
])
def test_bad_orders_are_422_and_place_nothing(api, client, body, field):
    before = order_state(api)
    error = assert_api_error(client.post("/api/v1/orders", headers=auth("customer"), json=body),
                         422)
    assert field in error["fields"]
    assert order_state(api) == before


@pytest.mark.parametrize("lines, says", [
    ([{"item_id": 999, "quantity": 1}], "999"),
    ([{"item_id": 3, "quantity": 1}], "Gone"),
    ([{"item_id": 1, "quantity": 30}, {"item_id": 1, "quantity": 21}], "50"),
])
def test_what_the_menu_refuses_is_409_and_says_why(api, client, lines, says):
    # Well-formed, but refused by the menu's state (the service's OrderError).
    before = order_state(api)
    error = assert_api_error(client.post("/api/v1/orders", headers=auth("customer"),
                                     json={"lines": lines}), 409)
    assert says in error["message"] and "lines" in error["fields"]
    assert order_state(api) == before


def test_lines_of_the_same_item_add_up(client):
    order = place(client, lines=[{"item_id": 1, "quantity": 2}, {"item_id": 1, "quantity": 3}])
    assert [(line["item_id"], line["quantity"]) for line in order["lines"]] == [(1, 5)]
    assert order["total"] == "12.50"


def test_protocol_errors(api, client):
    before = order_state(api)
    assert_api_error(client.post("/api/v1/orders", headers=auth("customer"),
                             data="lines=1", content_type="text/plain"), 415)
    assert_api_error(client.post("/api/v1/orders", headers=auth("customer"), data="{oops",
                                 content_type="application/json"), 400)
    assert_api_error(client.put("/api/v1/orders", headers=auth("customer"), json={}), 405)
    assert_api_error(client.delete("/api/v1/orders/1", headers=auth("staff")), 405)
    assert_api_error(client.get("/api/v1/orders/1/status", headers=auth("staff")), 405)
    assert order_state(api) == before


# --- the role matrix -----------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(api, client, role):
    mine = place(client)  # the customer's
    endpoints = [
        ("get", "/api/v1/orders", None, 200),
        ("post", "/api/v1/orders", {"lines": [{"item_id": 2, "quantity": 1}]}, 201),
        ("get", f"/api/v1/orders/{mine['id']}", None, 200),
    ]
    for method, path, body, success in endpoints:
        kwargs = {"json": body} if body is not None else {}
        response = getattr(client, method)(path, headers=auth(role), **kwargs)
        if role is None:
            assert_api_error(response, 401)
            assert "Basic" in response.headers["WWW-Authenticate"]
        else:
            assert response.status_code == success, (method, path)
    # Moving: staff and admins along the transitions, a customer only cancelling.
    response = move(client, role, mine["id"], "placed", "preparing")
    if role is None:
        assert_api_error(response, 401)
        assert "Basic" in response.headers["WWW-Authenticate"]
    elif role == "customer":
        assert_api_error(response, 403)
    else:
        assert response.status_code == 200
        assert response.get_json()["status"] == "preparing"


def test_customers_see_only_their_own_orders(api, client):
    mine = place(client)
    theirs = place(client, "other")
    listed = client.get("/api/v1/orders", headers=auth("customer")).get_json()
    assert [order["id"] for order in listed["items"]] == [mine["id"]]
    assert listed["total"] == 1
    assert_api_error(client.get(f"/api/v1/orders/{theirs['id']}", headers=auth("customer")), 404)
    assert_api_error(client.get("/api/v1/orders/999", headers=auth("customer")), 404)
    # Not even a status change reveals it: 404, and nothing changes.
    before = order_state(api)
    assert_api_error(move(client, "customer", theirs["id"], "placed", "cancelled"), 404)
    assert_api_error(move(client, "customer", theirs["id"], "placed", "preparing"), 404)
    assert order_state(api) == before


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_see_every_order(client, role):
    mine, theirs = place(client), place(client, "other")
    listed = client.get("/api/v1/orders", headers=auth(role)).get_json()
    assert [order["id"] for order in listed["items"]] == [theirs["id"], mine["id"]]
    assert client.get(f"/api/v1/orders/{mine['id']}", headers=auth(role)).status_code == 200
    assert_api_error(client.get("/api/v1/orders/999", headers=auth(role)), 404)


# --- moving --------------------------------------------------------------------------------

def test_staff_move_orders_along_the_transitions(client):
    order = place(client)
    for seen, new in [("placed", "preparing"), ("preparing", "ready"), ("ready", "collected")]:
        response = move(client, "staff", order["id"], seen, new)
        assert response.status_code == 200 and response.get_json()["status"] == new


def test_a_stale_status_is_409_and_changes_nothing(api, client):
    order = place(client)
    assert move(client, "staff", order["id"], "placed", "preparing").status_code == 200
    before = order_state(api)
    error = assert_api_error(move(client, "admin", order["id"], "placed", "cancelled"), 409)
    assert "preparing" in error["message"]
    # The customer cancelling too late: the same.
    assert_api_error(move(client, "customer", order["id"], "placed", "cancelled"), 409)
    assert order_state(api) == before


@pytest.mark.parametrize("seen, new", [
    ("placed", "collected"), ("placed", "ready"), ("collected", "placed"),
    ("cancelled", "placed"), ("placed", "placed"),
])
def test_moves_outside_the_transitions_are_409(api, client, seen, new):
    order = place(client)
    before = order_state(api)
    error = assert_api_error(move(client, "staff", order["id"], seen, new), 409)
    assert "cannot go" in error["message"]
    assert order_state(api) == before


@pytest.mark.parametrize("body", [
    {"from": "placed"}, {"to": "cancelled"}, {"from": "placed", "to": "eaten"},
    {"from": "placed", "to": "cancelled", "by": "me"}, {"from": 1, "to": 2}, [],
])
def test_bad_status_bodies_are_422(api, client, body):
    order = place(client)
    before = order_state(api)
    assert_api_error(client.post(f"/api/v1/orders/{order['id']}/status", headers=auth("staff"),
                             json=body), 422)
    assert order_state(api) == before


def test_unknown_order_is_404_for_staff(client):
    assert_api_error(move(client, "staff", 999, "placed", "preparing"), 404)
    assert_api_error(move(client, "staff", 10**20, "placed", "preparing"), 404)
    assert_api_error(client.get(f"/api/v1/orders/{10**20}", headers=auth("staff")), 404)


def test_customers_cancel_their_own_placed_order(api, client):
    order = place(client)
    before = order_state(api)
    assert_api_error(move(client, "customer", order["id"], "placed", "preparing"), 403)
    assert order_state(api) == before
    response = move(client, "customer", order["id"], "placed", "cancelled")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert_api_error(move(client, "customer", order["id"], "placed", "cancelled"), 409)
    # Once preparing, only staff may cancel it.
    second = place(client)
    assert move(client, "staff", second["id"], "placed", "preparing").status_code == 200
    assert_api_error(move(client, "customer", second["id"], "preparing", "cancelled"), 403)
    assert move(client, "staff", second["id"], "preparing", "cancelled").status_code == 200


# --- lists -----------------------------------------------------------------------------------

def test_pages_filters_and_sorting(api, client):
    espresso, flat_white, _ = api.item_ids
    ids = [place(client, lines=[{"item_id": espresso, "quantity": n}])["id"]
           for n in (1, 3, 2)]
    ids.append(place(client, lines=[{"item_id": flat_white, "quantity": 1}])["id"])
    move(client, "staff", ids[0], "placed", "preparing")
    response = client.get("/api/v1/orders?per_page=3", headers=auth("customer"))
    body = response.get_json()
    assert [o["id"] for o in body["items"]] == ids[::-1][:3]
    assert (body["total"], body["page"], body["per_page"]) == (4, 1, 3)
    assert "page=2" in body["links"]["next"] and body["links"]["prev"] is None
    assert 'rel="next"' in response.headers["Link"]
    assert 'rel="last"' in response.headers["Link"]
    page2 = client.get(body["links"]["next"], headers=auth("customer")).get_json()
    assert [o["id"] for o in page2["items"]] == [ids[0]]
    assert 'rel="prev"' in client.get(body["links"]["next"],
                                      headers=auth("customer")).headers["Link"]

    body = client.get("/api/v1/orders?status=preparing", headers=auth("staff")).get_json()
    assert [o["id"] for o in body["items"]] == [ids[0]]
    body = client.get("/api/v1/orders?sort=-total,id", headers=auth("customer")).get_json()
    assert [o["total"] for o in body["items"]] == ["7.50", "5.00", "3.20", "2.50"]
    body = client.get("/api/v1/orders?sort=status,id", headers=auth("customer")).get_json()
    assert [o["id"] for o in body["items"]] == [ids[1], ids[2], ids[3], ids[0]]


@pytest.mark.parametrize("query, status", [
    ("sort=if(1=1,id,name)", 400), ("sort=user_id", 400), ("sort=submission_key", 400),
("status=eaten", 422), ("per_page=101", 422),
    ("page=0", 422), ("page=x", 422),
])
def test_bad_list_parameters(client, query, status):
    place(client)
    assert_api_error(client.get(f"/api/v1/orders?{query}", headers=auth("customer")), status)


# --- the OpenAPI document and every backend ------------------------------------------------

def test_openapi_describes_orders(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"200", "400", "401", "422"} <= set(paths["/api/v1/orders"]["get"]["responses"])
    post = paths["/api/v1/orders"]["post"]
    assert "requestBody" in post and {"201", "401", "422"} <= set(post["responses"])
    assert {"200", "401", "404"} <= set(paths["/api/v1/orders/{order_id}"]["get"]["responses"])
    status = paths["/api/v1/orders/{order_id}/status"]["post"]
    assert "requestBody" in status
    assert {"200", "401", "403", "404", "409", "422"} <= set(status["responses"])


def test_order_totals_are_exact_on_every_backend(migrated_app):
    make_user(migrated_app, EMAILS["customer"])
    make_user(migrated_app, EMAILS["staff"], role="staff")
    dime, twenty = coffees(migrated_app, ("Dime", "0.10", True), ("Twenty", "0.20", True))
    client = migrated_app.test_client()
    order = place(client, lines=[{"item_id": dime, "quantity": 3},
                                 {"item_id": twenty, "quantity": 1}])
    assert order["total"] == "0.50"
    assert [line["subtotal"] for line in order["lines"]] == ["0.30", "0.20"]
    # Later price changes leave the order alone.
    assert client.patch(f"/api/v1/items/{dime}", headers=auth("staff"),
                        json={"price": "9.99"}).status_code == 200
    again = client.get(f"/api/v1/orders/{order['id']}", headers=auth("customer")).get_json()
    assert again["total"] == "0.50" and again["lines"][0]["unit_price"] == "0.10"
    listed = client.get("/api/v1/orders?sort=-total", headers=auth("staff")).get_json()
    assert listed["items"][0]["total"] == "0.50"


@pytest.mark.parametrize("key", ["my-key-\x00-0001", "my-key-\ud800-0001",
                                 "my-key-\udfff\ud800-1"])
def test_a_submission_key_no_database_stores_is_a_400_on_every_backend(migrated_app, key):
    # PostgreSQL refuses NUL in text, MySQL cannot encode a lone surrogate, SQLite keeps
    # both: the body is refused before any of them sees it, the same everywhere.
    make_user(migrated_app, EMAILS["customer"])
    [espresso] = coffees(migrated_app, ("Espresso", "2.50", True))
    client = migrated_app.test_client()
    before = order_state(migrated_app)
    error = assert_api_error(client.post("/api/v1/orders", headers=auth("customer"), json={
        "lines": [{"item_id": espresso, "quantity": 1}], "submission_key": key}), 400)
    assert list(error["fields"]) == ["submission_key"]
    assert order_state(migrated_app) == before


def test_placing_an_order_with_a_token_is_four_queries_and_the_lines(api, client):
    """Authentication, the items, the order and its lines, the receipt's outbox row:
    nothing per line, no reloads after the commit, and the token's last use written at
    most once a minute."""
    from mypack.auth import tokens
    from mypack.auth.models import User

    with api.app_context():
        token, _ = tokens.create(db.session.scalar(select(User).where(
            User.email == EMAILS["customer"])), "till")
    bearer = {"Authorization": f"Bearer {token}"}
    lines = [{"item_id": item, "quantity": 1} for item in api.item_ids[:2]]
    client.post("/api/v1/orders", headers=bearer, json={"lines": lines})  # last use noted
    with counted_queries(api) as statements:
        response = client.post("/api/v1/orders", headers=bearer, json={"lines": lines})
    assert response.status_code == 201
    assert [line["item_name"] for line in response.get_json()["lines"]] == [
        "Espresso", "Flat white"]
    # The lines: one statement on PostgreSQL and MySQL (batched), one each on SQLite.
    # Besides them: the token's user, the items, the order, and its receipt's outbox
    # row (issue 18: at most one more INSERT).
    others = [s for s in statements if not s.startswith("INSERT INTO order_lines")]
    assert len(others) == 4, others
    assert sum(s.startswith("INSERT INTO outbox_messages") for s in others) == 1
