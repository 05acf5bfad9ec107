"""Login sessions: started fresh, ended with their remember cookie, timed out when idle.

Flask-Login keeps the login id (``<user id>:<session token>``, ``User.get_id``) in
the session and, with "remember me", in a remember cookie signed with the app's key.
Only Flask-Login's public API is used here: login_user, logout_user, current_user
and its cookie decoding. ``HeaderAuthSessions`` is the app's session interface.
"""

from __future__ import annotations

import time

from flask import current_app, flash, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import COOKIE_NAME, current_user, decode_cookie, login_user, logout_user

from mypack.auth.credentials import authenticated_by_header

#: How often the idle timer in the session is refreshed (each write resends the cookie).
IDLE_RESOLUTION = 60
#: Requests that neither count as activity nor end a session.
UNTIMED_ENDPOINTS = frozenset({"static", "health.healthz", "health.readyz"})


def start_session(user, remember: bool) -> None:
    """Log ``user`` in with a fresh session (and a new remember cookie if ``remember``).

    Whatever was in the session before (a planted session's data, say) is gone, and
    the session cookie's value changes.
    """
    session.clear()
    login_user(user, remember=remember)


def end_session() -> None:
    """Log out in this browser: the session emptied, the remember cookie deleted.

    In this order: logout_user() has the remember cookie deleted by Flask-Login's
    after-request hook through a mark it leaves in the session, which clearing the
    session afterwards would wipe out, leaving the cookie in the browser.
    """
    session.clear()
    logout_user()


def is_remembered() -> bool:
    """Whether the request carries a valid remember cookie of the logged-in user.

    Valid means signed with the app's key and holding the current login id: the
    same user with the session token they have now. A cookie of that name that is
    garbage, forged, another user's, or revoked by a logout or a password change
    (the token rotated) does not count.
    """
    cookie = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME))
    if not cookie or not current_user.is_authenticated:
        return False
    # decode_cookie checks the signature (constant time) and returns None when it
    # is wrong; the login id it vouches for need not be compared in constant time.
    return decode_cookie(cookie) == current_user.get_id()


def end_idle_session() -> None:
    """Log out a session unused for SESSION_IDLE_TIMEOUT seconds, unless remembered.

    A remembered login skips the timeout because its remember cookie would log the
    user in again anyway; so only a remember cookie that would do so (is_remembered)
    counts, never the mere presence of a cookie with that name.
    """
    timeout = current_app.config["SESSION_IDLE_TIMEOUT"]
    if not timeout or request.endpoint in UNTIMED_ENDPOINTS:
        return
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return  # no session, so no login to expire (and no user to load)
    if not current_user.is_authenticated or is_remembered():
        return
    now = int(time.time())
    last_seen = session.get("last_seen", now)
    if now - last_seen > timeout:
        end_session()  # an invalid remember cookie goes too
        flash("Your session expired; please log in again.", "info")
        return
    if now - last_seen >= IDLE_RESOLUTION or "last_seen" not in session:
        session["last_seen"] = now


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
        if authenticated_by_header():
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app, session, response) -> None:
        if not (session or session.modified or session.accessed):
            return None  # what Flask would do for it, without its cookie settings
        if authenticated_by_header():
            return None
        return super().save_session(app, session, response)
