"""Errors: HTML pages for browsers, one JSON shape for API clients, no leaks on 500."""

import pytest
from werkzeug.exceptions import Forbidden

STRONG_KEY = "Qm8dT2xLw9Pz-" * 5
#: Production redirects plain HTTP (FORCE_HTTPS): its tests ask over HTTPS.
HTTPS = "https://localhost"


@pytest.fixture
def production_app(instance_path):
    from mypack import create_app

    app = create_app("production", instance_path, SECRET_KEY=STRONG_KEY,
                     SQLALCHEMY_DATABASE_URI="postgresql+psycopg2://u:topsecret@127.0.0.1:1/d")

    @app.get("/explode")
    def explode():
        raise RuntimeError("SELECT password FROM users -- topsecret")

    @app.get("/forbidden")
    def forbidden():
        raise Forbidden()

    return app


def test_404_is_a_page_for_browsers(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>404 Not Found</h1>" in response.text
    assert "mypack café" in response.text  # inside the site's layout


@pytest.mark.parametrize("headers, path", [
    ({"Accept": "application/json"}, "/no-such-page"),
    ({}, "/api/v1/no-such-thing"),
])
def test_404_is_json_for_api_clients(client, headers, path):
    response = client.get(path, headers=headers)
    assert response.status_code == 404
    assert response.json == {"error": {
        "status": 404, "code": "not_found", "fields": {},
        "message": response.json["error"]["message"]}}
    assert response.json["error"]["message"]


def test_405_keeps_the_allow_header(client):
    response = client.post("/healthz", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_413_for_an_oversized_body(make_app):
    client = make_app(MAX_CONTENT_LENGTH=100).test_client()

    @client.application.post("/echo")
    def echo():
        from flask import request
        return request.get_data()

    response = client.post("/echo", data=b"x" * 1000, headers={"Accept": "application/json"})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_production_500_leaks_nothing(production_app, accept):
    response = production_app.test_client().get("/explode", headers={"Accept": accept},
                                                base_url=HTTPS)
    assert response.status_code == 500
    for leak in ("Traceback", "RuntimeError", "SELECT", "topsecret", STRONG_KEY):
        assert leak not in response.text
    assert response.headers["X-Request-ID"]


def test_production_403_page(production_app):
    response = production_app.test_client().get("/forbidden", base_url=HTTPS)
    assert response.status_code == 403 and "403 Forbidden" in response.text


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_database_down_is_a_quick_503_not_a_500(make_app, accept):
    from sqlalchemy import text

    from mypack.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg2://u:pw@127.0.0.1:1/d")

    @app.get("/menu-count")
    def menu_count():
        return str(db.session.execute(text("SELECT 1")).scalar())

    response = app.test_client().get("/menu-count", headers={"Accept": accept})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "pw" not in response.text and "127.0.0.1" not in response.text


# --- domain errors: one mapping (mypack.errors.DOMAIN_ANSWERS) -------------------------------

@pytest.mark.parametrize("kind, status, code", [
    ("NotFound", 404, "not_found"),
    ("Invalid", 422, "unprocessable_entity"),
    ("Refused", 403, "forbidden"),
    ("Conflict", 409, "conflict"),
])
def test_domain_errors_answer_json_and_html_from_one_place(make_app, kind, status, code):
    from mypack import exceptions

    app = make_app()

    @app.get("/refuse")
    def refuse():
        raise getattr(exceptions, kind)("Not like this.", {"name": ["Too short."]})

    client = app.test_client()
    answer = client.get("/refuse", headers={"Accept": "application/json"})
    assert answer.status_code == status
    assert answer.json == {"error": {"status": status, "code": code, "message": "Not like this.",
                                     "fields": {"name": ["Too short."]}}}
    page = client.get("/refuse", headers={"Accept": "text/html"})
    assert page.status_code == status
    assert page.mimetype == "text/html" and "Not like this." in page.text


def test_a_locked_domain_error_says_when_to_retry(make_app):
    from mypack.auth.service import AccountLocked

    app = make_app()

    @app.get("/locked")
    def locked():
        raise AccountLocked(42)

    answer = app.test_client().get("/locked", headers={"Accept": "application/json"})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "42"
    assert answer.json["error"]["message"].startswith("Too many failed logins")


def test_a_subclass_answers_as_its_nearest_kind(make_app):
    # An account's conflict is an AccountError (forms show it inline) and a Conflict.
    from mypack.auth.service import AccountConflict, AccountError, NoSuchAccount

    app = make_app()

    @app.get("/conflict")
    def conflict():
        raise AccountConflict("Taken.")

    @app.get("/nobody")
    def nobody():
        raise NoSuchAccount("Nobody.")

    client = app.test_client()
    assert issubclass(AccountConflict, AccountError)
    assert client.get("/conflict", headers={"Accept": "application/json"}).status_code == 409
    assert client.get("/nobody", headers={"Accept": "application/json"}).status_code == 404


def test_a_builtin_lookup_error_in_a_view_stays_a_server_error(make_app):
    # Services raise mypack.exceptions' kinds only: a stray KeyError is a bug (500),
    # never read as "not found".
    app = make_app(PROPAGATE_EXCEPTIONS=False)  # as in production, not TESTING's re-raise

    @app.get("/bug")
    def bug():
        return {}["missing"]

    answer = app.test_client().get("/bug", headers={"Accept": "application/json"})
    assert answer.status_code == 500
    assert answer.json["error"]["code"] == "internal_server_error"
