"""Token scopes (issue 16, point 16) on SQLite, PostgreSQL and MySQL: a read token only
reads, a write token does what its user may, a token never makes a token of more scope
than its own, and the OpenAPI document says which operation needs which scope."""

import re

import pytest
from flask_migrate import upgrade as upgrade_to
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from mypack.auth import tokens
from mypack.auth.models import ApiToken, User
from mypack.auth.passwords import hash_password
from mypack.database import init_migrations
from mypack.extensions import db
from tests.factories import (
    PASSWORD,
    add_people,
    basic,
    bearer,
    csrf_token,
    login,
    post_form,
)

INSUFFICIENT = 'Bearer realm="mypack", error="insufficient_scope", scope="write"'


@pytest.fixture
def people(migrated_app):
    """An admin, a staff member and a customer; their ids by role."""
    return add_people(migrated_app, ("admin", "staff", "customer"))


@pytest.fixture
def client(migrated_app, people):
    return migrated_app.test_client()


@pytest.fixture
def token(migrated_app, people):
    """``token(role, scope)``: a new token of that role's user, as made by the domain."""
    def make(role: str, scope: str) -> str:
        with migrated_app.app_context():
            user = db.session.get(User, people[role])
            return tokens.create(user, f"{role} {scope}", scope=scope)[0]
    return make


def scope_of(app, name: str) -> str:
    with app.app_context():
        return db.session.scalar(select(ApiToken.scope).where(ApiToken.name == name))


def assert_insufficient_scope(response):
    assert response.status_code == 403, response.text[:300]
    assert response.headers["WWW-Authenticate"] == INSUFFICIENT
    error = response.json["error"]
    assert set(error) == {"status", "code", "message", "fields"}
    assert (error["status"], error["code"]) == (403, "forbidden")
    assert error["message"] == "This token's scope is read; this operation needs write."


def write_operations(spec: dict):
    """(method, path as called, path as documented) of every operation that is no read."""
    for documented, item in sorted(spec["paths"].items()):
        for method in item:
            if method in ("post", "put", "patch", "delete"):
                yield method.upper(), re.sub(r"\{[^}]+\}", "1", documented), documented


# --- a read token reads, and only reads ------------------------------------------------------

def test_a_read_token_reads(client, token):
    read = bearer(token("customer", "read"))
    assert client.get("/api/v1/me", headers=read).json["email"] == "customer@example.com"
    assert client.get("/api/v1/orders", headers=read).status_code == 200
    assert client.get("/api/v1/tokens", headers=read).json[0]["scope"] == "read"
    assert client.head("/api/v1/me", headers=read).status_code == 200


@pytest.mark.parametrize("role, method, path, body", [
    ("customer", "POST", "/api/v1/orders", {"lines": [{"item_id": 1, "quantity": 1}]}),
    ("customer", "POST", "/api/v1/orders/1/status", {"status": "cancelled"}),
    ("staff", "POST", "/api/v1/items", {"name": "Mocha", "category": "coffee", "price": "4.00"}),
    ("staff", "PATCH", "/api/v1/items/1", {"price": "3.20"}),
    ("staff", "DELETE", "/api/v1/items/1", None),
    ("staff", "DELETE", "/api/v1/suppliers/1", None),
    ("admin", "PATCH", "/api/v1/users/3", {"active": False}),
])
def test_a_read_token_cannot_write(client, token, people, role, method, path, body):
    response = client.open(path, method=method, json=body,
                           headers=bearer(token(role, "read")))
    assert_insufficient_scope(response)


def test_every_write_operation_needs_and_documents_the_write_scope(client, token):
    """One rule for all: whatever operation the API has or gets, a read token of the
    user with the most rights cannot use it, and the document says so."""
    spec = client.get("/api/v1/openapi.json").json
    read = bearer(token("admin", "read"))
    operations = list(write_operations(spec))
    assert len(operations) >= 11
    for method, path, documented in operations:
        body = {"name": "x"} if documented == "/api/v1/tokens" else {}
        response = client.open(path, method=method, headers=read,
                               json=None if method == "DELETE" else body)
        assert_insufficient_scope(response)
        operation = spec["paths"][documented][method.lower()]
        assert operation["x-token-scope"] == "write", (method, documented)
        assert "needs the write scope" in operation["description"], (method, documented)
        assert "403" in operation["responses"], (method, documented)
    assert spec["paths"]["/api/v1/orders"]["get"]["x-token-scope"] == "read"


