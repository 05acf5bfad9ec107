"""Wiring accounts into the app: Flask-Login with mypack's loaders and role gate,
the session interface, CSRF on every form (Flask-WTF), per-client rate limits
(Flask-Limiter), and the preparation of the reset and confirmation mails (the
outbox's)."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from mypack.auth import confirmation, credentials, reset, roles
from mypack.auth.sessions import HeaderAuthSessions, end_idle_session
from mypack.extensions import csrf, limiter, login_manager
from mypack.libraries import drop_limiter_request_check
from mypack.outbox import kinds


def init_app(app: Flask) -> None:
    """Sessions, logins, CSRF and rate limits for the whole app (the pages are
    ``mypack.auth.views.bp``)."""
    # Templates get Flask-Login's lazy proxy, not the user its own context processor
    # would load for every page: a page that never looks (a server error's page, while
    # the database is down) loads no one.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    login_manager.login_view = "auth.login"
    login_manager.user_loader(credentials.load_user)
    login_manager.request_loader(credentials.load_user_from_request)
    login_manager.unauthorized_handler(roles.unauthorized)
    app.session_interface = HeaderAuthSessions()
    csrf.init_app(app)
    limiter.init_app(app)
    _check_limits_in_views_only(app)
    app.before_request(end_idle_session)
    # Reset and confirmation mails are decided when they are sent: only to an active
    # account, with a link minted then (mypack.auth.reset, mypack.auth.confirmation).
    kinds.register(app, reset.KIND, reset.prepare_mail)
    kinds.register(app, confirmation.KIND, confirmation.prepare_mail)


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
    drop_limiter_request_check(app, limiter)
