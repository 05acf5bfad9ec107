"""Response hardening: security headers on every response, HTTPS, proxies, trusted hosts,
private logged-in responses, and their `mypack check --deploy` ids."""

import io
import logging
import shutil

import pytest
from flask import Flask, jsonify, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from mypack import create_app, security
from mypack.checks import check_settings
from mypack.config import load_settings
from mypack.exceptions import ConfigError
from mypack.instance import write_secret_key
from tests.factories import PASSWORD, csrf_token, login, make_user
from tests.support.system import ROOT

STRONG_KEY = "Qm8dT2xLw9Pz-" * 5
# Production tests never reach a database: nothing here needs one.
NO_DATABASE = "postgresql+psycopg2://u:pw@127.0.0.1:1/d"
SITE = "https://cafe.example.com"
PLAIN = "http://cafe.example.com"
CSP = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
       "form-action 'self'")
#: Every response carries these, whatever it is.
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
ONE_YEAR_HSTS = "max-age=31536000; includeSubDomains"


def add_test_routes(app: Flask) -> Flask:
    """Routes for the tests only: an error, a body, what the app sees, a view's own header."""
    @app.get("/test/explode")
    def explode():
        raise RuntimeError("SELECT secret FROM somewhere")

    @app.post("/test/echo")
    def echo():
        return dict(request.form)

    @app.get("/test/seen")
    def seen():
        return jsonify(remote_addr=request.remote_addr, scheme=request.scheme,
                       host=request.host)

    @app.get("/test/framed")
    def framed():
        # Header names are case-insensitive: this one is not sent twice.
        return "frame me", {"x-frame-options": "SAMEORIGIN"}

    @app.get("/test/session")
    def uses_session():
        return {"visits": session.get("visits", 0)}

    return app


@pytest.fixture
def production(instance_path):
    """Build production apps for cafe.example.com, with overrides and the test routes."""
    def make(**overrides):
        settings = {"SECRET_KEY": STRONG_KEY, "SQLALCHEMY_DATABASE_URI": NO_DATABASE,
                    "TRUSTED_HOSTS": ["cafe.example.com"], "MAX_CONTENT_LENGTH": 100,
                    "READYZ_TIMEOUT": 5, **overrides}
        return add_test_routes(create_app("production", instance_path, **settings))
    return make


@pytest.fixture
def prod_client(production):
    """A client of a production app; each request names SITE (https) or PLAIN (http)."""
    return production().test_client()


def assert_hardened(response):
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)


# --- security headers ---------------------------------------------------------------------

# HTML pages here are /auth/login: it needs no database (the home page, the menu, does).
@pytest.mark.parametrize("method, path, headers, status, mimetype", [
    ("GET", "/auth/login", {"Accept": "text/html"}, 200, "text/html"),
    ("GET", "/healthz", {}, 200, "application/json"),
    ("GET", "/no-such-page", {"Accept": "text/html"}, 404, "text/html"),
    ("GET", "/api/v1/no-such-thing", {}, 404, "application/json"),
    ("POST", "/healthz", {"Accept": "application/json"}, 405, "application/json"),
    ("POST", "/test/echo", {"Accept": "application/json"}, 413, "application/json"),
    ("GET", "/test/explode", {"Accept": "text/html"}, 500, "text/html"),
    ("GET", "/test/explode", {"Accept": "application/json"}, 500, "application/json"),
])
def test_every_response_is_hardened(prod_client, method, path, headers, status, mimetype):
    data = {"text": "x" * 1000} if path == "/test/echo" else None
    response = prod_client.open(path, method=method, headers=headers, data=data, base_url=SITE)
    assert response.status_code == status
    assert response.mimetype == mimetype
    assert_hardened(response)
    assert response.headers["Strict-Transport-Security"] == ONE_YEAR_HSTS
    assert "SELECT" not in response.text


def test_headers_in_the_testing_configuration_too(client):
    for response in (client.get("/"), client.get("/api/v1/none"), client.post("/healthz")):
        assert_hardened(response)


