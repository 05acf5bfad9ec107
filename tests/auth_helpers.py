"""Helpers for tests that log in: users, CSRF tokens, form posts, API credentials."""

from __future__ import annotations

import base64
import re

from mypack.auth import service
from mypack.extensions import db

PASSWORD = "Flat-White-42"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_user(app, email="ada@example.com", role="customer", password=PASSWORD,
              name="Ada", active=True):
    """A user in the app's database; returns its id."""
    with app.app_context():
        user = service.register(email, name, password, role=role)
        assert user is not None, f"{email} exists already"
        if not active:
            user.active = False
            db.session.commit()
        return user.id


def csrf_token(client, path="/auth/login") -> str:
    """The CSRF token of the form on ``path``, as a browser would read it."""
    match = _TOKEN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match[1]


def post_form(client, path, data, token_from=None, **kwargs):
    """Post a form with the CSRF token of the page it is on."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def login(client, email="ada@example.com", password=PASSWORD, remember=False, next_url=None):
    """Log in through the login form; returns the response."""
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    path = "/auth/login" + (f"?next={next_url}" if next_url else "")
    return post_form(client, path, data)


def logged_in(client) -> bool:
    """Whether the client's cookies carry a live login (the profile page opens)."""
    return client.get("/auth/profile").status_code == 200


def basic(email="ada@example.com", password=PASSWORD) -> dict:
    """The Authorization header of HTTP Basic credentials."""
    credentials = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def bearer(token: str) -> dict:
    """The Authorization header of an API token."""
    return {"Authorization": f"Bearer {token}"}
