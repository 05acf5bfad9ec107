"""Accounts: registration, login, logout, profile, passwords (security bar 3-10, 15)."""

import hashlib
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest
from sqlalchemy import select

from mypack.audit import AuditEvent
from mypack.auth.models import User
from mypack.extensions import db

from .auth_helpers import PASSWORD, csrf_token, logged_in, login, make_user, post_form

REGISTRATION = {"email": "Bea@Example.com", "display_name": "Bea", "password": "Cortado-Time-7",
                "confirm": "Cortado-Time-7", "accept_terms": "y"}


def stored_user(app, email):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def audit_events(app, event=None):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if event:
            query = query.where(AuditEvent.event == event)
        return list(db.session.scalars(query))


# --- registration ---------------------------------------------------------------------------

def test_register_creates_a_customer(site):
    client = site.test_client()
    response = post_form(client, "/auth/register", REGISTRATION)
    assert response.status_code == 302 and response.location.endswith("/auth/login")
    user = stored_user(site, "bea@example.com")  # stored in lower case
    assert user.role == "customer" and user.active and user.display_name == "Bea"
    assert user.password_hash.startswith("pbkdf2:sha256:1000$")
    assert "Cortado" not in user.password_hash
    assert logged_in(client) is False
    assert login(client, "BEA@example.COM", "Cortado-Time-7").status_code == 302


@pytest.mark.parametrize("changes, message", [
    ({"password": "short1!", "confirm": "short1!"}, "Use at least 8 characters."),
    ({"password": "password123", "confirm": "password123"}, "too common"),
    ({"password": "bea@example.com", "confirm": "bea@example.com"}, "too common"),
    ({"confirm": "something-else"}, "The passwords differ."),
    ({"accept_terms": ""}, "Please accept the terms"),
    ({"email": "not-an-email"}, "Enter an email address."),
    ({"display_name": ""}, "This field is required."),
    ({"display_name": "x" * 101}, "Field cannot be longer than 100 characters."),
])
def test_register_refuses_bad_input(site, changes, message):
    response = post_form(site.test_client(), "/auth/register", {**REGISTRATION, **changes})
    assert response.status_code == 400
    assert message in response.text
    assert "Cortado-Time-7" not in response.text  # a password is never echoed
    assert stored_user(site, "bea@example.com") is None


def test_register_does_not_reveal_existing_emails(site):
    make_user(site, "bea@example.com")
    answers = []
    for email in ("new@example.com", "bea@example.com"):
        client = site.test_client()
        response = post_form(client, "/auth/register", {**REGISTRATION, "email": email})
        answers.append((response.status_code, response.location, cookie_names(response),
                        without_token(client.get(response.location).text)))
    assert answers[0] == answers[1]
    assert "Thank you for registering" in answers[0][3]
    assert stored_user(site, "new@example.com") is not None


def test_a_64_character_password_works(site):
    long_password = "correct horse battery staple " * 2 + "coffee"
    assert len(long_password) >= 64
    client = site.test_client()
    post_form(client, "/auth/register", {**REGISTRATION, "password": long_password,
                                         "confirm": long_password})
    assert login(client, "bea@example.com", long_password).status_code == 302