def test_a_header_the_view_set_is_kept(prod_client):
    response = prod_client.get("/test/framed", base_url=SITE)
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_empty_policies_are_not_sent(production):
    client = production(CONTENT_SECURITY_POLICY="", REFERRER_POLICY=None).test_client()
    response = client.get("/healthz", base_url=SITE)
    assert "Content-Security-Policy" not in response.headers
    assert "Referrer-Policy" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"


# --- HSTS ---------------------------------------------------------------------------------

def test_hsts_only_on_https_responses_in_production(prod_client):
    assert prod_client.get("/healthz", base_url=SITE).headers["Strict-Transport-Security"] == \
        ONE_YEAR_HSTS
    # Browsers ignore HSTS over plain HTTP, so it is not sent there.
    assert "Strict-Transport-Security" not in prod_client.get("/healthz", base_url=PLAIN).headers


def test_no_hsts_outside_production(client):
    response = client.get("/auth/login", base_url="https://localhost")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("overrides, expected", [
    ({"HSTS_INCLUDE_SUBDOMAINS": False}, "max-age=31536000"),
    ({"HSTS_SECONDS": 600}, "max-age=600; includeSubDomains"),
    ({"HSTS_SECONDS": 0}, None),
])
def test_hsts_follows_its_settings(production, overrides, expected):
    response = production(**overrides).test_client().get("/healthz", base_url=SITE)
    assert response.headers.get("Strict-Transport-Security") == expected


# --- HTTPS --------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, status", [
    ("GET", "/", 301),
    ("HEAD", "/", 301),
    ("GET", "/no-such-page?a=1&b=caf%C3%A9", 301),
    ("POST", "/test/echo", 308),  # before CSRF and the view: the body is sent again
    ("DELETE", "/", 308),
])
def test_plain_http_pages_are_redirected_to_https(prod_client, method, path, status):
    response = prod_client.open(path, method=method, base_url=PLAIN, data={"a": "b"})
    assert response.status_code == status
    assert response.headers["Location"] == SITE + path
    assert_hardened(response)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_plain_http_api_requests_are_refused_not_redirected(prod_client, method):
    response = prod_client.open("/api/v1/orders", method=method, base_url=PLAIN)
    assert response.status_code == 403
    assert "Location" not in response.headers
    assert response.json["error"]["code"] == "forbidden"
    assert "HTTPS" in response.json["error"]["message"]
    assert_hardened(response)


@pytest.mark.parametrize(("path", "status", "state"), [
    ("/healthz", 200, "ok"),
    ("/readyz", 503, "unavailable"),  # NO_DATABASE: answered, over plain HTTP, not redirected
])
def test_health_endpoints_answer_plain_http(prod_client, path, status, state):
    response = prod_client.get(path, base_url=PLAIN)
    assert response.status_code == status
    assert "Location" not in response.headers
    assert response.json["status"] == state


def test_no_redirect_without_force_https(client):
    assert client.get("/auth/login", base_url="http://localhost").status_code == 200


def test_https_behind_a_proxy_needs_proxy_fix(production):
    forwarded = {"X-Forwarded-Proto": "https"}
    # Without ProxyFix anyone could send the header: it is ignored.
    assert production().test_client().get("/auth/login", headers=forwarded,
                                          base_url=PLAIN).status_code == 301
    response = production(PROXY_FIX_X_PROTO=1).test_client().get("/auth/login",
                                                                  headers=forwarded,
                                                                  base_url=PLAIN)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == ONE_YEAR_HSTS



@pytest.mark.parametrize("proto", ["HTTPS", "Https", "hTTpS"])
def test_the_forwarded_scheme_is_read_in_any_case(production, proto):
    # Scheme names are case-insensitive (RFC 3986, 3.1): a proxy that says "HTTPS"
    # must not get a redirect to https:// in answer, again and again.
    app = production(PROXY_FIX_X_PROTO=1)
    forwarded = {"X-Forwarded-Proto": proto}
    response = app.test_client().get("/auth/login", headers=forwarded, base_url=PLAIN)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == ONE_YEAR_HSTS
    assert app.test_client().get("/test/seen", headers=forwarded,
                                 base_url=PLAIN).json["scheme"] == "https"
    api = app.test_client().get("/api/v1/items/1", headers=forwarded, base_url=PLAIN)
    assert api.status_code != 403  # not refused as plain HTTP

