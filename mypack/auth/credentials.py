"""How a request proves who it is: a session or remember cookie (Flask-Login's user
loader), or an Authorization header, HTTP Basic or a Bearer token (its request
loader). The role gate (mypack.auth.roles) then decides what the caller may do.

Basic credentials go through the same lockout as the login page
(``service.authenticate``) and, on failure, the same per-client limit
(AUTH_RATE_LIMIT), counted on failures only: a client that sends its right password
on every request is never throttled for it.
"""

from __future__ import annotations

import base64
import binascii

from flask import current_app, g, request
from limits import parse
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests

from mypack.auth import service, tokens
from mypack.auth.models import User
from mypack.extensions import db, limiter
from mypack.outages import Outage

#: What a 401 offers the client.
CHALLENGE = 'Basic realm="mypack", charset="UTF-8", Bearer realm="mypack"'


def load_user(login_id: str) -> User | None:
    """The user of a session or remember cookie, if its token is still the user's
    (Flask-Login's user loader)."""
    user_id, _, token = login_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def load_user_from_request(request) -> User | None:
    """The user of the request's Authorization header, if any (Flask-Login's request
    loader): no session cookie is set for such a request (mypack.auth.sessions)."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    g.authenticated_by_header = True
    return user_from_authorization(header)


def authenticated_by_header() -> bool:
    """Whether this request's caller came with an Authorization header, not a cookie."""
    return bool(g.get("authenticated_by_header"))


def token_scope() -> str | None:
    """The scope of the Bearer token that authenticated this request; None for a
    password (Basic), a session, or nobody: those have the user's full rights."""
    return g.get("token_scope")


def user_from_authorization(header: str) -> User | None:
    """The user an Authorization header names, or None.

    :raise 429: Basic credentials for a locked email (the lockout of the login page),
        or too many failed ones from this client.
    """
    scheme, _, credentials = header.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer":
        record = tokens.live(credentials)
        if record is None:
            return None
        # Remembered for this request only (the role gate reads it), not on the user:
        # the same user may be loaded by another token, their password or their session.
        g.token_scope = record.scope
        return record.user
    if scheme == "basic":
        try:
            email, _, password = base64.b64decode(credentials, validate=True).decode(
                "utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return _basic_user(email, password)
    return None


def _basic_user(email: str, password: str) -> User | None:
    limit, client = _basic_failure_limit()
    if not _failure_counter("test", limit, client):
        raise TooManyRequests("Too many failed logins from this client. Try again later.",
                              retry_after=limit.get_expiry())
    # A locked email is the service's AccountLocked: 429 with Retry-After, as on the
    # login page.
    try:
        user = service.authenticate(email, password)
    except service.AccountInactive:
        user = None
    if user is None:
        _failure_counter("hit", limit, client)
    return user


def _basic_failure_limit():
    # The login page's per-client limit (AUTH_RATE_LIMIT), counted on failed Basic
    # attempts only.
    return parse(current_app.config["AUTH_RATE_LIMIT"]), request.remote_addr or "-"


def _failure_counter(action: str, limit, client: str) -> bool:
    """``test`` or ``hit`` the client's failed-Basic counter in the limiter's store; while
    that store (Redis) is down, in a store of this process's, as Flask-Limiter does for
    the login and registration forms (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED). The
    lockout in the database holds either way."""
    outage, fallback = _fallback()
    if outage.available():
        try:
            answer = getattr(limiter.limiter, action)(limit, "api-basic-failures", client)
        except Exception as error:  # the store's client error, whichever it is
            outage.failed(error)
        else:
            outage.succeeded()
            return answer
    return getattr(fallback, action)(limit, "api-basic-failures", client)


_FALLBACK = "mypack.basic_failures_fallback"


def _fallback():
    """This app's (outage, per-process limiter of the same strategy)."""
    extensions = current_app.extensions
    if _FALLBACK not in extensions:
        extensions[_FALLBACK] = (
            Outage("the rate-limit store", "counting failed logins per process"),
            type(limiter.limiter)(MemoryStorage()))
    return extensions[_FALLBACK]
