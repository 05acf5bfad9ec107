"""Response hardening: proxy headers, HTTPS, security headers, private logged-in pages.

``init_app`` runs right after logging, so its HTTPS hook comes before every other
``before_request`` hook (CSRF, rate limits, logins), then the refusal of requests no
view can use (a NUL, a form field sent as a file, JSON mypack.bodies will not
read), and its header hook runs on every response Flask finishes: views, redirects,
and the error pages, including the 400 for a Host outside TRUSTED_HOSTS.

What each response carries:

- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Cross-Origin-Opener-Policy: same-origin``, and CONTENT_SECURITY_POLICY and
  REFERRER_POLICY unless set empty. A header the view set itself is kept.
- ``Strict-Transport-Security`` when HSTS_SECONDS > 0, on HTTPS responses only:
  browsers ignore it over plain HTTP (RFC 6797, 8.1), where a man in the middle
  could strip or forge it anyway.
- ``Cache-Control: private, no-store`` and ``Vary: Cookie`` when the request had a
  logged-in user (Flask-Login), so no shared cache keeps one user's page for another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, redirect, request, session
from werkzeug.exceptions import BadRequest, Forbidden, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from mypack.bodies import StrictJSONProvider, has_json_body, json_body
from mypack.errors import error_response, handle_http_error
from mypack.exceptions import ConfigError
from mypack.paths import is_api_path

#: ProxyFix's arguments and the settings that give them.
PROXY_FIX_SETTINGS = {
    "x_for": "PROXY_FIX_X_FOR",
    "x_proto": "PROXY_FIX_X_PROTO",
    "x_host": "PROXY_FIX_X_HOST",
    "x_port": "PROXY_FIX_X_PORT",
    "x_prefix": "PROXY_FIX_X_PREFIX",
}
#: Load balancers probe these over plain HTTP; they answer there, never redirect.
PLAIN_HTTP_PATHS = frozenset({"/healthz", "/readyz"})
#: Sent with every response whatever the settings.
FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
PRIVATE_CACHE_CONTROL = "private, no-store"
EXTENSION = "mypack.security"


@dataclass(frozen=True)
class Policy:
    """The headers this app sends, computed once from its settings."""

    headers: tuple[tuple[str, str], ...]
    #: The Strict-Transport-Security value, or None for no HSTS.
    hsts: str | None
    force_https: bool


def init_app(app: Flask) -> None:
    """Trust the configured proxies, require HTTPS, and harden every response.

    :raise ConfigError: a PROXY_FIX_* or HSTS_SECONDS setting is not a whole number
        of 0 or more.
    """
    install_proxy_fix(app)
    policy = policy_from(app.config)
    app.extensions[EXTENSION] = policy
    if policy.force_https:
        app.before_request(require_https)
    app.before_request(refuse_nul_characters)
    # Every JSON body is read strictly (mypack.bodies), by this hook first.
    app.json = StrictJSONProvider(app)
    app.before_request(refuse_unreadable_bodies)
    app.after_request(add_security_headers)
    app.after_request(keep_logged_in_responses_private)
    watch_logouts(app)


def refuse_nul_characters():
    """400 for a NUL character in the query or a form field.

    No text a visitor sends needs one, and PostgreSQL refuses strings holding it
    with an error that would otherwise reach the visitor as a 500.
    """
    # The decoded query holds a NUL only where the raw one has "%00" or a NUL byte,
    # so every request's query is searched as bytes, without being parsed.
    query = request.query_string
    refused = b"%00" in query or b"\x00" in query
    if not refused and request.mimetype in ("application/x-www-form-urlencoded",
                                            "multipart/form-data"):
        refused = any("\x00" in value
                      for value in (*request.form.values(), *request.form.keys()))
    if refused:
        return error_response(BadRequest("The request contains a NUL character."))
    return None


def refuse_unreadable_bodies():
    """400 for a body no view could use, before authentication or the database.

    - JSON that mypack.bodies refuses (too deep, a number no field holds, a NUL
      or a lone surrogate in a string ...), on any path; the body stays parsed for
      the view.
    - A form field sent as a file part (multipart/form-data with a filename): no form
      of the site takes a file, and one where a form expects text fails its
      validators with a TypeError.
    """
    try:
        if has_json_body():
            json_body()
        elif request.mimetype == "multipart/form-data" and request.files:
            raise BadRequest("This site takes no files: send the form's fields as text.")
    except BadRequest as refused:
        return handle_http_error(refused)
    return None


def is_count(value: Any) -> bool:
    """Whether a setting is a whole number of 0 or more (not a bool, not text)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def proxy_fix_counts(config) -> dict[str, int]:
    """ProxyFix's arguments: how many proxies set each X-Forwarded-* header.

    :raise ConfigError: a PROXY_FIX_* setting is not a whole number of 0 or more.
    """
    counts = {}
    for argument, name in PROXY_FIX_SETTINGS.items():
        value = config.get(name, 0)
        if not is_count(value):
            raise ConfigError(f"{name} must be the number of proxies in front (0 or more), "
                              f"not {value!r}")
        counts[argument] = value
    return counts