def test_a_write_token_writes(client, token):
    staff = bearer(token("staff", "write"))
    made = [client.post("/api/v1/items", headers=staff, json={
        "name": name, "category": "coffee", "price": "4.00"}) for name in ("Mocha", "Latte")]
    assert [response.status_code for response in made] == [201, 201]
    mocha, latte = (response.json["id"] for response in made)
    assert client.patch(f"/api/v1/items/{mocha}", headers=staff,
                        json={"price": "4.50"}).json["price"] == "4.50"
    assert client.delete(f"/api/v1/items/{latte}", headers=staff).status_code == 204
    customer = bearer(token("customer", "write"))
    order = client.post("/api/v1/orders", headers=customer,
                        json={"lines": [{"item_id": mocha, "quantity": 1}]})
    assert order.status_code == 201 and order.json["total"] == "4.50"


# --- admins ----------------------------------------------------------------------------------

def test_an_admins_read_token_lists_users_but_cannot_change_them(migrated_app, client, token,
                                                                  people):
    read = bearer(token("admin", "read"))
    listed = client.get("/api/v1/users", headers=read)
    assert listed.status_code == 200 and listed.json["total"] == 3
    assert client.get(f"/api/v1/users/{people['customer']}", headers=read).status_code == 200
    refused = client.patch(f"/api/v1/users/{people['customer']}", headers=read,
                           json={"role": "staff"})
    assert_insufficient_scope(refused)
    with migrated_app.app_context():
        assert db.session.get(User, people["customer"]).role == "customer"

    write = bearer(token("admin", "write"))
    changed = client.patch(f"/api/v1/users/{people['customer']}", headers=write,
                           json={"role": "staff"})
    assert changed.status_code == 200 and changed.json["role"] == "staff"


def test_a_write_token_gives_no_more_than_the_role(client, token):
    # The role is checked first: a new token would not help, so no scope is asked for.
    response = client.patch("/api/v1/users/1", headers=bearer(token("staff", "write")),
                            json={"active": True})
    assert response.status_code == 403 and "WWW-Authenticate" not in response.headers
    assert response.json["error"]["message"] == "Your role may not do this."


# --- making and revoking tokens with a token -------------------------------------------------

def test_a_read_token_can_neither_make_nor_revoke_tokens(migrated_app, client, token):
    read = token("customer", "read")
    other = tokens.digest(token("customer", "write"))
    for scope in ("read", "write"):
        assert_insufficient_scope(client.post("/api/v1/tokens", headers=bearer(read),
                                              json={"name": "more", "scope": scope}))
    listed = client.get("/api/v1/tokens", headers=bearer(read)).json
    for shown in listed:
        assert_insufficient_scope(client.delete(f"/api/v1/tokens/{shown['id']}",
                                                headers=bearer(read)))
    with migrated_app.app_context():
        assert db.session.scalar(select(ApiToken).where(ApiToken.digest == other)).revoked_at \
            is None
    assert len(client.get("/api/v1/tokens", headers=bearer(read)).json) == 2


def test_a_write_token_makes_read_and_write_tokens_and_revokes(migrated_app, client, token):
    write = bearer(token("customer", "write"))
    made = {}
    for scope in ("read", "write"):
        response = client.post("/api/v1/tokens", headers=write,
                               json={"name": f"made {scope}", "scope": scope})
        assert response.status_code == 201 and response.json["scope"] == scope
        made[scope] = response.json
        assert scope_of(migrated_app, f"made {scope}") == scope
    # What they make can do what their scope says.
    assert client.get("/api/v1/me", headers=bearer(made["read"]["token"])).status_code == 200
    assert_insufficient_scope(client.post("/api/v1/tokens", json={"name": "x"},
                                          headers=bearer(made["read"]["token"])))
    # Revoking: any token of the user, as with their password.
    for shown in made.values():
        assert client.delete(f"/api/v1/tokens/{shown['id']}", headers=write).status_code == 204
        assert client.get("/api/v1/me", headers=bearer(shown["token"])).status_code == 401


def test_api_tokens_are_read_unless_asked(migrated_app, client, people):
    made = client.post("/api/v1/tokens", headers=basic("customer@example.com"),
                       json={"name": "plain"})
    assert made.status_code == 201 and made.json["scope"] == "read"
    refused = client.post("/api/v1/tokens", headers=basic("customer@example.com"),
                          json={"name": "x", "scope": "admin"})
    assert refused.status_code == 422 and list(refused.json["error"]["fields"]) == ["scope"]


