"""API authentication: Bearer tokens, HTTP Basic with the login lockout, cookies with
CSRF, the token pages of the profile, and the API reference page."""

import hashlib
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from mypack.auth import service
from mypack.auth.models import ApiToken, User
from mypack.database import utcnow
from mypack.extensions import db
from tests.factories import (
    PASSWORD,
    audit_events,
    basic,
    bearer,
    csrf_token,
    login,
    make_user,
    post_form,
)

EMAIL = "ada@example.com"


@pytest.fixture
def ada(site):
    return make_user(site, EMAIL)


@pytest.fixture
def client(site, ada):
    return site.test_client()


def new_token(client, name="till", **extra) -> dict:
    response = client.post("/api/v1/tokens", json={"name": name, **extra}, headers=basic())
    assert response.status_code == 201, response.json
    return response.json


def token_rows(app) -> list[ApiToken]:
    with app.app_context():
        return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))


# --- Bearer tokens ------------------------------------------------------------------------

def test_token_lifecycle(site, client):
    made = new_token(client, "till", expires_in_days=30)
    token = made["token"]
    assert made["name"] == "till" and made["revoked"] is False
    assert token.startswith(made["prefix"]) and made["expires_at"]

    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json["email"] == EMAIL

    listed = client.get("/api/v1/tokens", headers=bearer(token))
    assert listed.status_code == 200
    (shown,) = listed.json
    assert shown["id"] == made["id"] and shown["last_used_at"] is not None
    assert set(shown) == {"id", "name", "prefix", "scope", "created_at", "expires_at",
                          "last_used_at", "revoked"}
    assert token not in listed.text and hashlib.sha256(token.encode()).hexdigest() \
        not in listed.text

    revoked = client.delete(f"/api/v1/tokens/{made['id']}", headers=basic())
    assert revoked.status_code == 204
    after = client.get("/api/v1/me", headers=bearer(token))
    assert after.status_code == 401 and "WWW-Authenticate" in after.headers
    assert client.get("/api/v1/tokens", headers=basic()).json[0]["revoked"] is True


def test_tokens_are_long_random_and_stored_hashed(site, client):
    token = new_token(client)["token"]
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    assert new_token(client)["token"] != token
    (row, _) = token_rows(site)
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    with site.app_context():
        stored = db.session.execute(text("SELECT * FROM api_tokens")).all()
    assert token not in repr(stored)


def test_expired_token_is_refused(site, client):
    token = new_token(client)["token"]
    with site.app_context():
        db.session.execute(ApiToken.__table__.update().values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_password_change_revokes_tokens(site, ada, client):
    token = new_token(client)["token"]
    with site.app_context():
        user = db.session.get(User, ada)
        service.change_password(user, PASSWORD, "Long-Black-Coffee-9")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_deactivation_revokes_tokens(site, client):
    token = new_token(client)["token"]
    with site.app_context():
        service.set_active(EMAIL, False)
        service.set_active(EMAIL, True)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert all(row.revoked_at is not None for row in token_rows(site))


def test_unknown_and_malformed_tokens_are_refused(client):
    for header in ("Bearer nope", "Bearer ", "Basic !!!", "Digest x"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_another_users_token_cannot_be_revoked(site, client):
    made = new_token(client)
    make_user(site, "bob@example.com", name="Bob")
    response = client.delete(f"/api/v1/tokens/{made['id']}",
                             headers=basic("bob@example.com"))
    assert response.status_code == 404 and response.json["error"]["status"] == 404
    assert client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    assert client.get("/api/v1/tokens", headers=basic("bob@example.com")).json == []


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101},
                                  {"name": "t", "expires_in_days": 0},
                                  {"name": "t", "expires_in_days": 366}])
def test_token_creation_validates(client, body):
    response = client.post("/api/v1/tokens", json=body, headers=basic())
    assert response.status_code == 422
    assert response.json["error"]["fields"]


# --- HTTP Basic, 401, cookies, CSRF, 415 ------------------------------------------------------

def test_basic_authentication(client):
    assert client.get("/api/v1/me", headers=basic()).json["email"] == EMAIL
    wrong = client.get("/api/v1/me", headers=basic(password="wrong-password"))
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "unauthorized"


