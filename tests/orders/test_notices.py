"""Mail of an order's moves, to a real SMTP server: "ready for collection" and the
cancellation notice, written with the move itself; customers turn them off on their
profile (the receipt still comes)."""

from __future__ import annotations

import re

import pytest

from tests.factories import EMAILS, add_items, add_people, auth, basic, client_as, post_form
from tests.support.smtp import parts

SITE = "https://cafe.example.com"


@pytest.fixture
def cafe(make_app, migrated_url, smtp_server):
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_url, SITE_URL=SITE,
                   **smtp_server.settings())
    add_people(app, ("customer", "staff"))
    app.item_ids = add_items(app)
    yield app
    assert app.extensions["outbox"].wait(10)


def place(app) -> int:
    response = app.test_client().post(
        "/api/v1/orders", headers=auth("customer"),
        json={"lines": [{"item_id": app.item_ids["Espresso"], "quantity": 1}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def move(app, who, order_id, seen, to):
    return app.test_client().post(f"/api/v1/orders/{order_id}/status", headers=auth(who),
                                  json={"from": seen, "to": to})


def subjects(app, smtp_server) -> list[str]:
    assert app.extensions["outbox"].wait(30)
    return [message["Subject"] for message in smtp_server.messages]


def test_ready_for_collection_is_mailed_once_staff_mark_it(cafe, smtp_server):
    order_id = place(cafe)
    assert move(cafe, "staff", order_id, "placed", "preparing").status_code == 200
    assert subjects(cafe, smtp_server) == [f"Your order #{order_id} at mypack café"]
    assert move(cafe, "staff", order_id, "preparing", "ready").status_code == 200
    ready = smtp_server.wait_for(2)[1]
    assert ready["Subject"] == f"Your order #{order_id} is ready for collection"
    assert ready["To"] == EMAILS["customer"]
    text, html = parts(ready)
    for body in (text, html):
        assert f"{SITE}/orders/{order_id}" in body and f"{SITE}/auth/profile#mail" in body
    # A move someone else made first changes nothing, and mails nothing.
    assert move(cafe, "staff", order_id, "preparing", "ready").status_code == 409
    assert len(subjects(cafe, smtp_server)) == 2


def test_a_cancellation_says_who_cancelled(cafe, smtp_server):
    mine, theirs = place(cafe), place(cafe)
    assert cafe.test_client().post(f"/api/v1/orders/{mine}/status", headers=auth("customer"),
                                   json={"from": "placed", "to": "cancelled"}).status_code == 200
    assert move(cafe, "staff", theirs, "placed", "cancelled").status_code == 200
    notices = {message["Subject"]: parts(message)[0]
               for message in smtp_server.wait_for(4) if "cancelled" in message["Subject"]}
    assert "you cancelled your order" in notices[f"Your order #{mine} is cancelled"]
    assert "had to cancel your order" in notices[f"Your order #{theirs} is cancelled"]


def test_a_customer_who_turned_order_updates_off_gets_only_the_receipt(cafe, smtp_server):
    client = client_as(cafe, "bea@example.com")
    assert ticked(client)  # on for a new account
    response = post_form(client, "/auth/mail", {}, token_from="/auth/profile")  # unticked
    assert response.status_code == 302
    assert not ticked(client)
    response = cafe.test_client().post("/api/v1/orders", headers=basic("bea@example.com"),
                           json={"lines": [{"item_id": cafe.item_ids["Espresso"],
                                            "quantity": 1}]})
    assert response.status_code == 201
    order_id = response.get_json()["id"]
    for seen, to in (("placed", "preparing"), ("preparing", "ready")):
        assert move(cafe, "staff", order_id, seen, to).status_code == 200
    assert subjects(cafe, smtp_server) == [f"Your order #{order_id} at mypack café"]
    # And on again.
    assert post_form(client, "/auth/mail", {"order_updates": "y"},
                     token_from="/auth/profile").status_code == 302
    assert ticked(client)
    assert move(cafe, "staff", order_id, "ready", "collected").status_code == 200
    assert len(subjects(cafe, smtp_server)) == 1  # collected is not mailed


def ticked(client) -> bool:
    """Whether the profile's box for mail of order updates is ticked."""
    tag = re.search(r'<input[^>]*id="order_updates"[^>]*>', client.get("/auth/profile").text)
    assert tag, "no order_updates box on the profile"
    return " checked" in tag[0]
