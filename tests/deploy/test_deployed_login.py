"""Logins through the real servers: Apache mod_wsgi, gunicorn, and two gunicorn nodes
sharing one database (the login, its end, and the lockout hold on both)."""

import pytest

from tests.support.browser import Browser, register_and_login
from tests.support.servers import Apache, Gunicorn

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_login_under_apache(deployed):
    with Apache(deployed) as apache:
        browser = Browser(apache.url)
        register_and_login(browser)
        assert browser.logged_in_as() == "ada@example.com"
        status, _, _ = browser.submit("/auth/logout", {}, token_from="/auth/profile")
        assert status == 302
        assert browser.logged_in_as() is None


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_login_under_gunicorn(deployed):
    with Gunicorn(deployed) as server:
        browser = Browser(server.url)
        register_and_login(browser)
        assert browser.logged_in_as() == "ada@example.com"


@pytest.mark.parametrize("backend", ["postgres"])
def test_two_gunicorn_nodes_share_logins_and_logouts(deployed):
    with Gunicorn(deployed, name="a") as node_a, Gunicorn(deployed, name="b") as node_b:
        on_a = Browser(node_a.url)
        register_and_login(on_a)
        # The same cookies, sent to the other node, are the same login.
        on_b = Browser(node_b.url)
        on_b.cookies = dict(on_a.cookies)
        assert on_b.logged_in_as() == "ada@example.com"
        # Logging out on B ends the login on A too.
        status, _, _ = on_b.submit("/auth/logout", {}, token_from="/auth/profile")
        assert status == 302
        assert on_a.logged_in_as() is None
