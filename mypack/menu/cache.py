"""Public menu answers from a cache: what anybody may read, the same for everybody.

An anonymous ``GET /api/v1/items`` (kiosks, the shop window, apps polling the menu) is
answered from Flask-Caching for ``CACHE_DEFAULT_TIMEOUT`` seconds, keyed by its path
and query string: no database round trip, no serialisation. How fresh it is:

- A change made through ``menu.service`` empties the cache of the process that made
  it at once. The other processes have their own cache (``CACHE_TYPE =
  "SimpleCache"``) and show the change within ``CACHE_DEFAULT_TIMEOUT`` seconds; a
  shared store (``"RedisCache"``) empties it for every process.
- A request with credentials (a login session, a token, Basic auth) is never
  answered from the cache, so staff always read their own writes.
- Only 200 answers are kept; a cache that fails is logged and bypassed.
"""

from __future__ import annotations

import logging

from flask import Response, request
from flask_login import current_user

from mypack.extensions import cache

logger = logging.getLogger(__name__)


def _has_credentials() -> bool:
    return request.authorization is not None or current_user.is_authenticated


def _is_complete_answer(response) -> bool:
    return isinstance(response, Response) and response.status_code == 200


def public_answer(view):
    """Decorate a view (outside flask-smorest's decorators, inside the route) whose
    answer to anonymous clients depends only on its URL and the menu's data."""
    return cache.cached(query_string=True, unless=_has_credentials,
                        response_filter=_is_complete_answer)(view)


def menu_changed() -> None:
    """Forget the cached answers: call after a change to the menu is committed."""
    try:
        cache.clear()
    except Exception:  # a cache outage must not fail a change that is committed
        logger.exception("could not empty the menu cache; answers may be stale for "
                         "up to CACHE_DEFAULT_TIMEOUT seconds")
