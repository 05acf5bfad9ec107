"""Health endpoints for load balancers and orchestrators; neither needs a login.

``/healthz`` says the process is up and never touches the database, so a database
outage does not get healthy processes restarted. ``/readyz`` says whether this
process can serve real traffic: the database answers within READYZ_TIMEOUT seconds
and its schema is at the migration head.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mypack.database import describe_error, migration_problem
from mypack.extensions import db
from mypack.version import __version__

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up: 200 with the version."""
    return jsonify(status="ok", version=__version__)


@bp.get("/readyz")
def readyz():
    """The database answers and is at the migration head: 200, else 503 with the reason."""
    timeout = float(current_app.config["READYZ_TIMEOUT"])
    probe = current_app.extensions["mypack.readiness"]
    try:
        problem = probe.result(timeout)
    except FutureTimeout:
        problem = f"database did not answer within {timeout:g} s"
    if problem:
        return jsonify(status="unavailable", version=__version__, reason=problem), 503
    return jsonify(status="ready", version=__version__)


class ReadinessProbe:
    """Checks the database in a thread so a hanging server cannot hang the caller.

    One check runs at a time per app: while the database hangs, repeated probes
    share the check in flight instead of piling up threads.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._future: Future | None = None

    def result(self, timeout: float) -> str | None:
        """The problem found (None when ready); FutureTimeout if it takes too long."""
        with self._lock:
            if self._future is None or self._future.done():
                self._future = Future()
                threading.Thread(target=self._run, args=(self._future,), daemon=True,
                                 name="mypack-readyz").start()
            future = self._future
        return future.result(timeout)

    def _run(self, future: Future) -> None:
        with self.app.app_context():
            try:
                with db.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                    future.set_result(migration_problem(connection))
            except SQLAlchemyError as exc:
                future.set_result(f"database unavailable: {describe_error(exc)}")
            except Exception as exc:  # the caller must get an answer, never hang
                future.set_exception(exc)


@bp.record_once
def _attach_probe(state) -> None:
    state.app.extensions["mypack.readiness"] = ReadinessProbe(state.app)
