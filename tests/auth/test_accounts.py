"""Accounts: registration, login, logout, profile, passwords (security bar 3-10, 15)."""

import hashlib
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from mypack.auth import service
from mypack.auth.models import User
from mypack.auth.names import name_problem
from mypack.extensions import db
from tests.factories import (
    PASSWORD,
    audit_events,
    counted_queries,
    csrf_token,
    logged_in,
    login,
    make_user,
    post_form,
    stored_user,
)

REGISTRATION = {"email": "Bea@Example.com", "display_name": "Bea", "password": "Cortado-Time-7",
                "confirm": "Cortado-Time-7", "accept_terms": "y"}


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
    ({"display_name": "Bea\x1b[2J"}, "Remove the control character U+001B from the name."),
    ({"display_name": "Bea\u202eaeb"}, "Remove the control character U+202E from the name."),
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
    """The signing serializer is kept between requests (mypack.auth.sessions.HeaderAuthSessions),
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
    user_id = make_user(site)
    client = site.test_client()
    login(client)
    post_form(client, "/auth/profile", {"display_name": "Ada L."})
    assert "Ada L." in client.get("/auth/profile").text
    [event] = audit_events(site, "profile_change")
    assert (event.user_id, event.detail) == (user_id, "name Ada -> Ada L.")


@pytest.mark.parametrize("name, character", [
    ("Ada\x1b]0;owned\x07", "U+001B"), ("Ada\nLovelace", "U+000A"), ("Ada\u202e", "U+202E"),
    ("Ada\u200bLovelace", "U+200B"),
])
def test_profile_refuses_control_characters(site, name, character):
    make_user(site)
    client = site.test_client()
    login(client)
    response = post_form(client, "/auth/profile", {"display_name": name})
    assert response.status_code == 400
    assert f"Remove the control character {character} from the name." in response.text
    assert stored_user(site, "ada@example.com").display_name == "Ada"


#: Display names as people write them: any script, accents, emoji, and the joiners
#: that Persian and the Indic scripts spell with and emoji sequences are built with.
GOOD_NAMES = ["Zoë", "José María O'Brien-Smith", "محمد", "می\u200cخواهم", "क्षत्रिय",
              "李小龍", "Ada \U0001f469\u200d\U0001f4bb", "\U0001f1eb\U0001f1f7 Élodie",
              "  Ada  "]
#: What no name needs, each with the character the message names.
BAD_NAMES = [
    ("Ada\x00", "U+0000"), ("Ada\x1b[31mred", "U+001B"), ("A\tda", "U+0009"),
    ("A\nda", "U+000A"), ("A\rda", "U+000D"), ("A\x7fda", "U+007F"),
    ("A\x85da", "U+0085"), ("A\x9bda", "U+009B"),  # C1: NEL, and CSI, ESC [ in one
    ("Ada\u202egnp.exe", "U+202E"), ("Ada\u202a", "U+202A"), ("Ada\u2066", "U+2066"),
    ("Ada\u200f", "U+200F"), ("Ada\u061c", "U+061C"),  # bidirectional controls
    ("A\u200bda", "U+200B"), ("A\u2060da", "U+2060"), ("A\ufeffda", "U+FEFF"),
    ("A\u00adda", "U+00AD"), ("Ada\U000e0041", "U+E0041"),  # invisible ones
    ("A\u2028da", "U+2028"), ("A\u2029da", "U+2029"),  # line breaks by other names
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_names_of_every_script_are_welcome(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name, character", BAD_NAMES)
def test_names_refuse_control_format_and_line_separator_characters(name, character):
    assert name_problem(name) == f"Remove the control character {character} from the name."


@pytest.mark.parametrize("name, message", [
    ("", "Enter a name."), (" \t ", "Enter a name."),
    ("x" * 101, "Use at most 100 characters."),
])
def test_names_are_not_empty_nor_too_long(name, message):
    assert name_problem(name) == message


@pytest.mark.parametrize("name, character", BAD_NAMES[:4] + BAD_NAMES[8:11])
def test_the_service_keeps_the_name_rule_for_every_caller(site, name, character):
    with site.app_context(), pytest.raises(service.AccountError, match=re.escape(character)):
        service.register("bea@example.com", name, PASSWORD)
    user_id = make_user(site)
    with site.app_context():
        ada = db.session.get(User, user_id)
        with pytest.raises(service.AccountError, match=re.escape(character)):
            service.change_name(ada, name)
        with pytest.raises(service.AccountError, match=re.escape(character)):
            service.update_user(ada, email=ada.email, display_name=name, role=ada.role,
                                active=True)
    assert stored_user(site, "ada@example.com").display_name == "Ada"
    assert stored_user(site, "bea@example.com") is None


def test_register_takes_a_name_in_any_script(site):
    name = "می\u200cخواهم \U0001f469\u200d\U0001f4bb"
    post_form(site.test_client(), "/auth/register", {**REGISTRATION, "display_name": name})
    assert stored_user(site, "bea@example.com").display_name == name


@pytest.fixture
def idle_site(make_app, migrated_sqlite):
    """A site whose sessions end after 60 idle seconds, with Ada and Bea as users."""
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_sqlite(), SESSION_IDLE_TIMEOUT=60)
    make_user(app)
    make_user(app, "bea@example.com", name="Bea")
    return app


def idle(client, seconds=61):
    """As if the browser had sent nothing for ``seconds``."""
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - seconds


def remember_cookie(app, email="ada@example.com", password=PASSWORD) -> str:
    """The remember cookie a browser gets from logging in as ``email`` with remember me."""
    browser = app.test_client()
    assert login(browser, email, password, remember=True).status_code == 302
    return browser.get_cookie("remember_token").value


def test_idle_session_ends(idle_site):
    client = idle_site.test_client()
    login(client)
    assert logged_in(client)
    idle(client)
    assert not logged_in(client)


def test_a_valid_remember_cookie_outlives_the_idle_timeout(idle_site):
    client = idle_site.test_client()
    login(client, remember=True)
    assert logged_in(client)
    idle(client)
    assert logged_in(client)


def _revoked_by_logout(app):
    browser = app.test_client()
    login(browser, remember=True)
    cookie = browser.get_cookie("remember_token").value
    post_form(browser, "/auth/logout", {}, token_from="/")
    return cookie, PASSWORD


def _revoked_by_password_change(app):
    browser = app.test_client()
    login(browser, remember=True)
    cookie = browser.get_cookie("remember_token").value
    post_form(browser, "/auth/password", {"current": PASSWORD, "password": "New-Macchiato-9",
                                          "confirm": "New-Macchiato-9"},
              token_from="/auth/profile")
    return cookie, "New-Macchiato-9"


def _ada_login_id(app) -> str:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == "ada@example.com")).get_id()


#: Remember cookies that must not keep Ada's idle session alive: (cookie, Ada's password).
NOT_ADAS_REMEMBER_COOKIE = {
    "garbage": lambda app: ("anything", PASSWORD),
    "empty": lambda app: ("", PASSWORD),
    "her login id, unsigned": lambda app: (_ada_login_id(app), PASSWORD),
    "her login id, forged signature": lambda app: (f"{_ada_login_id(app)}|{'0' * 128}",
                                                   PASSWORD),
    "her login id, another key's signature": lambda app: (
        encode_cookie(_ada_login_id(app), key="not the app's key"), PASSWORD),
    "another user's": lambda app: (remember_cookie(app, "bea@example.com"), PASSWORD),
    "revoked by a logout": _revoked_by_logout,
    "revoked by a password change": _revoked_by_password_change,
}


@pytest.mark.parametrize("kind", NOT_ADAS_REMEMBER_COOKIE)
def test_only_a_valid_remember_cookie_outlives_the_idle_timeout(idle_site, kind):
    cookie, password = NOT_ADAS_REMEMBER_COOKIE[kind](idle_site)
    client = idle_site.test_client()
    login(client, password=password)  # without remember me
    client.set_cookie("remember_token", cookie)
    assert logged_in(client)
    idle(client)
    assert not logged_in(client)
    assert client.get_cookie("remember_token") is None  # deleted with the session


def test_a_password_change_keeps_remember_me(idle_site):
    client = idle_site.test_client()
    login(client, remember=True)
    old = client.get_cookie("remember_token").value
    post_form(client, "/auth/password", {"current": PASSWORD, "password": "New-Macchiato-9",
                                         "confirm": "New-Macchiato-9"},
              token_from="/auth/profile")
    assert client.get_cookie("remember_token").value != old
    idle(client)
    assert logged_in(client)


def test_logout_deletes_the_remember_cookie(site):
    make_user(site)
    client = site.test_client()
    login(client, remember=True)
    assert client.get_cookie("remember_token") is not None
    response = post_form(client, "/auth/logout", {}, token_from="/")
    [deleted] = [c for c in response.headers.getlist("Set-Cookie")
                 if c.startswith("remember_token=")]
    assert deleted.startswith("remember_token=;") and "Max-Age=0" in deleted, deleted
    assert client.get_cookie("remember_token") is None
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

def test_weaker_hashes_are_upgraded_at_login(make_app, migrated_sqlite):
    strong = "pbkdf2:sha256:600000"
    database = migrated_sqlite()
    app = make_app(SQLALCHEMY_DATABASE_URI=database)
    user_id = make_user(app)  # hashed with the testing config's 1,000 iterations
    strong_app = make_app(SQLALCHEMY_DATABASE_URI=database, PASSWORD_HASH_METHOD=strong)
    assert login(strong_app.test_client()).status_code == 302
    with strong_app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith(strong + "$")


def test_production_hashes_meet_asvs(instance_path):
    from mypack.config import ProductionConfig

    method, hash_name, iterations = ProductionConfig.PASSWORD_HASH_METHOD.split(":")
    assert (method, hash_name) == ("pbkdf2", "sha256") and int(iterations) >= 600_000


def test_production_cookies_are_secure(instance_path, migrated_sqlite):
    from mypack import create_app
    app = create_app("production", instance_path, SECRET_KEY="Qm8dT2xLw9Pz-" * 5,
                     SQLALCHEMY_DATABASE_URI=migrated_sqlite(),
                     ALLOW_SQLITE_IN_PRODUCTION=True)
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
def test_a_login_is_five_statements(site, failures_before):
    """The account and its throttle row in one query, the try claimed before the
    password is checked (one UPDATE, committed, so concurrent attempts see it), the
    failures forgiven, the last login and the audit record."""
    make_user(site)
    client = site.test_client()
    login(client)  # the email's throttle row exists from its first login on
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/profile")})
    for _ in range(failures_before):
        login(client, password="not the password")
    token = csrf_token(client)
    with counted_queries(site) as statements:
        response = client.post("/auth/login", data={
            "csrf_token": token, "email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert len(statements) == 5, statements


@pytest.mark.parametrize("email", ["ada\x1b[31m@example.com", "ada@exam\x07ple.com",
                                   "ada\x9b31m@example.com"])
def test_emails_with_control_characters_are_refused(site, email):
    from mypack.auth import service

    client = site.test_client()
    response = post_form(client, "/auth/register", {
        "email": email, "display_name": "Ada", "password": PASSWORD, "confirm": PASSWORD},
        token_from="/auth/register")
    assert response.status_code == 400 and "Enter an email address." in response.text
    with site.app_context(), pytest.raises(service.AccountError, match="control characters"):
        service.register(email, "Ada", PASSWORD)
