"""Who is calling the API: HTTP Basic, a Bearer token, or a browser session."""

from __future__ import annotations

import base64
import binascii
from functools import wraps

from flask import abort
from flask_login import current_user
from limits import parse
from werkzeug.exceptions import TooManyRequests, Unauthorized

from mypack.auth import service, tokens
from mypack.auth.models import ROLES
from mypack.extensions import limiter

#: What a 401 offers the client.
CHALLENGE = 'Basic realm="mypack", charset="UTF-8", Bearer realm="mypack"'


def user_from_authorization(header: str):
    """The user an Authorization header names, or None (Flask-Login's request loader).

    :raise 429: Basic credentials for a locked email (the lockout of the login page).
    """
    scheme, _, credentials = header.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer":
        return tokens.user_for(credentials)
    if scheme == "basic":
        try:
            email, _, password = base64.b64decode(credentials, validate=True).decode(
                "utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        limit, client = _basic_failure_limit()
        if not limiter.limiter.test(limit, "api-basic-failures", client):
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
            limiter.limiter.hit(limit, "api-basic-failures", client)
        return user
    return None


def _basic_failure_limit():
    # The login page's per-client limit (AUTH_RATE_LIMIT), counted here on failed
    # Basic attempts only: an API client that sends its right password on every
    # request must not be throttled for it.
    from flask import current_app, request

    return parse(current_app.config["AUTH_RATE_LIMIT"]), request.remote_addr or "-"


def require(role: str | None = None):
    """Decorate an API view: a logged-in caller (401), with at least ``role`` (403)."""
    if role is not None and role not in ROLES:
        raise ValueError(role)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                raise_unauthorized()
            if role is not None and not current_user.has_role(role):
                abort(403, "Your role may not do this.")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def raise_unauthorized():
    """Abort with 401 and the WWW-Authenticate challenge."""
    from flask import make_response

    from mypack.errors import error_response

    response = make_response(error_response(Unauthorized(
        "Authenticate with HTTP Basic (email, password) or a Bearer token.")))
    response.headers["WWW-Authenticate"] = CHALLENGE
    abort(response)
