"""What mypack needs from its libraries that they keep private, in one place.

Everything else uses the libraries' public API. Each seam here names the release it
was written against and why no public way exists; tests/test_libraries.py fails
loudly when a release renames or drops what a seam leans on, instead of mypack
quietly losing the behaviour (a check skipped on every request, error answers in
another shape, an audit line without its actor).
"""

from __future__ import annotations

from typing import Any, cast

from flask import Flask, g
from flask.globals import request_ctx
from flask_smorest import Api
from werkzeug.routing import MapAdapter


def drop_limiter_request_check(app: Flask, limiter) -> bool:
    """Remove Flask-Limiter's check that runs before every request; whether it was there.

    Flask-Limiter 4 registers ``Limiter._check_request_limit`` as a before-request
    hook (when enabled) and offers no switch to leave it out; mypack's limits are on
    the views they guard, which check them themselves (mypack.auth.setup).
    """
    hook = limiter._check_request_limit
    hooks = app.before_request_funcs.get(None, [])
    if hook in hooks:
        hooks.remove(hook)
        return True
    return False


def loaded_user():
    """The user Flask-Login has already loaded for this request, or None.

    ``current_user`` would load one (and loading by token or Basic credentials
    records audit events of its own); Flask-Login 0.6 keeps a loaded user in
    ``g._login_user`` and has no public way to ask whether it did.
    """
    return g.get("_login_user")


def bind_url_adapter(bind) -> None:
    """Give the request a URL adapter when Flask made none (a Host it refused).

    ``bind`` makes the :class:`~werkzeug.routing.MapAdapter`. Flask 3 keeps the
    adapter on the request context, which has no public setter.
    """
    context = cast(Any, request_ctx)._get_current_object()
    if context.url_adapter is None:
        adapter: MapAdapter = bind()
        context.url_adapter = adapter


class ApiWithoutErrorHandlers(Api):
    """flask-smorest's Api without the error handlers it registers on the app.

    flask-smorest 0.47 registers its own handler for every HTTPException (its JSON
    shape, on every path, pages included) from ``Api._register_error_handlers`` in
    ``init_app``, with no setting to leave them out; mypack answers errors in one
    place (mypack.errors).
    """

    def _register_error_handlers(self) -> None:
        pass