# --- ProxyFix -----------------------------------------------------------------------------

def seen_by_app(app, headers):
    return app.test_client().get("/test/seen", headers=headers, base_url=SITE).json


def test_x_forwarded_for_is_ignored_by_default(production):
    app = production()
    assert not isinstance(app.wsgi_app, ProxyFix)
    seen = seen_by_app(app, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "evil"})
    assert seen == {"remote_addr": "127.0.0.1", "scheme": "https", "host": "cafe.example.com"}


@pytest.mark.parametrize("forwarded_for, client", [
    ("203.0.113.7", "203.0.113.7"),
    # Only the value the one proxy appended counts; the client wrote the first.
    ("198.51.100.66, 203.0.113.7", "203.0.113.7"),
])
def test_x_forwarded_for_behind_one_proxy(production, forwarded_for, client):
    app = production(PROXY_FIX_X_FOR=1)
    assert isinstance(app.wsgi_app, ProxyFix)
    assert seen_by_app(app, {"X-Forwarded-For": forwarded_for})["remote_addr"] == client


def test_forwarded_host_is_still_checked_against_trusted_hosts(production):
    app = production(PROXY_FIX_X_HOST=1)
    assert seen_by_app(app, {"X-Forwarded-Host": "cafe.example.com"})["host"] == \
        "cafe.example.com"
    response = app.test_client().get("/test/seen", headers={"X-Forwarded-Host": "evil.example"},
                                     base_url=SITE)
    assert response.status_code == 400



def test_an_over_long_forwarded_address_fits_the_audit_log(make_app, migrated_url, caplog):
    # One proxy trusted, which passes on whatever client address it was given: the
    # audit log keeps what fits its column, on every backend, and the login goes on.
    from mypack.audit import AuditEvent
    from mypack.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_url, PROXY_FIX_X_FOR=1)
    make_user(app)
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "2001:db8::" + "7" * 5_000
    assert login(client, password="Wrong-password-1").status_code == 200  # the form again
    assert login(client).status_code == 302
    with app.app_context():
        events = db.session.execute(select(AuditEvent.event, AuditEvent.ip)
                                    .order_by(AuditEvent.id)).all()
        db.session.remove()
        db.engine.dispose()
    assert [event for event, _ in events] == ["register", "login_failure", "login_success"]
    limit = AuditEvent.__table__.c.ip.type.length
    assert all(len(ip) <= limit and ip.startswith("2001:db8::777") for _, ip in events[1:])
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

@pytest.mark.parametrize("value", [-1, "1", True, 1.5, None])
def test_a_bad_proxy_count_stops_create_app(make_app, value):
    with pytest.raises(ConfigError, match="PROXY_FIX_X_FOR must be the number of proxies"):
        make_app(PROXY_FIX_X_FOR=value)


def test_a_bad_hsts_value_stops_create_app(make_app):
    with pytest.raises(ConfigError, match="HSTS_SECONDS must be a whole number"):
        make_app(HSTS_SECONDS="a year")



# --- form fields sent as file parts ---------------------------------------------------------

@pytest.mark.parametrize("path, data, field", [
    ("/auth/login", {"email": "ada@example.com", "password": PASSWORD}, "email"),
    ("/auth/login", {"email": "ada@example.com", "password": PASSWORD}, "password"),
    ("/auth/register", {"email": "bob@example.com", "display_name": "Bob",
                        "password": PASSWORD, "confirm": PASSWORD, "accept_terms": "y"},
     "display_name"),
    ("/auth/register", {"email": "bob@example.com", "display_name": "Bob",
                        "password": PASSWORD, "confirm": PASSWORD, "accept_terms": "y"},
     "accept_terms"),
])
def test_a_form_field_sent_as_a_file_part_is_a_400(site, caplog, path, data, field):
    # No form of the site takes a file: a field that came as one (multipart/form-data
    # with a filename) is refused before any form or login looks at it.
    client = site.test_client()
    data = {"csrf_token": csrf_token(client, path), **data,
            field: (io.BytesIO(data[field].encode()), "field.txt")}
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "file" in response.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

# --- trusted hosts ------------------------------------------------------------------------