def test_basic_is_under_the_login_lockout(site, client):
    for _ in range(site.config["LOCKOUT_THRESHOLD"]):
        assert client.get("/api/v1/me", headers=basic(password="wrong")).status_code == 401
    locked = client.get("/api/v1/me", headers=basic())
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    # The login page shares the lock.
    assert login(site.test_client()).status_code == 429


def test_401_carries_www_authenticate(client):
    response = client.get("/api/v1/tokens")
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert response.json["error"]["status"] == 401


def test_header_authentication_sets_no_cookie(client):
    token = new_token(client)["token"]
    for headers in (basic(), bearer(token)):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    response = client.post("/api/v1/tokens", json={"name": "x"}, headers=basic())
    assert response.status_code == 201 and "Set-Cookie" not in response.headers


def test_cookie_writes_need_the_csrf_header(client):
    assert login(client).status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # reads need no token
    refused = client.post("/api/v1/tokens", json={"name": "browser"})
    assert refused.status_code == 400
    token = csrf_token(client, "/auth/profile")
    accepted = client.post("/api/v1/tokens", json={"name": "browser"},
                           headers={"X-CSRFToken": token})
    assert accepted.status_code == 201 and accepted.json["token"]


def test_non_json_body_is_415(client):
    response = client.post("/api/v1/tokens", data="name=till", headers={
        **basic(), "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert response.json["error"]["status"] == 415


# --- the profile page ------------------------------------------------------------------------

def test_profile_token_ui(site, client):
    login(client)
    page = client.get("/auth/profile")
    assert "API tokens" in page.text and "You have no API tokens." in page.text

    created = post_form(client, "/auth/tokens", {"name": "laptop", "expires_in_days": "7"},
                        token_from="/auth/profile")
    assert created.status_code == 200 and "no-store" in created.headers["Cache-Control"]
    token = re.search(r'id="new-token">([^<]+)<', created.text)[1]
    assert "Set-Cookie" not in created.headers or token not in created.headers["Set-Cookie"]
    api = site.test_client()  # no session cookie: the token alone
    assert api.get("/api/v1/me", headers=bearer(token)).json["email"] == EMAIL

    profile = client.get("/auth/profile").text
    assert "laptop" in profile and token[:8] in profile and token not in profile
    (row,) = token_rows(site)
    revoked = post_form(client, f"/auth/tokens/{row.id}/revoke", {},
                        token_from="/auth/profile", follow_redirects=True)
    assert revoked.status_code == 200 and "is revoked" in revoked.text
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert "revoked" in client.get("/auth/profile").text


def test_profile_token_form_validates(client):
    login(client)
    response = post_form(client, "/auth/tokens", {"name": "", "expires_in_days": "999"},
                         token_from="/auth/profile")
    assert response.status_code == 400 and "This field is required." in response.text


def test_profile_cannot_revoke_another_users_token(site, client):
    made = new_token(client)
    make_user(site, "bob@example.com", name="Bob")
    bob = site.test_client()
    login(bob, "bob@example.com")
    response = post_form(bob, f"/auth/tokens/{made['id']}/revoke", {},
                         token_from="/auth/profile")
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200


def test_profile_token_posts_need_csrf_and_login(site, client):
    assert client.post("/auth/tokens", data={"name": "x"}).status_code == 400
    anonymous = site.test_client()
    token = csrf_token(anonymous)
    response = anonymous.post("/auth/tokens", data={"csrf_token": token, "name": "x"})
    assert response.status_code == 302 and "/auth/login" in response.location
    assert token_rows(site) == []


# --- the reference page ------------------------------------------------------------------------

def test_docs_page_lists_every_operation(site):
    response = site.test_client().get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.text
    for operation in ("GET /api/v1/me", "POST /api/v1/tokens",
                      "DELETE /api/v1/tokens/{token_id}", "PATCH /api/v1/users/{user_id}"):
        assert operation in page
    assert "expires_in_days" in page and "<script" not in page and "https://" not in page
    spec = site.test_client().get("/api/v1/openapi.json").json
    assert "/api/v1/docs" not in spec["paths"]
    assert all(path in page for path in spec["paths"])


def test_a_cookie_login_with_a_junk_authorization_header_still_needs_csrf(client):
    # The session cookie authenticates this request, so it is a cookie login: an
    # extra Authorization header must not switch the CSRF check off.
    login(client)
    response = client.post("/api/v1/tokens", json={"name": "sneaky"},
                           headers={"Authorization": "Bearer junk"})
    assert response.status_code == 400
    assert "CSRF" in response.json["error"]["message"]


def test_failed_basic_attempts_are_rate_limited_per_client(site, ada):
    client = site.test_client()
    statuses = [client.get("/api/v1/me", headers=basic(f"nobody{n}@example.com",
                                                       "Wrong-Password-1")).status_code
                for n in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    # The right password from another client still works; this client stays limited.
    other = site.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert other.get("/api/v1/me", headers=basic()).status_code == 200
    assert client.get("/api/v1/me", headers=basic()).status_code == 429


def test_successful_basic_calls_are_not_limited(site, ada):
    client = site.test_client()
    assert all(client.get("/api/v1/me", headers=basic()).status_code == 200
               for _ in range(15))


# --- bodies no view can read: a 400 before authentication (issue 16, item 9) -------------

#: JSON the API refuses whole, whatever the endpoint: too deep, numbers no field can hold,
#: strings no database stores, bytes that are not UTF-8, nothing at all.
UNREADABLE_BODIES = {
    "nested 10,000 deep": '{"name": ' + "[" * 10_000 + "]" * 10_000 + "}",
    "nested 40 deep": '{"name": ' + "[" * 40 + "]" * 40 + "}",
    "a float beyond a double": '{"name": "till", "expires_in_days": 1e999999}',
    "a 100,000-digit integer": '{"name": "till", "expires_in_days": ' + "7" * 100_000 + "}",
    "NaN": '{"name": "till", "expires_in_days": NaN}',
    "-Infinity": '{"name": "till", "expires_in_days": -Infinity}',
    "a NUL": '{"name": "till\\u0000"}',
    "a lone surrogate": '{"name": "till\\ud800"}',
    "a lone low surrogate in a key": '{"\\udc00name": "till"}',
    "a NUL in a nested string": '{"lines": [{"item_id": 1, "quantity": 1, "x": "\\u0000"}]}',
    "not UTF-8": b'{"name": "caf\xe9"}',
}
#: Every operation that reads a JSON body, as called and as documented.
JSON_OPERATIONS = [
    ("POST", "/api/v1/tokens", "/api/v1/tokens"),
    ("POST", "/api/v1/orders", "/api/v1/orders"),
    ("POST", "/api/v1/orders/1/status", "/api/v1/orders/{order_id}/status"),
    ("POST", "/api/v1/items", "/api/v1/items"),
    ("PATCH", "/api/v1/items/1", "/api/v1/items/{item_id}"),
    ("POST", "/api/v1/suppliers", "/api/v1/suppliers"),
    ("PATCH", "/api/v1/suppliers/1", "/api/v1/suppliers/{supplier_id}"),
    ("PATCH", "/api/v1/users/1", "/api/v1/users/{user_id}"),
]


def error_records(caplog) -> list:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("body", UNREADABLE_BODIES.values(), ids=UNREADABLE_BODIES)
def test_unreadable_json_is_a_400_before_authentication(site, client, caplog, body):
    recorded = [event.event for event in audit_events(site)]
    for method, path, _ in JSON_OPERATIONS:
        for headers in ({}, basic(), basic(password="Wrong-password-1")):
            response = client.open(path, method=method, data=body,
                                   headers={**headers, "Content-Type": "application/json"})
            assert response.status_code == 400, (method, path, response.text[:300])
            error = response.json["error"]
            assert set(error) == {"status", "code", "message", "fields"}
            assert error["code"] == "bad_request" and error["message"]
    # Refused before the credentials were even checked: no failure counted, nothing
    # logged above INFO (a client's mistake is no server error).
    with site.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM login_throttles")) == 0
    assert [event.event for event in audit_events(site)] == recorded
    assert error_records(caplog) == []


def test_a_refused_string_names_its_field(client):
    response = client.post("/api/v1/tokens", data='{"name": "till\\u0000"}', headers={
        **basic(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"name": [
        "Remove the NUL character or the lone surrogate."]}
    nested = client.post("/api/v1/orders", headers=basic(), json={
        "lines": [{"item_id": 1, "quantity": 1}, {"item_id": "\ud800", "quantity": 1}]})
    assert nested.status_code == 400
    assert list(nested.json["error"]["fields"]) == ["lines.1.item_id"]


def test_an_empty_json_body_is_a_400(client):
    # No body to refuse before authentication, but nothing a view can read either
    # (where a customer may write at all).
    for method, path, _ in JSON_OPERATIONS:
        if path.startswith(("/api/v1/items", "/api/v1/suppliers")):
            continue
        response = client.open(path, method=method, data="", headers={
            **basic(), "Content-Type": "application/json"})
        assert response.status_code == 400, (method, path, response.text[:300])


@pytest.mark.parametrize("depth", [1, 20])
def test_reasonable_json_is_still_read(client, depth):
    # Deep enough for any body the API takes (the schema refuses the extra field).
    body = '{"name": "till", "x": ' + "[" * depth + "]" * depth + "}"
    response = client.post("/api/v1/tokens", data=body, headers={
        **basic(), "Content-Type": "application/json"})
    assert response.status_code == 422 and list(response.json["error"]["fields"]) == ["x"]


def test_bodies_that_may_be_400_document_it(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for method, _, documented in JSON_OPERATIONS:
        assert "400" in paths[documented][method.lower()]["responses"], documented


# --- values the database would refuse are refused first (issue 16, item 18) -------------

@pytest.mark.parametrize("email", [
    "a" * 250 + "@example.com",       # longer than the email column
    "İ" * 200 + "@example.com",        # short enough, but twice as long in lower case
    "ada\x00@example.com",            # PostgreSQL refuses NUL outright
])
def test_basic_credentials_no_account_can_have_are_a_401(migrated_app, caplog, email):
    app = migrated_app
    client = app.test_client()
    for response in (client.get("/api/v1/me", headers=basic(email, "x")),
                     client.post("/api/v1/tokens", json={"name": "till"},
                                 headers=basic(email, "x"))):
        assert response.status_code == 401, response.text[:300]
        assert response.json["error"]["status"] == 401
    assert error_records(caplog) == []
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("days", [7.5, "7", True, None])
def test_token_lifetimes_are_whole_numbers_as_numbers(client, days):
    body = {"name": "till", "expires_in_days": days}
    response = client.post("/api/v1/tokens", json=body, headers=basic())
    if days is None:  # no expiry
        assert response.status_code == 201 and response.json["expires_at"] is None
        return
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["expires_in_days"]


def body_fields(schema: dict, where: str, components: dict):
    """(where, name, schema) of each property a request body may send, nested ones
    included."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        yield from body_fields(components[name], name, components)
    for field, value in schema.get("properties", {}).items():
        if not value.get("readOnly"):
            yield where, field, value
            yield from body_fields(value.get("items", value), where, components)


def request_fields(spec: dict):
    """(where, name, schema) of every field a request may send: the query parameters
    and the request bodies' properties."""
    components = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's own: ids, bounded by the URL map
                continue
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "query":
                    yield path, parameter["name"], parameter["schema"]
            for body in operation.get("requestBody", {}).get("content", {}).values():
                yield from body_fields(body["schema"], path, components)


def test_every_request_field_is_bounded(client):
    # What the database would refuse is refused by validation first (a 422, not a
    # 500 or a 503): text no longer than its column, whole numbers within range.
    from mypack.menu.prices import PRICE_PATTERN

    seen = 0
    for where, name, schema in request_fields(client.get("/api/v1/openapi.json").json):
        seen += 1
        kind = schema.get("type")
        if kind == "string" and "enum" not in schema and schema.get("pattern") != PRICE_PATTERN:
            assert "maxLength" in schema, (where, name)
        if kind == "integer":
            assert "minimum" in schema and "maximum" in schema, (where, name)
        if kind == "array":
            assert "maxItems" in schema, (where, name)
    assert seen > 30


@pytest.mark.parametrize("schema, field, column", [
    ("TokenCreate", "name", "api_tokens.name"),
    ("Item", "name", "menu_items.name"),
    ("ItemUpdate", "name", "menu_items.name"),
    ("Supplier", "name", "suppliers.name"),
    ("Supplier", "email", "suppliers.email"),
    ("Supplier", "phone", "suppliers.phone"),
    ("SupplierUpdate", "email", "suppliers.email"),
    ("OrderCreate", "submission_key", "orders.submission_key"),
])
def test_text_fields_are_as_long_as_their_columns(client, schema, field, column):
    table, name = column.split(".")
    length = db.metadata.tables[table].c[name].type.length
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["schemas"][schema]["properties"][field]["maxLength"] == length
