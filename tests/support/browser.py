"""A small browser for the real-server tests: keeps cookies, posts forms with their
CSRF token, and speaks to the server as a TLS-terminating proxy would forward it."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlencode, urlsplit

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """One browser: a cookie jar and requests to one server, no redirects followed."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None,
                referer: str | None = None):
        """Send a request; return (status, headers, text) and keep the cookies set."""
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
        if referer:
            # Browsers send it; Flask-WTF requires it for HTTPS form posts.
            headers["Referer"] = f"https://{self.host}:{self.port}{referer}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                self._keep(header)
            return response.status, response.headers, text
        finally:
            connection.close()

    def _keep(self, header: str) -> None:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        expired = "expires=thu, 01 jan 1970" in header.lower() or "max-age=0" in header.lower()
        if expired or not value:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, path: str):
        return self.request("GET", path)

    def submit(self, path: str, form: dict, token_from: str | None = None):
        """Post a form with the CSRF token of the page it is on."""
        _, _, page = self.get(token_from or path)
        token = _TOKEN.search(page)
        assert token, f"no CSRF token on {token_from or path}"
        return self.request("POST", path, {"csrf_token": token[1], **form},
                            referer=token_from or path)

    def logged_in_as(self) -> str | None:
        """The email the profile page shows, or None when not logged in."""
        status, _, page = self.get("/auth/profile")
        if status != 200:
            return None
        match = re.search(r"<p>([^<]+) · (customer|staff|admin)</p>", page)
        return match[1] if match else None


def register_and_login(browser: Browser, email="ada@example.com", password="Flat-White-42",
                       name="Ada") -> None:
    """Register through the form, then log in through the form."""
    status, headers, _ = browser.submit("/auth/register", {
        "email": email, "display_name": name, "password": password, "confirm": password,
        "accept_terms": "y"})
    assert status == 302, status
    status, headers, page = browser.submit("/auth/login", {"email": email, "password": password})
    assert status == 302, (status, page[-500:])


def hidden_fields(page: str, form_class: str) -> dict[str, str]:
    """The hidden inputs of the form with this class on a page."""
    start = page.index(f'class="{form_class}"')
    form = page[start:page.index("</form>", start)]
    return dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"',
                           form)) | dict(re.findall(
                               r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"',
                               form))


def place_order(browser: Browser, quantities: dict[int, int]) -> str:
    """Choose, review and confirm an order through the pages; return the order's path."""
    form = {f"qty-{item_id}": str(quantity) for item_id, quantity in quantities.items()}
    status, _, review = browser.submit("/orders/new", form)
    assert status == 200, (status, review[-800:])
    fields = hidden_fields(review, "order-confirm")
    status, headers, page = browser.request("POST", "/orders/confirm", fields,
                                            referer="/orders/new")
    assert status == 302, (status, page[-800:])
    return urlsplit(headers["Location"]).path
