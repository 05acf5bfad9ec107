"""The API through the real servers: HTTP Basic and Bearer tokens reach mypack under
Apache mod_wsgi (WSGIPassAuthorization) and gunicorn (issue 6, item 8)."""

import base64
import http.client
import json

import pytest

from tests.support.browser import Browser, register_and_login
from tests.support.servers import Apache, Gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgres"])]
EMAIL, PASSWORD = "ada@example.com", "Flat-White-42"


def call(url, method, path, authorization, body=None):
    """One API request as through the TLS proxy; returns (status, JSON body, headers)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": authorization, "X-Forwarded-Proto": "https",
               "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None,
                           headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null"), response.headers
    finally:
        connection.close()


def basic_and_bearer(url):
    register_and_login(Browser(url), EMAIL, PASSWORD)
    basic = "Basic " + base64.b64encode(f"{EMAIL}:{PASSWORD}".encode()).decode()
    status, me, headers = call(url, "GET", "/api/v1/me", basic)
    assert status == 200 and me["email"] == EMAIL
    assert headers.get("Set-Cookie") is None
    status, created, _ = call(url, "POST", "/api/v1/tokens", basic, {"name": "till"})
    assert status == 201, created
    status, me, _ = call(url, "GET", "/api/v1/me", "Bearer " + created["token"])
    assert status == 200 and me["email"] == EMAIL
    status, error, headers = call(url, "GET", "/api/v1/me", "Bearer not-a-token")
    assert status == 401 and "Bearer" in headers["WWW-Authenticate"]


def test_basic_and_bearer_under_apache(deployed):
    with Apache(deployed) as apache:
        basic_and_bearer(apache.url)


def test_basic_and_bearer_under_gunicorn(deployed):
    with Gunicorn(deployed) as server:
        basic_and_bearer(server.url)