@pytest.mark.parametrize("base_url", [SITE, PLAIN])
def test_an_untrusted_host_gets_the_sites_400_page(prod_client, base_url):
    response = prod_client.get("/", headers={"Host": "evil.example", "Accept": "text/html"},
                        base_url=base_url)
    assert response.status_code == 400
    assert "Location" not in response.headers  # never redirected to the forged host
    assert "<h1>400 Bad Request</h1>" in response.text
    assert "mypack café" in response.text  # the site's layout, not Werkzeug's page
    assert "evil.example/" not in response.text  # links are not built on that host
    assert_hardened(response)


@pytest.mark.parametrize("path, accept", [("/", "application/json"), ("/api/v1/x", "*/*")])
def test_an_untrusted_host_gets_the_json_400_shape(prod_client, path, accept):
    response = prod_client.get(path, headers={"Host": "evil.example", "Accept": accept},
                        base_url=SITE)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"
    assert response.headers["Strict-Transport-Security"] == ONE_YEAR_HSTS
    assert_hardened(response)


# --- logged-in responses are private ------------------------------------------------------

class CafeUser(UserMixin):
    """A user that needs no database."""

    def __init__(self, user_id: str):
        self.id = user_id


def load_cafe_user(user_id: str) -> CafeUser | None:
    return CafeUser(user_id) if user_id == "7" else None


def login_app() -> Flask:
    """A bare app with mypack's security and a Flask-Login of its own, and test routes."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True)
    security.init_app(app)
    manager = LoginManager()
    manager.init_app(app)
    manager.user_loader(load_cafe_user)

    @app.get("/test/login")
    def log_in():
        login_user(CafeUser("7"))
        return "logged in"

    @app.get("/test/logout")
    def log_out():
        logout_user()
        return "logged out"

    @app.get("/test/me")
    def me():
        return {"user": current_user.get_id()}

    @app.get("/test/public")
    def public():
        return "the menu", {"Cache-Control": "public, max-age=60"}

    return app


def is_private(response) -> bool:
    return (response.headers.get("Cache-Control") == "private, no-store"
            and "cookie" in response.vary)


def test_logged_in_responses_are_private():
    client = login_app().test_client()
    assert not is_private(client.get("/test/me"))  # anonymous
    assert is_private(client.get("/test/login"))
    response = client.get("/test/me")
    assert response.json == {"user": "7"} and is_private(response)
    # A view that never looked at the user is not about the user: it may be cached.
    assert client.get("/test/public").headers["Cache-Control"] == "public, max-age=60"
    assert is_private(client.get("/test/logout"))  # the request still had the user
    assert not is_private(client.get("/test/me"))


def test_private_wins_over_a_views_cache_control():
    app = login_app()

    @app.get("/test/cached-me")
    def cached_me():
        return {"user": current_user.get_id()}, {"Cache-Control": "public, max-age=60"}

    client = app.test_client()
    client.get("/test/login")
    assert is_private(client.get("/test/cached-me"))


def test_without_a_login_manager_nothing_is_private():
    app = Flask(__name__)
    security.init_app(app)
    app.get("/")(lambda: "hello")
    response = app.test_client().get("/")
    assert "Cache-Control" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"


def test_login_in_the_real_app_is_private(make_app):
    app = make_app()
    if not hasattr(app, "login_manager"):  # before mypack had logins
        manager = LoginManager()
        manager.init_app(app)
        manager.user_loader(load_cafe_user)

    @app.get("/test/login")
    def log_in():
        login_user(CafeUser("7"))
        return "logged in"

    client = app.test_client()
    assert is_private(client.get("/test/login"))
    anonymous = app.test_client().get("/auth/login")
    assert anonymous.status_code == 200
    assert anonymous.headers.get("Cache-Control") != "private, no-store"


def test_a_session_read_varies_by_cookie(prod_client):
    response = prod_client.get("/test/session", base_url=SITE)
    assert "cookie" in response.vary  # Flask's own, kept
    assert response.headers.get("Cache-Control") != "private, no-store"


# --- mypack check --deploy ----------------------------------------------------------------

#: The check ids of this module's settings.
SECURITY_IDS = {"mypack.E046", "mypack.E047", "mypack.E048", "mypack.E049", "mypack.W055",
                "mypack.E056", "mypack.E057"}
GOOD = {"TRUSTED_HOSTS": ["cafe.example.com"],
        "SQLALCHEMY_DATABASE_URI": "postgresql://cafe:pw@db.internal/cafe"}


@pytest.fixture
def prod_instance(instance_path):
    instance_path.chmod(0o750)
    write_secret_key(instance_path)
    return instance_path


def security_ids(instance_path, deploy=True, **overrides) -> set[str]:
    """The ids of this module's checks that the settings trigger."""
    settings = load_settings("postgres", instance_path, {**GOOD, **overrides})
    return {f.id for f in check_settings(settings, deploy)} & SECURITY_IDS