def cookie_names(response):
    return sorted(header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie"))


# --- login ------------------------------------------------------------------------------------

def test_login_and_logout(site):
    make_user(site)
    client = site.test_client()
    response = login(client)
    assert response.status_code == 302 and response.location == "/"
    assert logged_in(client)
    page = client.get("/").text
    assert "Ada" in page and "Log out" in page
    assert post_form(client, "/auth/logout", {}, token_from="/").status_code == 302
    assert not logged_in(client)


def without_token(html: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_unknown_email_and_wrong_password_look_the_same(site):
    make_user(site)
    wrong = login(site.test_client(), password="Wrong-Password-1")
    unknown = login(site.test_client(), email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 200
    assert "Invalid email or password." in wrong.text
    assert without_token(wrong.text) == without_token(unknown.text).replace(
        "nobody@example.com", "ada@example.com")
    assert cookie_names(wrong) == cookie_names(unknown)


def test_unknown_email_costs_one_password_hash_like_a_known_one(site, monkeypatch):
    make_user(site)
    calls = []
    real = hashlib.pbkdf2_hmac

    def counting(*args, **kwargs):
        calls.append(args[2] if len(args) > 2 else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    for email in ("ada@example.com", "nobody@example.com"):
        client = site.test_client()
        token = csrf_token(client)
        calls.clear()
        client.post("/auth/login", data={"csrf_token": token, "email": email,
                                          "password": "Wrong-Password-1"})
        assert len(calls) == 1, email  # exactly one hash of the configured cost


@pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "https://evil.example", "\\\\\\evil.example",
    "http:evil.example", "////evil.example", "javascript:alert(1)", "/\t/evil.example",
    "\t//evil.example", "/\n/evil.example",
])
def test_login_never_redirects_off_site(site, target):
    make_user(site)
    response = login(site.test_client(), next_url=quote(target, safe=""))
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.parametrize("target", ["/auth/profile", "/?page=2"])
def test_login_keeps_a_relative_next(site, target):
    make_user(site)
    response = login(site.test_client(), next_url=quote(target, safe="/"))
    assert response.location == target


def test_login_starts_a_fresh_session(site):
    make_user(site)
    client = site.test_client()
    client.get("/auth/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    login(client)
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session


def test_session_signing_follows_the_keys_of_the_moment(site):
    """The signing serializer is kept between requests (mypack.auth.HeaderAuthSessions),
    so a changed SECRET_KEY or SECRET_KEY_FALLBACKS must still take effect at once."""
    make_user(site)
    client = site.test_client()
    login(client)
    cookie = client.get_cookie("session").value
    interface = site.session_interface
    assert interface.get_signing_serializer(site) is interface.get_signing_serializer(site)
    old_key = site.config["SECRET_KEY"]
    site.config["SECRET_KEY"] = "a-new-key-for-the-cafe-" * 3
    assert not logged_in(client), "a cookie signed with the old key still logs in"
    site.config["SECRET_KEY_FALLBACKS"] = [old_key]
    client.set_cookie("session", cookie)
    assert logged_in(client)


def test_a_request_without_cookies_gets_none(site):
    for path in ("/healthz", "/api/v1/items"):
        response = site.test_client().get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path


def test_deactivated_user_cannot_log_in_and_is_logged_out(site):
    user_id = make_user(site)
    client = site.test_client()
    login(client)
    with site.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert not logged_in(client)
    response = login(site.test_client())
    assert "This account is deactivated." in response.text


# --- sessions, remember me, password change -------------------------------------------------

def test_logout_makes_captured_cookies_worthless(site):
    make_user(site)
    client = site.test_client()
    login(client, remember=True)
    captured = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    post_form(client, "/auth/logout", {}, token_from="/")
    for name, value in captured.items():
        replay = site.test_client()
        replay.set_cookie(name, value)
        assert not logged_in(replay), f"the {name} cookie still logs in"


def test_remember_cookie_logs_in_a_new_browser_session(site):
    make_user(site)
    client = site.test_client()
    login(client, remember=True)
    fresh = site.test_client()
    fresh.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert logged_in(fresh)


def test_tampered_remember_cookie_is_ignored(site):
    make_user(site)
    client = site.test_client()
    login(client, remember=True)
    value = client.get_cookie("remember_token").value
    forged = site.test_client()
    forged.set_cookie("remember_token", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert not logged_in(forged)


def test_password_change_ends_other_sessions_but_not_this_one(site):
    make_user(site)
    mine, other = site.test_client(), site.test_client()
    login(mine)
    login(other, remember=True)
    remember = other.get_cookie("remember_token").value
    response = post_form(mine, "/auth/password", {"current": PASSWORD,
                                                  "password": "New-Macchiato-9",
                                                  "confirm": "New-Macchiato-9"},
                         token_from="/auth/profile")
    assert response.status_code == 302
    assert logged_in(mine)
    assert not logged_in(other)
    replay = site.test_client()
    replay.set_cookie("remember_token", remember)
    assert not logged_in(replay)
    assert login(site.test_client(), password="New-Macchiato-9").status_code == 302


def test_password_change_needs_the_current_password(site):
    make_user(site)
    client = site.test_client()
    login(client)
    response = post_form(client, "/auth/password", {"current": "not-it-at-all",
                                                    "password": "New-Macchiato-9",
                                                    "confirm": "New-Macchiato-9"},
                         token_from="/auth/profile")
    assert response.status_code == 400
    assert "The current password is not right." in response.text
    assert "New-Macchiato-9" not in response.text


def test_profile_changes_the_name(site):
    make_user(site)
    client = site.test_client()
    login(client)
    post_form(client, "/auth/profile", {"display_name": "Ada L."})
    assert "Ada L." in client.get("/auth/profile").text


def test_idle_session_ends(make_app, tmp_path):
    from tests.db_helpers import upgrade

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'idle.sqlite'}",
                   SESSION_IDLE_TIMEOUT=60)
    upgrade(app)
    make_user(app)
    client = app.test_client()
    login(client)
    assert logged_in(client)
    with client.session_transaction() as session:
        session["last_seen"] -= 61
    assert not logged_in(client)


def test_cookies_are_httponly_samesite_and_bounded(site):
    make_user(site)
    response = login(site.test_client(), remember=True)
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
    expires = re.search(r"Expires=([^;]+)", cookies["remember_token"])[1]
    days = (parsedate_to_datetime(expires) - datetime.now(UTC)).days
    assert 29 <= days <= 30


# --- CSRF ----------------------------------------------------------------------------------

def test_form_post_without_csrf_token_is_refused(site):
    make_user(site)
    response = site.test_client().post("/auth/login", data={"email": "ada@example.com",
                                                            "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.text


def test_another_sessions_csrf_token_is_refused(site):
    make_user(site)
    token = csrf_token(site.test_client())
    victim = site.test_client()
    victim.get("/auth/login")
    response = victim.post("/auth/login", data={"csrf_token": token, "email": "ada@example.com",
                                                "password": PASSWORD})
    assert response.status_code == 400


def test_logout_is_post_only(site):
    make_user(site)
    client = site.test_client()
    login(client)
    assert client.get("/auth/logout").status_code == 405
    assert logged_in(client)


# --- audit ---------------------------------------------------------------------------------

def test_login_events_are_audited(site):
    user_id = make_user(site)
    client = site.test_client()
    login(client, password="Wrong-Password-1")
    login(site.test_client(), email="ghost@example.com")
    login(client)
    post_form(client, "/auth/logout", {}, token_from="/")
    events = [(e.event, e.user_id, e.email) for e in audit_events(site)]
    assert events == [
        ("register", user_id, "ada@example.com"),
        ("login_failure", user_id, "ada@example.com"),
        ("login_failure", None, "ghost@example.com"),
        ("login_success", user_id, "ada@example.com"),
        ("logout", user_id, "ada@example.com"),
    ]
    for event in audit_events(site)[1:]:
        assert event.ip == "127.0.0.1" and re.fullmatch(r"[0-9a-f]{32}", event.request_id)
        assert event.created_at is not None


# --- password hashing ----------------------------------------------------------------------

def test_weaker_hashes_are_upgraded_at_login(make_app, tmp_path):
    from tests.db_helpers import upgrade

    strong = "pbkdf2:sha256:600000"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hash.sqlite'}")
    upgrade(app)
    user_id = make_user(app)  # hashed with the testing config's 1,000 iterations
    strong_app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hash.sqlite'}",
                          PASSWORD_HASH_METHOD=strong)
    assert login(strong_app.test_client()).status_code == 302
    with strong_app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith(strong + "$")


def test_production_hashes_meet_asvs(instance_path):
    from mypack.config import ProductionConfig

    method, hash_name, iterations = ProductionConfig.PASSWORD_HASH_METHOD.split(":")
    assert (method, hash_name) == ("pbkdf2", "sha256") and int(iterations) >= 600_000


def test_production_cookies_are_secure(instance_path, tmp_path):
    from mypack import create_app
    from tests.db_helpers import upgrade

    app = create_app("production", instance_path, SECRET_KEY="Qm8dT2xLw9Pz-" * 5,
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'prod.sqlite'}",
                     ALLOW_SQLITE_IN_PRODUCTION=True)
    upgrade(app)
    make_user(app)
    client = app.test_client()
    https = "https://localhost"  # as behind the TLS proxy
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/auth/login", base_url=https).text)[1]
    response = client.post("/auth/login", base_url=https,
                           data={"csrf_token": token, "email": "ada@example.com",
                                 "password": PASSWORD, "remember": "y"},
                           headers={"Referer": "https://localhost/auth/login"})
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "Secure" in cookies[name] and "HttpOnly" in cookies[name], cookies[name]


def test_logged_in_pages_are_private(site):
    make_user(site)
    client = site.test_client()
    login(client)
    response = client.get("/auth/profile")
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    assert "Cookie" in response.headers["Vary"]


def test_a_failed_login_does_not_echo_the_password(site):
    make_user(site)
    response = login(site.test_client(), password="Secret-Guess-77")
    assert "Secret-Guess-77" not in response.text


def test_no_debugger_console_in_production(instance_path):
    from mypack import create_app

    app = create_app("production", instance_path, SECRET_KEY="Qm8dT2xLw9Pz-" * 5,
                     SQLALCHEMY_DATABASE_URI="postgresql://u@127.0.0.1:1/d")
    assert app.test_client().get("/console", base_url="https://localhost").status_code == 404


@pytest.mark.parametrize("failures_before", [0, 2])
def test_a_login_is_three_queries(site, failures_before):
    """The account and its failure count in one query, the audit record, the last
    login (and the forgiven failures when there were some)."""
    from .queries import counted_queries

    make_user(site)
    client = site.test_client()
    for _ in range(failures_before):
        login(client, password="not the password")
    token = csrf_token(client)
    with counted_queries(site) as statements:
        response = client.post("/auth/login", data={
            "csrf_token": token, "email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert len(statements) == 3 + (failures_before > 0), statements
