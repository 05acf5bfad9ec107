"""``/api/v1/users``: admins list, show and change accounts; nobody else may."""


import pytest

from mypack.auth.models import User
from mypack.extensions import db
from tests.factories import add_people, basic, make_user

ADMIN = "admin@example.com"


@pytest.fixture
def people(site):
    """An admin, a staff member and a customer; their ids by role."""
    return add_people(site, ("admin", "staff", "customer"))


@pytest.fixture
def client(site, people):
    return site.test_client()


def assert_no_password_hash(response):
    assert "password_hash" not in response.text and "pbkdf2" not in response.text


@pytest.mark.parametrize("role, status", [(None, 401), ("customer", 403), ("staff", 403),
                                          ("admin", 200)])
@pytest.mark.parametrize("method, path", [("get", "/api/v1/users"),
                                          ("get", "/api/v1/users/1"),
                                          ("patch", "/api/v1/users/3")])
def test_role_matrix(client, role, status, method, path):
    # An anonymous write without any Authorization header is refused by the CSRF check
    # (400) before authentication; with a header that names nobody it is 401.
    anonymous = {"Authorization": "Bearer not-a-token"} if method == "patch" else {}
    headers = basic(f"{role}@example.com") if role else anonymous
    kwargs = {"json": {"active": True}} if method == "patch" else {}
    response = getattr(client, method)(path, headers=headers, **kwargs)
    assert response.status_code == status
    if status == 401:
        assert "WWW-Authenticate" in response.headers
    assert_no_password_hash(response)


def test_list_is_paginated(site, client):
    for number in range(5):
        make_user(site, f"guest{number}@example.com", name=f"Guest {number}")
    response = client.get("/api/v1/users?per_page=3&page=2", headers=basic(ADMIN))
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 8 and body["page"] == 2 and body["per_page"] == 3
    emails = [user["email"] for user in body["items"]]
    assert emails == ["guest1@example.com", "guest2@example.com", "guest3@example.com"]
    assert set(body["items"][0]) == {"id", "display_name", "role", "active", "email",
                                     "email_confirmed", "created_at"}
    assert_no_password_hash(response)
    everyone = client.get("/api/v1/users?per_page=100", headers=basic(ADMIN)).json
    assert len(everyone["items"]) == 8


@pytest.mark.parametrize("query", ["per_page=101", "per_page=0", "page=0", "page=x"])
def test_list_refuses_bad_pages(client, query):
    response = client.get(f"/api/v1/users?{query}", headers=basic(ADMIN))
    assert response.status_code == 422 and response.json["error"]["fields"]


def test_anonymous_write_is_401(client, people):
    # Nobody is logged in, so there is no session to forge: the answer is "who are you".
    response = client.patch(f"/api/v1/users/{people['customer']}", json={"active": False})
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers


def test_get_one(client, people):
    response = client.get(f"/api/v1/users/{people['staff']}", headers=basic(ADMIN))
    assert response.json["email"] == "staff@example.com" and response.json["role"] == "staff"
    assert_no_password_hash(response)
    assert client.get("/api/v1/users/999", headers=basic(ADMIN)).status_code == 404


def test_patch_role_and_active(site, client, people):
    customer = people["customer"]
    response = client.patch(f"/api/v1/users/{customer}", json={"role": "staff"},
                            headers=basic(ADMIN))
    assert response.status_code == 200 and response.json["role"] == "staff"
    assert_no_password_hash(response)
    response = client.patch(f"/api/v1/users/{customer}", json={"active": False},
                            headers=basic(ADMIN))
    assert response.status_code == 200 and response.json["active"] is False
    with site.app_context():
        user = db.session.get(User, customer)
        assert user.role == "staff" and user.active is False
    assert client.get("/api/v1/me", headers=basic("customer@example.com")).status_code == 401


@pytest.mark.parametrize("body", [{"role": "owner"}, {"active": "maybe"}])
def test_patch_validates(client, people, body):
    response = client.patch(f"/api/v1/users/{people['customer']}", json=body,
                            headers=basic(ADMIN))
    assert response.status_code == 422 and response.json["error"]["fields"]


@pytest.mark.parametrize("body", [{"role": "staff"}, {"active": False}])
def test_last_admin_keeps_role_and_stays_active(site, client, people, body):
    response = client.patch(f"/api/v1/users/{people['admin']}", json=body,
                            headers=basic(ADMIN))
    assert response.status_code == 409
    assert "last active admin" in response.json["error"]["message"]
    with site.app_context():
        user = db.session.get(User, people["admin"])
        assert user.role == "admin" and user.active


def test_an_admin_can_be_demoted_when_another_remains(client, people):
    promoted = client.patch(f"/api/v1/users/{people['staff']}", json={"role": "admin"},
                            headers=basic(ADMIN))
    assert promoted.json["role"] == "admin"
    demoted = client.patch(f"/api/v1/users/{people['admin']}", json={"role": "customer"},
                           headers=basic("staff@example.com"))
    assert demoted.status_code == 200 and demoted.json["role"] == "customer"


def test_me_shows_no_password_hash(client):
    response = client.get("/api/v1/me", headers=basic("customer@example.com"))
    assert response.status_code == 200 and response.json["email"] == "customer@example.com"
    assert_no_password_hash(response)
