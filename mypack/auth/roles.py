"""The one role gate of pages, API and console: who may do what.

Nobody logged in gets 401 with the WWW-Authenticate challenge when the request wants
JSON, else the login page (and back); a logged-in caller without the role gets 403;
a Bearer token of a lesser scope gets 403 with RFC 6750's ``insufficient_scope``.
Whichever door a request came in by (a page, the API, the console), the same rules
and the same answers, in JSON or HTML as the request wants (mypack.errors).
"""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, has_request_context, make_response, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Forbidden, Unauthorized

from mypack.auth import tokens
from mypack.auth.credentials import CHALLENGE, token_scope
from mypack.auth.models import ROLES
from mypack.errors import error_response, wants_json

#: Methods a token of the read scope may use: those that change nothing.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOGIN_MESSAGE = "Please log in to see this page."


def role_required(role: str | None = None, scope: str = tokens.READ):
    """Decorate a view: a logged-in caller, with at least ``role`` if given, and with a
    Bearer token, one of at least ``scope`` (see :func:`check`)."""
    _known(role, scope)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            check(role, scope)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def check(role: str | None = None, scope: str = tokens.READ) -> None:
    """Let the request through, or abort with the answer it gets.

    A request whose method is not safe (anything but GET, HEAD, OPTIONS) always needs
    the write scope, whatever ``scope`` says: the one rule for token scopes, so no
    view that writes can forget it.
    """
    _known(role, scope)
    if not current_user.is_authenticated:
        abort(unauthorized())
    if role is not None and not current_user.has_role(role):
        abort(403, "Your role may not do this.")
    needed = scope if request.method in SAFE_METHODS else tokens.WRITE
    if not tokens.covers(token_scope(), needed):
        response = make_response(error_response(Forbidden(
            f"This token's scope is {token_scope()}; this operation needs {needed}.")))
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="mypack", error="insufficient_scope", scope="{needed}"')
        abort(response)


def unauthorized():
    """The answer to a request that needs a login and has none (also Flask-Login's
    unauthorized handler): 401 with the challenge for JSON, else the login page, and
    back here after it."""
    if wants_json():
        response = make_response(error_response(Unauthorized(
            "Authenticate with HTTP Basic (email, password) or a Bearer token.")))
        response.headers["WWW-Authenticate"] = CHALLENGE
        return response
    flash(LOGIN_MESSAGE, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def caller_is_staff() -> bool:
    """Whether the request's caller is logged in with at least the staff role."""
    return (has_request_context() and current_user.is_authenticated
            and current_user.has_role("staff"))


def _known(role: str | None, scope: str) -> None:
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if scope not in tokens.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
