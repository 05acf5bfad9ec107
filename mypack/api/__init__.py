"""The JSON REST API under /api/v1, built with flask-smorest: marshmallow schemas
validate requests and generate the OpenAPI document (/api/v1/openapi.json).

Bodies are read with one strict JSON loader (mypack.bodies, before anything
else looks at the request); each field then accepts only what its column stores
(mypack.api.fields), so the database never refuses a value a request sent.

Authentication: HTTP Basic (email and password, under the same lockout and rate
limits as the login page) or ``Authorization: Bearer <token>``; a browser's session
cookie works too, but then writes need the ``X-CSRFToken`` header. Every error has
the one shape of mypack.errors: ``{"error": {"status", "code", "message", "fields"}}``.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from werkzeug.exceptions import UnsupportedMediaType

from mypack.api import resources
from mypack.api.document import api
from mypack.auth.credentials import authenticated_by_header
from mypack.extensions import csrf
from mypack.paths import API_PREFIX, is_api_path
from mypack.version import __version__

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def init_app(app: Flask) -> None:
    """Document and mount the API's resources."""
    app.config.setdefault("API_TITLE", "mypack café API")
    app.config.setdefault("API_VERSION", __version__)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.spec.components.security_scheme("basic", {"type": "http", "scheme": "basic"})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in resources.BLUEPRINTS:
        # CSRF is decided per request below: it protects cookie logins only.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.before_request(_guard_api_requests)


def _guard_api_requests():
    """JSON bodies only (415); a write by a cookie login needs the CSRF header.

    The check follows how the caller was authenticated, not which headers came along:
    a browser session with an extra Authorization header is still a cookie login.
    """
    if not is_api_path(request.path) or request.method not in WRITE_METHODS:
        return None
    if request.content_length and request.mimetype != "application/json":
        raise UnsupportedMediaType("Send JSON (Content-Type: application/json).")
    if current_user.is_authenticated and not authenticated_by_header():
        csrf.protect()
    return None
