"""Email confirmation (issue 18, point 9): the link read from a real SMTP server; an
unconfirmed customer browses and logs in but cannot order, in the pages and the API,
and can ask for another link (limited); operators' accounts and existing ones are
confirmed; a changed address replaces the old one only once confirmed; hostile links."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner

from mypack.auth import reset, service
from mypack.orders.models import Order
from tests.factories import (
    PASSWORD,
    add_items,
    audit_events,
    basic,
    count,
    login,
    make_user,
    outbox_rows,
    post_form,
    stored_user,
)
from tests.support.smtp import SITE, mailing_app, parts

LINK = re.compile(re.escape(SITE) + r"(/auth/confirm/[A-Za-z0-9_.\-]+)")
REGISTRATION = {"email": "ada@example.com", "display_name": "Ada", "password": PASSWORD,
                "confirm": PASSWORD, "accept_terms": "y"}


@pytest.fixture
def cafe(make_app, migrated_sqlite, smtp_server):
    """A site on SQLite whose mail goes to the test's SMTP server, with a menu."""
    app = mailing_app(make_app, migrated_sqlite("confirm.sqlite"), smtp_server)
    add_items(app)
    yield app
    app.extensions["outbox"].wait(10)


def register(app, client=None, **changes):
    """Register through the form; the answer, once its mail was handed over."""
    response = post_form(client or app.test_client(), "/auth/register",
                         REGISTRATION | changes)
    assert app.extensions["outbox"].wait(30)
    return response


def mailed_link(smtp_server, count=1) -> str:
    """The path of the confirmation link in the ``count``-th mail to arrive."""
    mail = smtp_server.wait_for(count)[count - 1]
    return LINK.search(parts(mail)[0])[1]


def follow(app, path, client=None):
    """Open a link and press its button, as its owner would."""
    client = client or app.test_client()
    return post_form(client, path, {})


def order_through_the_pages(client, item: int):
    """Choose one of ``item``; the review, then the confirmation's answer."""
    review = post_form(client, "/orders/new", {f"qty-{item}": "1"})
    if review.status_code != 200:
        return review
    fields = dict(re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"',
                             re.search(r'<form[^>]*action="/orders/confirm".*?</form>',
                                       review.text, re.S)[0]))
    return client.post("/orders/confirm", data=fields)


def api_order(app, item: int, email="ada@example.com"):
    return app.test_client().post("/api/v1/orders", headers=basic(email),
                                  json={"lines": [{"item_id": item, "quantity": 1}]})


# --- the whole flow ---------------------------------------------------------------------------

def test_a_new_customer_orders_once_the_mailed_link_confirms_the_address(
        make_app, migrated_url, smtp_server):
    app = mailing_app(make_app, migrated_url, smtp_server)
    item = add_items(app)["Flat white"]
    assert register(app).status_code == 302
    client = app.test_client()
    assert login(client).status_code == 302  # logging in needs no confirmation

    refused = api_order(app, item)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "email_unconfirmed"
    assert order_through_the_pages(client, item).status_code == 403
    assert count(app, Order) == 0

    path = mailed_link(smtp_server)
    shown = app.test_client().get(path)  # opening the link changes nothing
    assert shown.status_code == 200 and "Confirm" in shown.text
    assert not stored_user(app, "ada@example.com").email_confirmed
    assert follow(app, path, client).status_code == 302
    assert stored_user(app, "ada@example.com").email_confirmed
    assert [e.detail for e in audit_events(app, "email_confirm")] == ["by mail link"]

    assert order_through_the_pages(client, item).status_code == 302
    assert api_order(app, item).status_code == 201
    assert count(app, Order) == 2
    app.extensions["outbox"].wait(10)


def test_the_mail_has_both_parts_with_an_absolute_link_from_site_url(cafe, smtp_server):
    client = cafe.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"
    register(cafe, client=client, email="ADA@example.com")
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "ada@example.com"
    assert mail["Subject"] == "Confirm your email address at Café Test"
    text_part, html = parts(mail)
    link = SITE + LINK.search(text_part)[1]
    assert link in html and "evil.example" not in text_part + html
    assert "72 hours" in text_part and "72 hours" in html


def test_a_taken_email_gets_the_same_answer_and_no_mail(cafe, smtp_server):
    make_user(cafe, name="Owner")
    first = register(cafe)
    assert first.status_code == 302
    assert outbox_rows(cafe) == []  # the owner is not mailed, nor is anyone
    assert stored_user(cafe, "ada@example.com").display_name == "Owner"


