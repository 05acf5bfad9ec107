"""Public menu answers from a cache: what anybody may read, the same for everybody.

An anonymous ``GET /api/v1/items`` (kiosks, the shop window, apps polling the menu) is
answered from the Flask-Caching store for ``CACHE_DEFAULT_TIMEOUT`` seconds, keyed by
its path and query string: no database round trip, no serialisation. How fresh it is:

- A change made through ``menu.service`` empties the cache of the process that made
  it at once. The other processes have their own cache (``CACHE_TYPE =
  "SimpleCache"``) and show the change within ``CACHE_DEFAULT_TIMEOUT`` seconds; a
  shared store (``"RedisCache"``) empties it for every process.
- A request that may carry a login (an Authorization header, a session or remember
  cookie) is never answered from the cache, nor is its answer kept: staff always read
  their own writes, and an answer with fields for staff only
  (mypack.api.schemas.staff_only) is neither kept for nor served to anybody else.
- Only 200 answers are kept; a cache that fails is bypassed (mypack.outages).

The store is Flask-Caching's; the decorator is this module's own. Flask-Caching's
``cached`` inspects the view's signature twice per request and pickles the whole
response object, which made a cached answer cost more than a ``/healthz``; here a
hit is one store lookup and the answer's body and headers.
"""

from __future__ import annotations

import functools
import hashlib

from flask import current_app, request
from flask_login.config import COOKIE_NAME

from mypack.extensions import cache
from mypack.outages import Outage

KEY_PREFIX = "menu:"
#: Where each app keeps what it knows of its store's health (mypack.outages).
OUTAGE = "mypack.menu_cache_outage"


def _outage() -> Outage:
    """While the store (Redis) is down, reads skip it: one WARNING per outage, not a
    traceback per request, and no wait for a connection on each."""
    extensions = current_app.extensions
    if OUTAGE not in extensions:
        extensions[OUTAGE] = Outage("the menu cache", "answering from the database")
    return extensions[OUTAGE]


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
        outage = _outage()
        if may_have_login() or not outage.available():
            return view(*args, **kwargs)
        key = _key()
        try:
            kept = cache.get(key)
        except Exception as error:  # a cache outage must not fail the read: answer fresh
            outage.failed(error)
            return view(*args, **kwargs)
        outage.succeeded()
        if kept is not None:
            body, headers = kept
            return current_app.response_class(body, headers=headers)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.is_streamed:
            try:
                cache.set(key, (response.get_data(), list(response.headers)))
            except Exception as error:
                outage.failed(error)
        return response

    return answer


def menu_changed() -> None:
    """Forget the cached answers: call after a change to the menu is committed."""
    try:
        cache.clear()
    except Exception as error:  # a cache outage must not fail a change that is committed
        # Other processes may keep answers for up to CACHE_DEFAULT_TIMEOUT seconds; this
        # one skips the cache until it answers again.
        _outage().failed(error)