def test_a_token_never_makes_more_than_its_own_scope(migrated_app, people):
    with migrated_app.app_context():
        user = db.session.get(User, people["customer"])
        with pytest.raises(tokens.ScopeTooWide, match="scope is read; it cannot make"):
            tokens.create(user, "wider", scope="write", within="read")
        with pytest.raises(ValueError):
            tokens.create(user, "unknown", scope="admin")
        assert tokens.create(user, "same", scope="read", within="read")[1].scope == "read"
        assert tokens.create(user, "less", scope="read", within="write")[1].scope == "read"


def test_the_database_refuses_an_unknown_scope(migrated_app, people):
    with migrated_app.app_context():
        db.session.add(ApiToken(user_id=people["customer"], name="x", digest="0" * 64,
                                prefix="x", scope="admin"))
        # MariaDB reports a failed CHECK as an OperationalError (4025).
        with pytest.raises((IntegrityError, OperationalError)):
            db.session.commit()
        db.session.rollback()


# --- passwords and sessions keep the user's full rights -------------------------------------

def test_basic_and_session_callers_have_no_scope(client, people):
    staff = basic("staff@example.com")
    assert client.post("/api/v1/tokens", headers=staff,
                       json={"name": "w", "scope": "write"}).status_code == 201
    assert client.patch("/api/v1/users/1", headers=basic("admin@example.com"),
                        json={"active": True}).status_code == 200
    login(client, "customer@example.com")
    response = client.post("/api/v1/tokens", json={"name": "browser", "scope": "write"},
                           headers={"X-CSRFToken": csrf_token(client, "/auth/profile")})
    assert response.status_code == 201 and response.json["scope"] == "write"


# --- the profile page ------------------------------------------------------------------------

def test_the_profile_form_makes_a_read_token_unless_asked(migrated_app, client, people):
    login(client, "customer@example.com")
    page = client.get("/auth/profile").text
    assert 'name="scope"' in page and re.search(r'<option selected value="read">', page)
    created = post_form(client, "/auth/tokens", {"name": "laptop"},
                        token_from="/auth/profile")
    assert created.status_code == 200 and "read only" in created.text
    assert scope_of(migrated_app, "laptop") == "read"
    post_form(client, "/auth/tokens", {"name": "till", "scope": "write"},
              token_from="/auth/profile")
    assert scope_of(migrated_app, "till") == "write"
    listed = client.get("/auth/profile").text
    assert re.search(r"laptop</td>\s*<td><code>[^<]+</code></td>\s*<td>read only</td>", listed)
    assert re.search(r"till</td>\s*<td><code>[^<]+</code></td>\s*<td>read and write</td>",
                     listed)
    refused = post_form(client, "/auth/tokens", {"name": "x", "scope": "admin"},
                        token_from="/auth/profile")
    assert refused.status_code == 400 and "Not a valid choice" in refused.text
    refused = post_form(client, "/auth/tokens", {"name": "till\x1b[2J"},
                        token_from="/auth/profile")
    assert refused.status_code == 400 and "Remove the control characters." in refused.text


# --- the migration ---------------------------------------------------------------------------

def test_existing_tokens_become_write_tokens(db_app):
    """Revision 0005: tokens made before scopes could write, and still can."""
    init_migrations(db_app)
    with db_app.app_context():
        upgrade_to(revision="0004")
    with db_app.app_context():
        # A user row as revision 0004 knew it (the model has columns added since).
        db.session.execute(text(
            "INSERT INTO users (email, display_name, password_hash, role, active, "
            "session_token, created_at) VALUES ('old@example.com', 'Old', :hash, "
            "'customer', :yes, 'old-session-token', CURRENT_TIMESTAMP)"),
            {"hash": hash_password(PASSWORD), "yes": True})
        user_id = db.session.scalar(text("SELECT id FROM users WHERE email = 'old@example.com'"))
        db.session.execute(text(
            "INSERT INTO api_tokens (user_id, name, digest, prefix, created_at) "
            "VALUES (:user_id, 'old', :digest, 'oldtoken', CURRENT_TIMESTAMP)"),
            {"user_id": user_id, "digest": tokens.digest("old-token")})
        db.session.commit()
        upgrade_to()
        db.session.remove()
    assert scope_of(db_app, "old") == "write"
    response = db_app.test_client().post("/api/v1/tokens", headers=bearer("old-token"),
                                         json={"name": "new", "scope": "write"})
    assert response.status_code == 201
