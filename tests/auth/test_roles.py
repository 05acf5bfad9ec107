"""One role gate (mypack.auth.roles) for the pages, the API and the console: the same
callers get the same answers through every door, in JSON or HTML as they ask."""

from __future__ import annotations

import pytest

from mypack.auth import tokens
from mypack.auth.credentials import CHALLENGE
from tests.factories import PASSWORD, basic, bearer, login, make_user

#: One door of each kind: the page and the console need staff and admin, the API a login.
DOORS = {"page": "/staff/items", "api": "/api/v1/me", "console": "/admin/"}


@pytest.fixture
def people(site):
    for email, role in (("cus@example.com", "customer"), ("sta@example.com", "staff"),
                        ("adm@example.com", "admin")):
        make_user(site, email, role=role, name=role)
    return site


@pytest.mark.parametrize("door", ["page", "console"])
def test_nobody_logged_in_gets_the_login_page_or_401_as_asked(people, door):
    client = people.test_client()
    page = client.get(DOORS[door])
    assert page.status_code == 302 and page.location.startswith("/auth/login?next=")
    answer = client.get(DOORS[door], headers={"Accept": "application/json"})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == CHALLENGE
    assert answer.json["error"]["message"] == (
        "Authenticate with HTTP Basic (email, password) or a Bearer token.")


def test_the_api_answers_nobody_alike(people):
    answer = people.test_client().get(DOORS["api"])
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == CHALLENGE


@pytest.mark.parametrize("email, page, console", [
    ("cus@example.com", 403, 403),
    ("sta@example.com", 200, 403),
    ("adm@example.com", 200, 200),
])
def test_roles_decide_alike_at_every_door(people, email, page, console):
    browser = people.test_client()
    login(browser, email=email, password=PASSWORD)
    assert browser.get(DOORS["page"]).status_code == page
    assert browser.get(DOORS["console"]).status_code == console
    # The same caller with Basic credentials, asking for JSON: the same decisions.
    api = people.test_client()
    for door, status in (("page", page), ("console", console)):
        answer = api.get(DOORS[door], headers={**basic(email), "Accept": "application/json"})
        assert answer.status_code == status
        if status == 403:
            assert answer.json["error"]["message"] == "Your role may not do this."


def test_a_read_token_writes_through_no_door(people):
    with people.app_context():
        from mypack.auth import service

        admin = service.find_user("adm@example.com")
        token, _ = tokens.create(admin, "reader", scope=tokens.READ)
    client = people.test_client()
    # Reading is allowed everywhere the role is.
    assert client.get(DOORS["console"], headers=bearer(token)).status_code == 200
    assert client.get(DOORS["api"], headers=bearer(token)).status_code == 200
    # Writing is not.
    answer = client.delete("/api/v1/items/1", headers=bearer(token))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
