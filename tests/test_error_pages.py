"""Every error a visitor can meet has a page in the site's layout, and the JSON shape
for API clients."""

import pytest
from flask import abort


@pytest.fixture
def failing(app):
    app.add_url_rule("/fail/<int:code>", "fail", lambda code: abort(code))
    return app


@pytest.mark.parametrize("code, title", [
    (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found"),
    (405, "Method Not Allowed"), (413, "Request Entity Too Large"),
    (429, "Too Many Requests"), (500, "Internal Server Error"),
])
def test_error_page_in_layout(failing, code, title):
    response = failing.test_client().get(f"/fail/{code}", headers={"Accept": "text/html"})
    assert response.status_code == code
    assert f"<h1>{code} {title}</h1>" in response.text
    assert 'class="site-header"' in response.text
    # A server error's page names no account (loading it may be what failed).
    assert ("Log in" in response.text) == (code < 500)


@pytest.mark.parametrize("code", [400, 401, 403, 404, 405, 413, 429, 500])
def test_error_json_for_api_clients(failing, code):
    response = failing.test_client().get(f"/fail/{code}", headers={"Accept": "application/json"})
    assert response.status_code == code
    assert set(response.json["error"]) == {"status", "code", "message", "fields"}
    assert response.json["error"]["status"] == code
