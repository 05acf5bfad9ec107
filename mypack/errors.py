"""Error responses: HTML pages for browsers, one JSON shape for API clients.

The JSON shape is ``{"error": {"status": 404, "code": "not_found", "message": ...,
"fields": {}}}``. A production 500 shows neither a traceback nor the exception text.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug import exceptions as http
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from mypack import exceptions as domain
from mypack.libraries import bind_url_adapter
from mypack.paths import is_api_path

#: Seconds a client is asked to wait when the database is down or too slow.
DATABASE_RETRY_AFTER = 5


def wants_json() -> bool:
    """Whether the client asked for JSON (an API path, or JSON preferred over HTML)."""
    if is_api_path(request.path):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and (
        request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(error: HTTPException, fields: dict | None = None, code: str | None = None):
    """Render an HTTP error as JSON or as a page in the site's layout; ``code`` is the
    JSON's, when not the status's name."""
    status = error.code or 500
    message = error.description or ""
    if wants_json():
        code = code or (error.name or "error").lower().replace(" ", "_").replace("'", "")
        body = {"status": status, "code": code, "message": message, "fields": fields or {}}
        response = jsonify(error=body)
    else:
        bind_urls_for_refused_host()
        # A server error's page names no account: loading the user may be what failed
        # (the database is down), and would fail again here.
        response = current_app.make_response(
            render_template("errors/error.html", error=error, status=status,
                            account_nav=status < 500)
        )
    response.status_code = status
    # Keep headers the exception carries (Allow on 405, Retry-After on 429 ...).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def bind_urls_for_refused_host() -> None:
    """Let the error page build its links when Flask refused the request's Host.

    Flask makes the request's URL adapter from the Host header; for a host outside
    TRUSTED_HOSTS it makes none, and ``url_for`` in the page's layout would fail,
    turning the 400 into a bare 500. The page's links are paths, so the adapter is
    bound to a trusted name (never the refused one); the host only shows in
    ``_external`` URLs, which error pages do not build.
    """
    hosts = current_app.config.get("TRUSTED_HOSTS") or ["localhost"]
    bind_url_adapter(lambda: current_app.url_map.bind(
        current_app.config.get("SERVER_NAME") or str(hosts[0]).lstrip("."),
        script_name=request.script_root or "/", url_scheme=request.scheme))


def handle_http_error(error: HTTPException):
    return error_response(error, fields=_validation_messages(error))


def with_fields(error: HTTPException, fields: dict) -> HTTPException:
    """``error`` with per-field messages for its answer, kept where webargs keeps its
    own (``error.data``), so that both are read in one way."""
    error.data = {"messages": {"json": fields}}  # type: ignore[attr-defined]
    return error


def _validation_messages(error: HTTPException) -> dict | None:
    # webargs (the API's request parsing) puts its messages in error.data, keyed by
    # where they were found: {"json": {"price": ["Must be ..."]}}. The location is
    # left out; each field keeps its messages.
    messages = (getattr(error, "data", None) or {}).get("messages")
    if not isinstance(messages, dict):
        return None
    merged: dict = {}
    for found in messages.values():
        if isinstance(found, dict):
            merged.update(found)
    return merged or None


def handle_unexpected_error(error: Exception):
    # Flask has already logged the traceback; the client gets a generic body, and the
    # session is rolled back so the next request on this thread starts clean.
    from mypack.database import release
    from mypack.extensions import db

    release(db.session)
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, HTTPException):
        return error_response(original)
    return error_response(InternalServerError())


def handle_database_unavailable(error: OperationalError):
    # Connection refused, server gone, statement timeout: the database, not the
    # request, is at fault, so the client gets a quick 503 it may retry.
    from mypack.database import describe_error, release
    from mypack.extensions import db

    current_app.logger.error("database unavailable: %s", describe_error(error))
    release(db.session)
    return error_response(ServiceUnavailable(
        "The service is briefly unavailable. Please try again shortly.",
        retry_after=DATABASE_RETRY_AFTER))


#: The answer to each kind of domain error (mypack.exceptions); the first of an
#: error's classes found here decides.
DOMAIN_ANSWERS: dict[type[domain.DomainError], type[HTTPException]] = {
    domain.NotFound: http.NotFound,
    domain.Invalid: http.UnprocessableEntity,
    domain.Refused: http.Forbidden,
    domain.Conflict: http.Conflict,
    domain.Locked: http.TooManyRequests,
    domain.DomainError: http.BadRequest,
}


def handle_domain_error(error: domain.DomainError):
    """A service's refusal: its status, its message, its fields; in JSON or HTML."""
    answer = next(DOMAIN_ANSWERS[kind] for kind in type(error).__mro__
                  if kind in DOMAIN_ANSWERS)
    if isinstance(error, domain.Locked):
        http_error: HTTPException = http.TooManyRequests(error.message,
                                                         retry_after=error.retry_after)
    else:
        http_error = answer(error.message)
    return error_response(http_error, fields=error.fields or None, code=error.code)


def init_app(app: Flask) -> None:
    """Register the handlers for every HTTP error, every domain error and unexpected
    exceptions."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(domain.DomainError, handle_domain_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