def test_a_used_link_says_the_address_is_confirmed_already(cafe, smtp_server):
    register(cafe)
    path = mailed_link(smtp_server)
    assert follow(cafe, path).status_code == 302
    again = cafe.test_client()
    assert "confirmed already" in again.get(path).text
    answer = post_form(again, path, {}, token_from="/auth/login")  # the button, pressed late
    assert answer.status_code == 302
    assert "was confirmed already" in again.get(answer.location).text
    assert len(audit_events(cafe, "email_confirm")) == 1


# --- unconfirmed ----------------------------------------------------------------------------

def test_an_unconfirmed_customer_browses_and_is_told_why_they_cannot_order(cafe, smtp_server):
    register(cafe)
    client = cafe.test_client()
    login(client)
    menu = client.get("/")
    assert menu.status_code == 200
    assert "Please confirm your email address" in menu.text
    assert 'action="/auth/confirm"' in menu.text  # the "send again" button, on every page
    page = client.get("/orders/new")
    assert page.status_code == 403
    assert "follow the link in the mail we sent to ada@example.com" in page.text
    assert page.text.count('action="/auth/confirm"') == 1


def test_send_again_from_a_refused_order_comes_back_to_a_page_that_opens(cafe, smtp_server):
    register(cafe)
    client = cafe.test_client()
    login(client)
    item = next(iter(add_items(cafe, [("Mocha", "coffee", "3.00", True)]).values()))
    refused = order_through_the_pages(client, item)
    assert refused.status_code == 403
    form = re.search(r'<form[^>]*send-confirmation.*?</form>', refused.text, re.S)[0]
    assert 'name="next"' not in form  # not back to a POST-only address
    sent = post_form(client, "/auth/confirm", {}, token_from="/")
    assert sent.status_code == 302 and client.get(sent.location).status_code == 200


def test_the_api_says_why_and_documents_the_code(cafe, smtp_server):
    register(cafe)
    item = next(iter(add_items(cafe, [("Mocha", "coffee", "3.00", True)]).values()))
    body = api_order(cafe, item).get_json()["error"]
    assert body["status"] == 403 and body["code"] == "email_unconfirmed"
    assert "/api/v1/me/confirmation" in cafe.test_client().get("/api/v1/openapi.json").text
    me = cafe.test_client().get("/api/v1/me", headers=basic()).get_json()
    assert me["email_confirmed"] is False


def test_send_again_mails_a_new_link_a_few_times_an_hour(cafe, smtp_server):
    register(cafe)  # mail 1
    client = cafe.test_client()
    login(client)
    for sent in (2, 3):
        answer = post_form(client, "/auth/confirm", {"next": "/orders/new"}, token_from="/")
        assert answer.status_code == 302 and answer.location == "/orders/new"
        smtp_server.wait_for(sent)
    refused = post_form(client, "/auth/confirm", {}, token_from="/")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert len(outbox_rows(cafe)) == 3
    # Any of the links confirms; the newest here.
    assert follow(cafe, mailed_link(smtp_server, 3)).status_code == 302
    assert stored_user(cafe, "ada@example.com").email_confirmed


def test_send_again_through_the_api(cafe, smtp_server):
    register(cafe)
    api = cafe.test_client()
    answer = api.post("/api/v1/me/confirmation", headers=basic())
    assert answer.status_code == 202, answer.text
    assert "ada@example.com" in answer.get_json()["message"]
    api.post("/api/v1/me/confirmation", headers=basic())
    limited = api.post("/api/v1/me/confirmation", headers=basic())
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert limited.get_json()["error"]["status"] == 429
    follow(cafe, mailed_link(smtp_server))
    confirmed = api.post("/api/v1/me/confirmation", headers=basic())
    assert confirmed.status_code == 409
    assert confirmed.get_json()["error"]["code"] == "email_confirmed"


def test_an_operator_confirms_by_hand(make_app, migrated_sqlite):
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_sqlite("hand.sqlite"))
    make_user(app, confirmed=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "confirm", "Ada@Example.com"])
    assert result.exit_code == 0 and "ada@example.com confirmed" in result.output
    assert stored_user(app, "ada@example.com").email_confirmed
    [event] = audit_events(app, "email_confirm")
    assert event.detail.startswith("by an operator")
    again = runner.invoke(args=["user", "confirm", "ada@example.com"])
    assert again.exit_code == 0 and "already confirmed" in again.output
    unknown = runner.invoke(args=["user", "confirm", "nobody@example.com"])
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output


# --- hostile and dead links -----------------------------------------------------------------

def test_an_expired_link_says_so_and_offers_a_new_one(cafe, smtp_server, monkeypatch):
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 3 * 86400 - 1)
    register(cafe)
    path = mailed_link(smtp_server)
    monkeypatch.undo()
    response = cafe.test_client().get(path)
    assert response.status_code == 410 and "has expired" in response.text
    assert 'href="/auth/profile"' in response.text
    assert not stored_user(cafe, "ada@example.com").email_confirmed


