"""Accounts: registration, login with lockout and rate limits, sessions, roles.

``init_app`` wires Flask-Login (sessions and remember cookies), Flask-WTF (CSRF on
every form) and Flask-Limiter (per-client limits) to the app.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from mypack.auth.sessions import end_idle_session
from mypack.errors import error_response, wants_json
from mypack.extensions import csrf, db, limiter, login_manager

bp = Blueprint("auth", __name__, url_prefix="/auth")


def init_app(app: Flask) -> None:
    """Sessions, CSRF and rate limits for the whole app (the pages are ``bp``)."""
    # Templates get Flask-Login's lazy proxy, not the user its own context processor
    # would load for every page: a page that never looks (a server error's page, while
    # the database is down) loads no one.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    app.session_interface = HeaderAuthSessions()
    csrf.init_app(app)
    limiter.init_app(app)
    _check_limits_in_views_only(app)
    app.before_request(end_idle_session)


def _check_limits_in_views_only(app: Flask) -> None:
    """Drop Flask-Limiter's check before every request unless a limit covers every view.

    mypack's limits are decorators on the views they guard (login, registration), and
    a decorated view checks its own limits when it runs. The per-request check is
    only needed for app-wide limits (RATELIMIT_DEFAULT, RATELIMIT_APPLICATION in the
    instance config); without them it finds nothing to check, and costs every request
    about a fifth of what a /healthz costs in all (see README, Performance).
    """
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:  # absent when RATELIMIT_ENABLED is off
        hooks.remove(limiter._check_request_limit)


@login_manager.user_loader
def load_user(login_id: str):
    """The user of a session or remember cookie, if its token is still the user's."""
    from mypack.auth.models import User

    user_id, _, token = login_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


@login_manager.request_loader
def load_user_from_request(request):
    """The API's callers: an Authorization header (HTTP Basic or a Bearer token)."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    from mypack.api.auth import user_from_authorization

    g.authenticated_by_header = True
    return user_from_authorization(header)


class HeaderAuthSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with two changes.

    - No session cookie for requests authenticated by a header: an API client that
      sent its credentials must not receive a login cookie it never asked for.
    - The signing serializer is built once per key set, not on every request, and a
      request without a session cookie (API clients, probes, first visits) gets an
      empty session without one. Flask builds it (and test-serializes ``{}`` with
      it) on every request: about 8 µs of the 150 a /healthz took in process.
    """

    def __init__(self) -> None:
        #: (the keys it was built with, the serializer), replaced as one value.
        self._signing: tuple = ((), None)

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        # Keyed by the keys themselves, so a changed SECRET_KEY or SECRET_KEY_FALLBACKS
        # takes effect at once. Two threads may both build it the first time; either
        # result is the same serializer.
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built_for, serializer = self._signing
        if keys != built_for:
            serializer = super().get_signing_serializer(app)
            self._signing = (keys, serializer)
        return serializer

    def should_set_cookie(self, app, session) -> bool:
        if g.get("authenticated_by_header"):
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app, session, response) -> None:
        if not (session or session.modified or session.accessed):
            return None  # what Flask would do for it, without its cookie settings
        if g.get("authenticated_by_header"):
            return None
        return super().save_session(app, session, response)


@login_manager.unauthorized_handler
def _unauthorized():
    """JSON clients get 401; browsers go to the login page and come back."""
    from werkzeug.exceptions import Unauthorized

    from mypack.api.auth import CHALLENGE

    if wants_json():
        response = error_response(Unauthorized("Log in to use this resource."))
        response.headers["WWW-Authenticate"] = CHALLENGE
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


from mypack.auth import token_views  # noqa: E402,F401,I001  (API tokens on the profile)
from mypack.auth import views  # noqa: E402,F401  (routes register on bp)
