"""The WSGI application of a deployment, as start.wsgi and gunicorn load it.

A server cannot be told "no application": if mypack cannot start (missing secret,
bad setting, unwritable log folder), the reason goes to stderr, which is the
Apache error log under mod_wsgi and the journal under gunicorn with systemd, as one
line, and requests get a plain 503 meanwhile. The stand-in tries to start mypack
again every RETRY_SECONDS, so a cause that heals by itself (a log folder made
writable, a mount that came back) needs no reload, on Apache and gunicorn alike; a
reload (touch start.wsgi, or HUP gunicorn) still starts it at once. Because
start.wsgi itself loaded fine, mod_wsgi notices the touch and restarts the daemon; a
script that failed to import would not be reloaded by a touch.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from mypack.exceptions import ConfigError

#: A deployment that chose no configuration runs production, never development.
DEFAULT_CONFIG = "production"
#: Seconds between two attempts of a stand-in to start mypack.
RETRY_SECONDS = 5


def make_application(instance_path: str | os.PathLike | None = None):
    """Build the app for a server: the instance folder's configuration, else a 503
    stand-in that keeps trying.

    The configuration comes from ``MYPACK_CONFIG`` (gunicorn under systemd can set it)
    or the instance config's ``CONFIG``, else production. Apache ``SetEnv`` never
    reaches here, so a mod_wsgi deployment chooses in ``<instance>/config.py``.
    """
    def start():
        return _start(instance_path)

    application, reason = start()
    if application is not None:
        return application
    print(reason, file=sys.stderr, flush=True)
    return Unavailable(reason, start)


def _start(instance_path) -> tuple[object | None, str | None]:
    """(the app, None), or (None, why it cannot start, in one line)."""
    from mypack import create_app
    from mypack.config import configured_name
    from mypack.instance import resolve_instance_path

    try:
        path = resolve_instance_path(instance_path)
        application = create_app(configured_name(path) or DEFAULT_CONFIG, path)
        # What start-up built lives as long as the process: keep it out of the
        # garbage collector's full passes, which otherwise walk some 100,000 objects
        # (15 ms in one thread here) while every thread of the process waits.
        gc.freeze()
        return application, None
    except ConfigError as exc:
        return None, f"mypack cannot start: {exc}"
    except Exception as exc:  # anything else still must not leave the server without an app
        traceback.print_exc(file=sys.stderr)
        return None, f"mypack cannot start: {type(exc).__name__}: {exc}"


class Unavailable:
    """A WSGI app that answers 503 while mypack cannot start, and tries to start it
    again at most every ``interval`` seconds; once it starts, it serves every request.

    One thread tries at a time (about 0.3 s); the others answer 503 meanwhile. A
    reason is written to stderr when it changes, not at every try.
    """

    BODY = b"Service unavailable: the application could not start. See the server log.\n"

    def __init__(self, reason: str, start: Callable[[], tuple] | None = None,
                 interval: float = RETRY_SECONDS) -> None:
        self.reason = reason
        self._start = start
        self._interval = interval
        self._next_try = time.monotonic() + interval
        self._trying = threading.Lock()
        self._application = None

    def __call__(self, environ, start_response):
        application = self._application or self._try_to_start()
        if application is not None:
            return application(environ, start_response)
        start_response("503 Service Unavailable", [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(self.BODY))),
            ("Retry-After", str(round(self._interval))),
            ("Cache-Control", "no-store"),
        ])
        return [self.BODY]

    def _try_to_start(self):
        if (self._start is None or time.monotonic() < self._next_try
                or not self._trying.acquire(blocking=False)):
            return None
        try:
            if self._application is None:
                application, reason = self._start()
                self._next_try = time.monotonic() + self._interval
                if application is not None:
                    print("mypack started, after: " + self.reason, file=sys.stderr, flush=True)
                    self._application = application
                elif reason != self.reason:
                    print(reason, file=sys.stderr, flush=True)
                    self.reason = reason
        finally:
            self._trying.release()
        return self._application


def deployment_instance(script: str | os.PathLike) -> Path:
    """The instance folder beside a start.wsgi script."""
    # Not resolve(): a start.wsgi symlinked from elsewhere still means this folder.
    return Path(os.path.abspath(script)).parent / "instance"
