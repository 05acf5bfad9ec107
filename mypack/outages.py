"""Optional shared stores that may be down: the menu cache and the rate-limit counters
on Redis.

Neither is needed to answer a request: the menu can be read from the database, and
limits can be counted per process (the lock-out in the database holds either way).
So an outage must cost neither a 500 nor a traceback per request. While a store is
down its callers skip it for ``retry_seconds`` at a time, instead of waiting for a
connection on every request; one WARNING says it went down and one INFO that it
answers again.
"""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)


class Outage:
    """What one process knows about a store's health: ``available()`` before a call,
    ``failed(error)`` or ``succeeded()`` after it."""

    def __init__(self, store: str, meanwhile: str, retry_seconds: float = 10) -> None:
        #: Named in the log: "the menu cache (Redis)", and what is done without it.
        self.store, self.meanwhile = store, meanwhile
        self.retry_seconds = retry_seconds
        self._failed_at: float | None = None  # monotonic time of the last failure
        self._lock = threading.Lock()

    def available(self) -> bool:
        """Whether to call the store now: it is up, or it is time to try it again."""
        failed_at = self._failed_at
        return failed_at is None or time.monotonic() - failed_at >= self.retry_seconds

    def failed(self, error: BaseException) -> None:
        with self._lock:
            first = self._failed_at is None
            self._failed_at = time.monotonic()
        if first:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            logger.warning("%s is unavailable (%s: %s); %s, trying it again every %g s",
                           self.store, type(error).__name__, reason, self.meanwhile,
                           self.retry_seconds)

    def succeeded(self) -> None:
        if self._failed_at is None:
            return
        with self._lock:
            self._failed_at = None
        logger.info("%s answers again", self.store)