@pytest.mark.parametrize("overrides, expected", [
    ({}, set()),
    ({"HSTS_SECONDS": 0}, {"mypack.E046"}),
    ({"HSTS_SECONDS": 86400}, {"mypack.E046"}),
    ({"HSTS_SECONDS": 63072000}, set()),
    ({"HSTS_SECONDS": "a year"}, {"mypack.E057"}),
    ({"HSTS_INCLUDE_SUBDOMAINS": False}, {"mypack.E047"}),
    ({"FORCE_HTTPS": False}, {"mypack.E048"}),
    ({"CONTENT_SECURITY_POLICY": ""}, {"mypack.E049"}),
    ({"CONTENT_SECURITY_POLICY": None}, {"mypack.E049"}),
    ({"CONTENT_SECURITY_POLICY": "default-src 'self'"}, {"mypack.E049"}),
    ({"CONTENT_SECURITY_POLICY": "default-src 'self'; object-src *"}, {"mypack.E049"}),
    ({"CONTENT_SECURITY_POLICY": "default-src 'none'"}, set()),  # object-src falls back
    ({"CONTENT_SECURITY_POLICY": "Default-Src 'self'; OBJECT-SRC 'NONE'"}, set()),
    # No frame-ancestors: the X-Frame-Options: DENY always sent forbids framing.
    ({"CONTENT_SECURITY_POLICY": "object-src 'none'"}, set()),
    ({"CONTENT_SECURITY_POLICY": "object-src 'none'; frame-ancestors 'self'"},
     {"mypack.W055"}),
    ({"REFERRER_POLICY": "no-referrer"}, set()),
    ({"REFERRER_POLICY": "no-referrer, strict-origin-when-cross-origin"}, set()),
    ({"REFERRER_POLICY": "none"}, {"mypack.E056"}),
    ({"REFERRER_POLICY": "Same-Origin"}, {"mypack.E056"}),
    ({"REFERRER_POLICY": ""}, {"mypack.E056"}),
    ({"REFERRER_POLICY": None}, {"mypack.E056"}),
    ({"PROXY_FIX_X_FOR": 2, "PROXY_FIX_X_PROTO": 1}, set()),
    ({"PROXY_FIX_X_FOR": -1}, {"mypack.E057"}),
    ({"PROXY_FIX_X_PROTO": "1"}, {"mypack.E057"}),
    ({"PROXY_FIX_X_PREFIX": True}, {"mypack.E057"}),
])
def test_each_security_setting_problem_has_its_id(prod_instance, overrides, expected):
    assert security_ids(prod_instance, **overrides) == expected


def test_bad_counts_are_found_without_deploy(prod_instance):
    # create_app refuses them, so every `mypack check` says so; HTTPS is a --deploy matter.
    found = security_ids(prod_instance, deploy=False, PROXY_FIX_X_FOR=-1, FORCE_HTTPS=False)
    assert found == {"mypack.E057"}


def test_the_production_example_passes_the_security_checks(prod_instance):
    config = prod_instance / "config.py"
    shutil.copyfile(ROOT / "deploy" / "production.config.py", config)
    config.chmod(0o640)
    settings = load_settings(None, prod_instance)
    assert {f.id for f in check_settings(settings, deploy=True)} & SECURITY_IDS == set()
    assert settings.sources["FORCE_HTTPS"] == str(config)
    assert settings.values["HSTS_SECONDS"] >= 31536000
    assert settings.values["PROXY_FIX_X_FOR"] == settings.values["PROXY_FIX_X_PROTO"] == 0
