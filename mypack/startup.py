"""The WSGI application of a deployment, as start.wsgi and gunicorn load it.

A server cannot be told "no application": if mypack cannot start (missing secret,
bad setting, unwritable log folder), the reason goes to stderr, which is the
Apache error log under mod_wsgi and the journal under gunicorn with systemd, as one
line, and every request gets a plain 503 until the operator fixes it and reloads
(touch start.wsgi, or HUP gunicorn). Because start.wsgi itself loaded fine, mod_wsgi
notices the touch and restarts the daemon; a script that failed to import would
not be reloaded by a touch.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from pathlib import Path

from mypack.exceptions import ConfigError

#: A deployment that chose no configuration runs production, never development.
DEFAULT_CONFIG = "production"


def make_application(instance_path: str | os.PathLike | None = None):
    """Build the app for a server: the instance folder's configuration, else a 503 stand-in.

    The configuration comes from ``MYPACK_CONFIG`` (gunicorn under systemd can set it)
    or the instance config's ``CONFIG``, else production. Apache ``SetEnv`` never
    reaches here, so a mod_wsgi deployment chooses in ``<instance>/config.py``.
    """
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
        return application
    except ConfigError as exc:
        reason = f"mypack cannot start: {exc}"
    except Exception as exc:  # anything else still must not leave the server without an app
        traceback.print_exc(file=sys.stderr)
        reason = f"mypack cannot start: {type(exc).__name__}: {exc}"
    print(reason, file=sys.stderr, flush=True)
    return Unavailable(reason)


class Unavailable:
    """A WSGI app that answers 503 to everything; the reason stays in the server log."""

    BODY = b"Service unavailable: the application could not start. See the server log.\n"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __call__(self, environ, start_response):
        start_response("503 Service Unavailable", [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(self.BODY))),
            ("Retry-After", "30"),
            ("Cache-Control", "no-store"),
        ])
        return [self.BODY]


def deployment_instance(script: str | os.PathLike) -> Path:
    """The instance folder beside a start.wsgi script."""
    # Not resolve(): a start.wsgi symlinked from elsewhere still means this folder.
    return Path(os.path.abspath(script)).parent / "instance"
