"""Brute force: per-email lockout in the database, per-client rate limits, roles
(security bar 1, 2, 16), on SQLite, PostgreSQL and MySQL."""

import json
import subprocess
import sys
import textwrap
import threading
import uuid
from datetime import timedelta

import pytest
from flask import jsonify
from sqlalchemy import select

from mypack.audit import AuditEvent
from mypack.auth.models import LoginThrottle
from mypack.auth.roles import role_required
from mypack.extensions import db
from tests.factories import PASSWORD, logged_in, login, make_user, post_form
from tests.support.system import ROOT

WRONG = "Wrong-Password-1"


def client_at(app, address):
    """A test client with its own address (the rate limit counts per client)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def fail(client, times, email="ada@example.com"):
    for _ in range(times):
        response = login(client, email=email, password=WRONG)
        assert response.status_code == 200, response.status_code


def test_lockout_refuses_even_the_right_password(migrated_app):
    make_user(migrated_app)
    make_user(migrated_app, "bob@example.com", name="Bob")
    client = migrated_app.test_client()
    fail(client, 5)
    response = login(client)
    assert response.status_code == 429
    assert 890 <= int(response.headers["Retry-After"]) <= 900
    assert "Too many failed logins" in response.text
    assert not logged_in(client)
    # Other accounts are not affected.
    assert login(migrated_app.test_client(), "bob@example.com").status_code == 302
    with migrated_app.app_context():
        events = db.session.scalars(select(AuditEvent.event).where(
            AuditEvent.email == "ada@example.com")).all()
    assert events.count("login_failure") == 5 and events.count("lockout") == 1


def test_lockout_holds_across_processes(migrated_app, make_app):
    # Two apps on one database stand for two server processes (or nodes).
    make_user(migrated_app)
    other = make_app(SQLALCHEMY_DATABASE_URI=migrated_app.config["SQLALCHEMY_DATABASE_URI"])
    fail(migrated_app.test_client(), 3)
    fail(other.test_client(), 2)
    assert login(other.test_client()).status_code == 429
    assert login(migrated_app.test_client()).status_code == 429
    with other.app_context():
        db.engine.dispose()


def test_lockout_expires(migrated_app):
    make_user(migrated_app)
    fail(migrated_app.test_client(), 5)
    assert login(migrated_app.test_client()).status_code == 429
    with migrated_app.app_context():
        throttle = db.session.get(LoginThrottle, "ada@example.com")
        throttle.locked_until -= timedelta(seconds=901)
        db.session.commit()
    assert login(migrated_app.test_client()).status_code == 302


def test_success_resets_the_count(migrated_app):
    make_user(migrated_app)
    fail(migrated_app.test_client(), 4)
    assert login(migrated_app.test_client()).status_code == 302
    fail(migrated_app.test_client(), 4)
    assert login(migrated_app.test_client()).status_code == 302


def test_failures_outside_the_window_do_not_add_up(migrated_app):
    make_user(migrated_app)
    fail(migrated_app.test_client(), 4)
    with migrated_app.app_context():
        throttle = db.session.get(LoginThrottle, "ada@example.com")
        throttle.window_started_at -= timedelta(seconds=901)
        db.session.commit()
    fail(migrated_app.test_client(), 4)
    assert login(migrated_app.test_client()).status_code == 302


def test_unknown_emails_lock_alike(migrated_app):
    # A lockout must not tell an existing account from a missing one.
    make_user(migrated_app)
    fail(client_at(migrated_app, "192.0.2.1"), 5, email="ghost@example.com")
    ghost = login(client_at(migrated_app, "192.0.2.1"), email="ghost@example.com")
    fail(client_at(migrated_app, "192.0.2.2"), 5)
    real = login(client_at(migrated_app, "192.0.2.2"), password=WRONG)
    assert ghost.status_code == real.status_code == 429
    assert ghost.text == real.text


def test_email_uniqueness_is_case_insensitive(migrated_app):
    make_user(migrated_app, "Ada@Example.com")
    with migrated_app.app_context():
        from mypack.auth import service
        assert service.register("ADA@example.COM", "Other", "Another-Pass-9") is None


# --- per-client rate limit ---------------------------------------------------------------

def test_rate_limit_per_client(site):
    make_user(site)
    client = site.test_client()
    statuses = [login(client, email=f"user{n}@example.com", password=WRONG).status_code
                for n in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    # Another client address still gets through.
    assert login(client_at(site, "192.0.2.7")).status_code == 302


def test_registration_is_rate_limited(site):
    client = site.test_client()
    data = {"display_name": "X", "password": "Cortado-Time-7", "confirm": "Cortado-Time-7",
            "accept_terms": "y"}
    statuses = [post_form(client, "/auth/register", {**data, "email": f"r{n}@example.com"})
                .status_code for n in range(11)]
    assert statuses[-1] == 429 and set(statuses[:10]) == {302}


def test_only_the_forms_are_limited_by_default(site):
    # mypack's limits are on the login and registration forms; nothing else counts.
    client = site.test_client()
    assert {client.get("/healthz").status_code for _ in range(30)} == {200}
    statuses = [login(client, email=f"user{n}@example.com", password=WRONG).status_code
                for n in range(11)]
    assert statuses[-1] == 429


def test_a_limit_on_every_view_can_be_configured(instance_path):
    # In a process of its own: the limiter is one per process and keeps the limit.
    script = textwrap.dedent("""
        import sys
        from mypack import create_app
        app = create_app("testing", sys.argv[1], RATELIMIT_DEFAULT="3 per minute")
        client, other = app.test_client(), app.test_client()
        other.environ_base["REMOTE_ADDR"] = "192.0.2.8"
        print([client.get("/healthz").status_code for _ in range(4)],
              other.get("/healthz").status_code)
    """)
    result = subprocess.run([sys.executable, "-c", script, str(instance_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # The fourth request of a client is refused; another client is counted apart.
    assert result.stdout.split("\n")[-2] == "[200, 200, 200, 429] 200"


# --- roles ---------------------------------------------------------------------------------

@pytest.fixture
def guarded(site):
    """The site with a staff-only and an admin-only view (test routes)."""
    site.add_url_rule("/staff-only", "staff_only", role_required("staff")(lambda: "staff area"))
    site.add_url_rule("/admin-only", "admin_only",
                      role_required("admin")(lambda: jsonify(ok=True)))
    for email, role in (("cus@example.com", "customer"), ("sta@example.com", "staff"),
                        ("adm@example.com", "admin")):
        make_user(site, email, role=role, name=role)
    return site


@pytest.mark.parametrize("email, staff, admin", [
    ("cus@example.com", 403, 403),
    ("sta@example.com", 200, 403),
    ("adm@example.com", 200, 200),
])
def test_role_matrix(guarded, email, staff, admin):
    client = guarded.test_client()
    login(client, email=email, password=PASSWORD)
    assert client.get("/staff-only").status_code == staff
    assert client.get("/admin-only").status_code == admin


def test_anonymous_goes_to_login_or_gets_401(guarded):
    client = guarded.test_client()
    response = client.get("/staff-only")
    assert response.status_code == 302
    assert response.location == "/auth/login?next=/staff-only"
    response = client.get("/admin-only", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_a_shared_store_counts_for_every_process(make_app, migrated_sqlite, redis_url):
    # Two apps stand for two server processes; with Redis they share one count.
    database = migrated_sqlite()
    settings = dict(SQLALCHEMY_DATABASE_URI=database, RATELIMIT_STORAGE_URI=redis_url,
                    RATELIMIT_KEY_PREFIX=f"mypack-test-{uuid.uuid4().hex}")
    first, second = make_app(**settings), make_app(**settings)
    statuses = [login(app.test_client(), email=f"u{n}@example.com", password=WRONG).status_code
                for n, app in enumerate([first, second] * 6)]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]


@pytest.mark.parametrize("where", ["form", "query", "query name", "raw query byte"])
def test_nul_characters_are_a_400_not_a_500(migrated_app, where):
    # PostgreSQL refuses NUL in strings; the request must end before reaching it.
    client = migrated_app.test_client()
    if where == "form":
        response = post_form(client, "/auth/login", {"email": "ada\x00@example.com",
                                                     "password": PASSWORD})
    elif where == "query":
        response = client.get("/?q=flat%00white")
    elif where == "query name":
        response = client.get("/?q=flat&x%00=1")
    else:
        response = client.get("/", environ_overrides={"QUERY_STRING": "q=flat\x00white"})
    assert response.status_code == 400
    assert "NUL character" in response.text


def test_an_escaped_percent_before_zeros_is_no_nul(migrated_app):
    # "%2500" decodes to the text "%00", not to a NUL character.
    response = migrated_app.test_client().get("/?q=50%2500")
    assert response.status_code == 200
    assert "NUL character" not in response.text


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_the_lockout_holds_under_concurrency(migrated_app, make_app):
    """Eleven wrong passwords and the right one, sent at one moment from two processes'
    worth of apps: no more passwords are checked than the threshold allows; the rest
    are refused unchecked, and the failures lock the email unless the right password
    was among those checked and forgave them first."""
    from mypack.auth import passwords, service

    make_user(migrated_app)
    threshold = migrated_app.config["LOCKOUT_THRESHOLD"]
    url = migrated_app.config["SQLALCHEMY_DATABASE_URI"]
    apps = [migrated_app, make_app(SQLALCHEMY_DATABASE_URI=url)]
    attempts = [WRONG] * 11 + [PASSWORD]
    start = threading.Barrier(len(attempts))
    outcomes: list = [None] * len(attempts)

    def attempt(index: int, password: str) -> None:
        with apps[index % 2].app_context():
            start.wait()
            try:
                outcomes[index] = service.authenticate("ada@example.com", password)
            except service.AccountLocked:
                outcomes[index] = "locked"
            finally:
                db.session.remove()

    checked = []
    real_verify = passwords.verify_password

    def counting_verify(stored, password):
        checked.append(password)
        return real_verify(stored, password)

    service.verify_password = counting_verify
    try:
        threads = [threading.Thread(target=attempt, args=(n, password))
                   for n, password in enumerate(attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        service.verify_password = real_verify
    assert len(checked) <= threshold, checked
    assert outcomes.count("locked") == len(attempts) - len(checked)
    right = outcomes[-1]
    assert right == "locked" or right.email == "ada@example.com"
    with migrated_app.app_context():
        events = db.session.scalars(select(AuditEvent.event).where(
            AuditEvent.email == "ada@example.com")).all()
    assert events.count("login_failure") + events.count("login_success") == len(checked)
    assert events.count("lockout") <= 1
    try:
        with migrated_app.app_context():
            service.authenticate("ada@example.com", PASSWORD)
        locked = False
    except service.AccountLocked:
        locked = True
    # Locked exactly when the failures locked it; never with the threshold unspent.
    assert locked == (events.count("lockout") == 1)
    assert locked or events.count("login_success") == 1


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_parallel_logins_with_the_right_password_lock_nobody_out(migrated_app, make_app):
    """A program's twelve parallel requests with the owner's password: those beyond the
    threshold's tries in flight are asked to retry in a second, and the account is
    not locked (it was, for LOCKOUT_DURATION, when tries in flight could lock it)."""
    from mypack.auth import service

    make_user(migrated_app)
    url = migrated_app.config["SQLALCHEMY_DATABASE_URI"]
    apps = [migrated_app, make_app(SQLALCHEMY_DATABASE_URI=url)]
    start = threading.Barrier(12)
    outcomes: list = [None] * 12

    def attempt(index: int) -> None:
        with apps[index % 2].app_context():
            start.wait()
            try:
                outcomes[index] = service.authenticate("ada@example.com", PASSWORD).email
            except service.AccountLocked as refused:
                outcomes[index] = (type(refused).__name__, refused.retry_after)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert "ada@example.com" in outcomes
    assert set(outcomes) <= {"ada@example.com", ("AccountBusy", 1)}
    with migrated_app.app_context():
        assert service.authenticate("ada@example.com", PASSWORD).email == "ada@example.com"
        assert db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.event == "lockout")) is None


def test_logins_are_answered_while_the_shared_limit_store_is_down(instance_path, migrated_sqlite,
                                                                  redis_server):
    """Redis (RATELIMIT_STORAGE_URI) stopped: the login form and Basic credentials are
    answered, limits are counted per process meanwhile, with a WARNING and no traceback.
    In a process of its own: the limiter is one per process and keeps its state."""
    script = textwrap.dedent("""
        import base64, json, logging, sys
        import redis
        from mypack import create_app
        from mypack.auth import service
        from tests.factories import PASSWORD, login

        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record)
        logging.getLogger().addHandler(Keep(logging.WARNING))
        app = create_app("testing", sys.argv[1], RATELIMIT_STORAGE_URI=sys.argv[2],
                         SQLALCHEMY_DATABASE_URI=sys.argv[3])
        with app.app_context():
            service.register("ada@example.com", "Ada", PASSWORD)
        redis.Redis.from_url(sys.argv[2]).shutdown(nosave=True)

        def basic(email, password):
            token = base64.b64encode(f"{email}:{password}".encode()).decode()
            return app.test_client().get("/api/v1/me",
                                         headers={"Authorization": "Basic " + token})
        print(json.dumps({
            "basic": basic("ada@example.com", PASSWORD).status_code,
            "form": login(app.test_client()).status_code,
            "wrong": [basic(f"u{n}@example.com", "wrong").status_code for n in range(12)],
            "warnings": [r.getMessage() for r in records],
            "tracebacks": sum(bool(r.exc_info) for r in records),
        }))
    """)
    result = subprocess.run([sys.executable, "-c", script, str(instance_path),
                             redis_server.url, migrated_sqlite()],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.splitlines()[-1])
    assert answers["form"] == 302 and answers["basic"] == 200
    # Counted in the process meanwhile: AUTH_RATE_LIMIT's 10 failures, then refused.
    assert answers["wrong"] == [401] * 10 + [429, 429]
    assert answers["tracebacks"] == 0
    # One each from mypack (Basic, first) and Flask-Limiter (the form), not one a request.
    [ours, flask_limiters] = answers["warnings"]
    assert "the rate-limit store is unavailable" in ours
    assert "falling back to in-memory storage" in flask_limiters


@pytest.mark.parametrize("email", ["\u0130" * 200 + "@example.com", "ada\x1b@example.com"])
def test_an_email_no_account_can_have_is_a_failed_login_not_a_500(migrated_app, email):
    # "İ" lower-cases to two characters: 200 of them overflow the 254-character column.
    response = login(migrated_app.test_client(), email=email, password=WRONG)
    assert response.status_code == 200
    assert "Invalid email or password" in response.text
