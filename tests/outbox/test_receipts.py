"""Mail through the outbox, in-process (jobs run at once, as in development), to a real
SMTP server: the receipt of an order, written with the order; a delivery run twice
sends once; a mail server that refuses is tried again and given up on, and the order
is never affected."""

from __future__ import annotations

import logging

import pytest

from mypack.database import utcnow
from mypack.extensions import db
from mypack.outbox import service
from mypack.outbox.models import OutboxMessage
from mypack.outbox.tasks import deliver
from tests.factories import EMAILS, add_items, add_people, auth, count, outbox_rows, place
from tests.support.smtp import parts

SITE = "https://cafe.example.com"


@pytest.fixture
def cafe(make_app, migrated_url, smtp_server):
    """A site on each backend whose mail goes to the test's SMTP server."""
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_url, SITE_URL=SITE, SITE_NAME="Café Test",
                   MAIL_DEFAULT_SENDER="Café Test <orders@cafe.example.com>",
                   MAIL_REPLY_TO="help@cafe.example.com", OUTBOX_RETRY_SECONDS=0,
                   **smtp_server.settings())
    add_people(app, ("customer",))
    app.item_ids = add_items(app)
    yield app
    app.extensions["outbox"].wait(10)



def test_an_order_placed_through_the_api_sends_its_receipt(cafe, smtp_server):
    ids = cafe.item_ids
    response = cafe.test_client().post(
        "/api/v1/orders", headers={**auth("customer"), "Host": "evil.example"},
        json={"lines": [{"item_id": ids["Espresso"], "quantity": 2},
                        {"item_id": ids["Croissant"], "quantity": 1}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    order_id = response.get_json()["id"]
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == EMAILS["customer"]
    assert mail["From"] == "Café Test <orders@cafe.example.com>"
    assert mail["Reply-To"] == "help@cafe.example.com"
    assert mail["Subject"] == f"Your order #{order_id} at Café Test"
    assert mail["Message-ID"].startswith("<outbox.1.") and mail["Message-ID"].endswith(
        "@cafe.example.com>")
    text, html = parts(mail)
    for body in (text, html):
        assert "Espresso" in body and "4.40" in body and "Croissant" in body
        assert "4.50" in body  # the total: 2 x 2.20 + 0.10
        # Links from SITE_URL, never from the request's Host header.
        assert f"{SITE}/orders/{order_id}" in body and "evil.example" not in body
    [row] = outbox_rows(cafe)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None


def test_names_in_a_receipt_are_escaped_in_its_html(cafe, smtp_server):
    with cafe.app_context():
        from mypack.menu.models import MenuItem

        db.session.get(MenuItem, cafe.item_ids["Espresso"]).name = "<b>Bold</b> & co"
        db.session.commit()
    place(cafe, EMAILS["customer"], {cafe.item_ids["Espresso"]: 1}, "key-escape-0001")
    text, html = parts(smtp_server.wait_for(1)[0])
    assert "<b>Bold</b> & co" in text
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in html and "<b>Bold" not in html


def test_an_order_that_is_refused_leaves_no_mail(cafe, smtp_server):
    client = cafe.test_client()
    response = client.post("/api/v1/orders", headers=auth("customer"),
                           json={"lines": [{"item_id": cafe.item_ids["Cold brew"],
                                            "quantity": 1}]})  # not available
    assert response.status_code == 409
    cafe.extensions["outbox"].wait(10)
    assert outbox_rows(cafe) == [] and smtp_server.messages == []


def test_a_delivery_run_again_sends_nothing_more(cafe, smtp_server):
    place(cafe, EMAILS["customer"], {cafe.item_ids["Espresso"]: 1}, "key-twice-000001")
    smtp_server.wait_for(1)
    [row] = outbox_rows(cafe)
    # A task delivered twice (a redelivery, a second hand-over by the sweep).
    with cafe.app_context():
        assert deliver.apply(args=[row.id]).get() == "done"
    assert len(smtp_server.messages) == 1
    assert outbox_rows(cafe)[0].attempts == 1


def test_a_claimed_row_is_not_sent_by_a_second_task(cafe, smtp_server):
    with cafe.app_context():
        message = service.enqueue("order_receipt", "x@example.com", {})
        db.session.flush()
        message_id = message.id
        # Claimed as a task would, before the commit's hand-over could run.
        db.session.commit()
    cafe.extensions["outbox"].wait(10)
    with cafe.app_context():
        # Sent by then; a row claimed by a live task is BUSY to another.
        db.session.execute(OutboxMessage.__table__.update().values(
            sent_at=None, claimed_at=utcnow()))
        db.session.commit()
        assert service.claim(message_id) == service.BUSY


def test_a_refusing_mail_server_is_tried_again_then_given_up_and_the_order_stands(
        cafe, smtp_server, caplog):
    caplog.set_level(logging.WARNING, logger="mypack.outbox")
    smtp_server.refuse = "451 4.3.0 Try again later"
    response = cafe.test_client().post(
        "/api/v1/orders", headers=auth("customer"),
        json={"lines": [{"item_id": cafe.item_ids["Espresso"], "quantity": 1}]})
    assert response.status_code == 201
    assert cafe.extensions["outbox"].wait(30)
    limit = cafe.config["OUTBOX_MAX_ATTEMPTS"]
    assert smtp_server.refused == limit and smtp_server.messages == []
    [row] = outbox_rows(cafe)
    assert row.failed_at is not None and row.sent_at is None and row.attempts == limit
    assert row.last_error.startswith("SMTPDataError: (451")
    warnings = [r.getMessage() for r in caplog.records if r.name == "mypack.outbox.tasks"]
    assert len(warnings) == limit
    assert warnings[-1].startswith(f"outbox: gave up on order_receipt mail {row.id} ")
    assert all(not r.exc_info for r in caplog.records)
    # The order itself is there, placed, whatever happened to its mail.
    from mypack.orders.models import Order
    assert count(cafe, Order) == 1