@pytest.mark.parametrize("change", [
    lambda token: token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:],
    lambda token: token.split(".")[0],
    lambda token: token + "%ff%ED%B3%BF",  # not UTF-8; a lone surrogate
    lambda token: "x" * 600,
])
def test_a_tampered_link_is_refused(cafe, smtp_server, change):
    register(cafe)
    token = mailed_link(smtp_server).rpartition("/")[2]
    response = cafe.test_client().get("/auth/confirm/" + change(token))
    assert response.status_code in (400, 404) and "<html" in response.text.lower()
    assert not stored_user(cafe, "ada@example.com").email_confirmed


def test_a_password_reset_link_is_no_confirmation_link(cafe, smtp_server):
    register(cafe)
    with cafe.app_context():
        forged = reset.make_token(service.find_user("ada@example.com"))
    assert cafe.test_client().get(f"/auth/confirm/{forged}").status_code == 400


def test_the_link_never_reaches_the_log_and_its_page_sends_no_referer(cafe, smtp_server,
                                                                      caplog):
    register(cafe)
    path = mailed_link(smtp_server)
    with caplog.at_level("INFO", logger="mypack.request"):
        page = cafe.test_client().get(path)
    lines = [record.getMessage() for record in caplog.records]
    assert any("/auth/confirm/<token>" in line for line in lines)
    assert not any(path in line for line in lines)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


# --- changing the address -------------------------------------------------------------------

def change_email(client, email, password=PASSWORD):
    return post_form(client, "/auth/email", {"email": email, "password": password},
                     token_from="/auth/profile")


def test_a_new_address_replaces_the_old_one_once_confirmed(make_app, migrated_url,
                                                            smtp_server):
    app = mailing_app(make_app, migrated_url, smtp_server)
    make_user(app)
    client = app.test_client()
    login(client)
    assert change_email(client, "ada@new.example", password="wrong").status_code == 400
    assert change_email(client, "Ada@New.example").status_code == 302
    assert app.extensions["outbox"].wait(30)
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "ada@new.example"
    assert "from ada@example.com to this one" in parts(mail)[0]
    # Nothing changes until the link is used: the old address logs in.
    assert stored_user(app, "ada@example.com") is not None
    assert login(app.test_client(), "ada@example.com").status_code == 302

    path = mailed_link(smtp_server)
    page = " ".join(app.test_client().get(path).text.split())
    assert "from ada@example.com to ada@new.example" in page
    assert follow(app, path).status_code == 302
    assert stored_user(app, "ada@example.com") is None
    assert stored_user(app, "ada@new.example").email_confirmed
    assert login(app.test_client(), "ada@new.example").status_code == 302
    assert [e.detail for e in audit_events(app, "email_change")] == [
        "ada@example.com -> ada@new.example"]
    # Used: it has nothing left to do.
    used = app.test_client().get(path)
    assert used.status_code == 200 and "confirmed already" in used.text
    assert "<button" not in used.text.split("<main", 1)[1]
    app.extensions["outbox"].wait(10)


def test_a_change_to_a_taken_address_says_the_same_and_mails_nobody(cafe, smtp_server):
    make_user(cafe)
    make_user(cafe, "bea@example.com", name="Bea")
    client = cafe.test_client()
    login(client)
    assert change_email(client, "bea@example.com").status_code == 302
    [row] = outbox_rows(cafe)
    assert row.recipient == "bea@example.com" and row.last_error.startswith("skipped:")
    assert smtp_server.messages == []


def test_an_address_taken_meanwhile_is_refused_when_the_link_is_used(cafe, smtp_server):
    make_user(cafe)
    client = cafe.test_client()
    login(client)
    change_email(client, "ada@new.example")
    path = mailed_link(smtp_server)
    make_user(cafe, "ada@new.example", name="Quick")
    answer = follow(cafe, path)
    assert answer.status_code == 409
    assert stored_user(cafe, "ada@example.com") is not None
    assert stored_user(cafe, "ada@new.example").display_name == "Quick"


def test_a_change_link_dies_with_a_password_reset_link_of_the_old_address(cafe, smtp_server):
    # Changing the address kills reset links minted for the old one (their
    # fingerprint holds the address).
    make_user(cafe)
    with cafe.app_context():
        old_reset = reset.make_token(service.find_user("ada@example.com"))
    client = cafe.test_client()
    login(client)
    change_email(client, "ada@new.example")
    follow(cafe, mailed_link(smtp_server))
    assert cafe.test_client().get(f"/auth/reset/{old_reset}").status_code == 400