def install_proxy_fix(app: Flask) -> None:
    """Behind proxies, take the client address, scheme, host... from X-Forwarded-*.

    Only as many values as there are proxies are trusted, counted from the right:
    the ones the proxies appended; anything a client sent before them is ignored.
    With every count 0 (the default) nothing is wrapped and nothing is trusted.
    """
    counts = proxy_fix_counts(app.config)
    if any(counts.values()):
        inner = lower_case_scheme(app.wsgi_app) if counts["x_proto"] else app.wsgi_app
        app.wsgi_app = ProxyFix(inner, **counts)  # type: ignore[method-assign]  # Flask's way


def lower_case_scheme(wsgi_app):
    """``wsgi_app``, seeing the request's scheme in lower case.

    ProxyFix sets the scheme to X-Forwarded-Proto as the proxy wrote it; scheme names
    are case-insensitive (RFC 3986, 3.1), but Flask knows a secure request by
    ``"https"`` exactly, so ``HTTPS`` from a proxy would be redirected to https://
    again and again, and get no HSTS.
    """
    def app(environ, start_response):
        environ["wsgi.url_scheme"] = environ["wsgi.url_scheme"].lower()
        return wsgi_app(environ, start_response)
    return app


def policy_from(config) -> Policy:
    """The headers to send, from HSTS_*, CONTENT_SECURITY_POLICY and REFERRER_POLICY.

    :raise ConfigError: HSTS_SECONDS is not a whole number of 0 or more.
    """
    headers = list(FIXED_HEADERS)
    for name, setting in (("Content-Security-Policy", "CONTENT_SECURITY_POLICY"),
                          ("Referrer-Policy", "REFERRER_POLICY")):
        if config.get(setting):
            headers.append((name, str(config[setting])))
    return Policy(tuple(headers), hsts_value(config), bool(config.get("FORCE_HTTPS")))


def hsts_value(config) -> str | None:
    """``max-age=N[; includeSubDomains]``, or None when HSTS_SECONDS is 0."""
    seconds = config.get("HSTS_SECONDS") or 0
    if not is_count(seconds):
        raise ConfigError(f"HSTS_SECONDS must be a whole number of seconds, not {seconds!r}")
    if not seconds:
        return None
    return f"max-age={seconds}" + ("; includeSubDomains"
                                   if config.get("HSTS_INCLUDE_SUBDOMAINS") else "")


def require_https():
    """Send plain-HTTP requests to HTTPS: pages are redirected, the API refuses.

    The API does not redirect: a client that sent credentials over plain HTTP must
    notice, not have them silently repeated. GET and HEAD get 301; other methods 308,
    which keeps the method and body.
    """
    if request.is_secure or request.path in PLAIN_HTTP_PATHS:
        return None
    if isinstance(request.routing_exception, SecurityError):
        # A Host outside TRUSTED_HOSTS: its 400 follows; never redirect to that host.
        return None
    if is_api_path(request.path):
        return error_response(Forbidden("The API answers only over HTTPS; send this request "
                                        "to the https:// address."))
    code = 301 if request.method in ("GET", "HEAD") else 308
    return redirect("https://" + request.url.partition("://")[2], code=code)


def add_security_headers(response):
    """Add the security headers the view did not set itself."""
    policy: Policy = current_app.extensions[EXTENSION]
    headers = response.headers
    # One pass over the response's headers, not one per header added: this runs on
    # every response.
    present = {name.lower() for name, _ in headers}
    for name, value in policy.headers:
        if name.lower() not in present:
            headers.add(name, value)
    if policy.hsts and "strict-transport-security" not in present and request.is_secure:
        headers.add("Strict-Transport-Security", policy.hsts)
    return response


def keep_logged_in_responses_private(response):
    """A logged-in user's response: no shared cache may store it, and it varies by cookie.

    Flask adds ``Vary: Cookie`` by itself whenever the session was read.
    """
    if had_logged_in_user():
        response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
        response.vary.add("Cookie")
    return response


def had_logged_in_user() -> bool:
    """Whether a logged-in user took part in this request (Flask-Login): one logged in
    or out, or the request looked at its user (Flask-Login's ``user_accessed``) and
    carried a login (a session that names a user, a remember cookie, credentials).

    A response that never looked at the user does not depend on it. The login is
    judged from what the request carried, not from the loaded user: reading that
    object may touch the database again (a second wait when the database is what
    failed) or meet an object a failed transaction left expired and detached.
    """
    if not hasattr(current_app, "login_manager"):
        return False
    if g.get("_mypack_logged_out") or g.get("_mypack_logged_in"):
        return True
    if not g.get("_mypack_user_accessed"):
        return False
    from flask_login.config import COOKIE_NAME

    return ("Authorization" in request.headers
            or current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
            or (current_app.config["SESSION_COOKIE_NAME"] in request.cookies
                and "_user_id" in session))


def watch_logouts(app: Flask) -> None:
    """Note each look at the user, each login and each logout: the response is the
    user's even where the request carried no login, or no longer carries one."""
    try:
        from flask_login import user_accessed, user_logged_in, user_logged_out
    except ImportError:  # no login system installed: nobody logs in or out
        return
    user_accessed.connect(_note_access, app)
    user_logged_in.connect(_note_login, app)
    user_logged_out.connect(_note_logout, app)


def _note_access(app: Flask, **extra: Any) -> None:
    g._mypack_user_accessed = True


def _note_login(app: Flask, **extra: Any) -> None:
    g._mypack_logged_in = True


def _note_logout(app: Flask, **extra: Any) -> None:
    g._mypack_logged_out = True
