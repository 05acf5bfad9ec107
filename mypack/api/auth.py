"""Who is calling the API: HTTP Basic, a Bearer token, or a browser session."""

from __future__ import annotations

import base64
import binascii
import inspect
from functools import wraps

from flask import abort, g, request
from flask_login import current_user
from flask_smorest import Blueprint
from limits import parse
from limits.storage import MemoryStorage
from werkzeug.exceptions import Forbidden, TooManyRequests, Unauthorized

from mypack.auth import service, tokens
from mypack.auth.models import ROLES
from mypack.extensions import limiter
from mypack.outages import Outage

#: Methods a token of the read scope may use: those that change nothing.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
#: What a 401 offers the client.
CHALLENGE = 'Basic realm="mypack", charset="UTF-8", Bearer realm="mypack"'


def user_from_authorization(header: str):
    """The user an Authorization header names, or None (Flask-Login's request loader).

    :raise 429: Basic credentials for a locked email (the lockout of the login page).
    """
    scheme, _, credentials = header.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer":
        record = tokens.live(credentials)
        if record is None:
            return None
        # Remembered for this request only (require() reads it), not on the user: the
        # same user may be loaded by another token, their password or their session.
        g.token_scope = record.scope
        return record.user
    if scheme == "basic":
        try:
            email, _, password = base64.b64decode(credentials, validate=True).decode(
                "utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        limit, client = _basic_failure_limit()
        if not _failure_counter("test", limit, client):
            raise TooManyRequests("Too many failed logins from this client. Try again later.",
                                  retry_after=limit.get_expiry()) from None
        try:
            user = service.authenticate(email, password)
        except service.AccountLocked as locked:
            raise TooManyRequests("Too many failed logins for this account.",
                                  retry_after=locked.retry_after) from None
        except service.AccountInactive:
            user = None
        if user is None:
            _failure_counter("hit", limit, client)
        return user
    return None


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
    from flask import current_app

    extensions = current_app.extensions
    if _FALLBACK not in extensions:
        extensions[_FALLBACK] = (
            Outage("the rate-limit store", "counting failed logins per process"),
            type(limiter.limiter)(MemoryStorage()))
    return extensions[_FALLBACK]





def _basic_failure_limit():
    # The login page's per-client limit (AUTH_RATE_LIMIT), counted here on failed
    # Basic attempts only: an API client that sends its right password on every
    # request must not be throttled for it.
    from flask import current_app, request

    return parse(current_app.config["AUTH_RATE_LIMIT"]), request.remote_addr or "-"


def caller_is_staff() -> bool:
    """Whether the request's caller is logged in with at least the staff role."""
    from flask import has_request_context

    return (has_request_context() and current_user.is_authenticated
            and current_user.has_role("staff"))


def token_scope() -> str | None:
    """The scope of the Bearer token that authenticated this request; None for a
    password (Basic), a session, or nobody: those have the user's full rights."""
    return g.get("token_scope")


def require(role: str | None = None, scope: str = tokens.READ):
    """Decorate an API view: a logged-in caller (401), with at least ``role`` (403),
    and, with a Bearer token, one of at least ``scope`` (403, ``insufficient_scope``).

    A request whose method is not safe (anything but GET, HEAD, OPTIONS) always needs
    the write scope, whatever ``scope`` says; ``scope="write"`` on such an operation
    documents it (the OpenAPI document's ``x-token-scope`` and its description).
    """
    if role is not None and role not in ROLES:
        raise ValueError(role)
    if scope not in tokens.SCOPES:
        raise ValueError(scope)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                raise_unauthorized()
            if role is not None and not current_user.has_role(role):
                abort(403, "Your role may not do this.")
            # The one rule for token scopes: a token that may only read uses the safe
            # methods only, whichever operation forgets to say it writes.
            needed = scope if request.method in SAFE_METHODS else tokens.WRITE
            if not tokens.covers(token_scope(), needed):
                raise_insufficient_scope(needed)
            return view(*args, **kwargs)
        return _document_scope(wrapped, scope)
    return decorator


def _document_scope(view, scope: str):
    """Say in the OpenAPI document which scope the operation needs: its
    ``x-token-scope``, and a sentence of its description (from the docstring)."""
    if scope != tokens.READ:
        view.__doc__ = (f"{inspect.cleandoc(view.__doc__ or '')}\n\n"
                        f"A Bearer token needs the {scope} scope for this (403 for a "
                        f"token of a lesser scope).")
    return Blueprint.doc(**{"x-token-scope": scope})(view)


def raise_insufficient_scope(needed: str):
    """Abort with 403 and RFC 6750's ``insufficient_scope`` challenge."""
    from flask import make_response

    from mypack.errors import error_response

    response = make_response(error_response(Forbidden(
        f"This token's scope is {token_scope()}; this operation needs {needed}.")))
    response.headers["WWW-Authenticate"] = (
        f'Bearer realm="mypack", error="insufficient_scope", scope="{needed}"')
    abort(response)


def raise_unauthorized():
    """Abort with 401 and the WWW-Authenticate challenge."""
    from flask import make_response

    from mypack.errors import error_response

    response = make_response(error_response(Unauthorized(
        "Authenticate with HTTP Basic (email, password) or a Bearer token.")))
    response.headers["WWW-Authenticate"] = CHALLENGE
    abort(response)
