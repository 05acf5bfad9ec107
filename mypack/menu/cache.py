"""Public menu answers from a cache: what anybody may read, the same for everybody.

An anonymous ``GET /api/v1/items`` (kiosks, the shop window, apps polling the menu) is
answered from the Flask-Caching store for ``CACHE_DEFAULT_TIMEOUT`` seconds, keyed by
its path and query string: no database round trip, no serialisation. How fresh it is:

- A change made through ``menu.service`` empties the cache of the process that made
  it at once. The other processes have their own cache (``CACHE_TYPE =
  "SimpleCache"``) and show the change within ``CACHE_DEFAULT_TIMEOUT`` seconds; a
  shared store (``"RedisCache"``) empties it for every process.
- A request that may carry a login (an Authorization header, a session or remember
  cookie) is never answered from the cache, so staff always read their own writes.
- Only 200 answers are kept; a cache that fails is logged and bypassed.

The store is Flask-Caching's; the decorator is this module's own. Flask-Caching's
``cached`` inspects the view's signature twice per request and pickles the whole
response object, which made a cached answer cost more than a ``/healthz``; here a
hit is one store lookup and the answer's body and headers.
"""

from __future__ import annotations

import functools
import hashlib
import logging

from flask import current_app, request
from flask_login.config import COOKIE_NAME

from mypack.extensions import cache

logger = logging.getLogger(__name__)

KEY_PREFIX = "menu:"


def may_have_login() -> bool:
    """Whether the request carries anything that may log somebody in. Decided from
    the headers alone: an anonymous read loads no user."""
    config, cookies = current_app.config, request.cookies
    return ("Authorization" in request.headers
            or config["SESSION_COOKIE_NAME"] in cookies
            or config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in cookies)


def _key() -> str:
    # The query string is hashed: it is the client's, of any length.
    query = hashlib.sha256(request.query_string).hexdigest()
    return f"{KEY_PREFIX}{request.path}?{query}"


def public_answer(view):
    """Decorate a view (outside flask-smorest's decorators, inside the route) whose
    answer to anonymous clients depends only on its URL and the menu's data."""

    @functools.wraps(view)
    def answer(*args, **kwargs):
        if may_have_login():
            return view(*args, **kwargs)
        key = _key()
        try:
            kept = cache.get(key)
        except Exception:  # a cache outage must not fail the read: answer fresh
            logger.exception("menu cache unavailable; answering from the database")
            return view(*args, **kwargs)
        if kept is not None:
            body, headers = kept
            return current_app.response_class(body, headers=headers)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.is_streamed:
            try:
                cache.set(key, (response.get_data(), list(response.headers)))
            except Exception:
                logger.exception("could not keep a menu answer in the cache")
        return response

    return answer


def menu_changed() -> None:
    """Forget the cached answers: call after a change to the menu is committed."""
    try:
        cache.clear()
    except Exception:  # a cache outage must not fail a change that is committed
        logger.exception("could not empty the menu cache; answers may be stale for "
                         "up to CACHE_DEFAULT_TIMEOUT seconds")
