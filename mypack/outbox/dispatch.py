"""Handing committed outbox rows to the job system, without making a request wait.

A listener on the database session notes the outbox rows each flush writes, and on
commit passes their ids to the app's :class:`Dispatcher`: a queue and one thread per
process, which publishes a delivery task for each (or, where jobs run in-process,
runs it). A request's only cost is the row's INSERT; the process's, a publish per
row. While the broker is down the thread skips it (one WARNING per outage) and the
rows wait for the periodic sweep. With ``OUTBOX_HAND_OVER = "sweep"`` no web process
hands anything over: the sweep does it all.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from mypack.jobs import task
from mypack.outages import Outage
from mypack.outbox import service
from mypack.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

DELIVER = "mypack.outbox.deliver"
#: How long a process that is exiting waits for the rows it still holds.
EXIT_WAIT_SECONDS = 5


class Dispatcher:
    """The app's queue of committed outbox ids and the thread that hands them over."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.broker = Outage("the job broker (CELERY_BROKER_URL)",
                             "mail waits in the outbox for the sweep")
        self._queue: queue.Queue[list[int]] = queue.Queue()
        self._lock = threading.Lock()
        self._pid: int | None = None  # the process whose thread runs; a fork starts anew

    def submit(self, message_ids: list[int]) -> None:
        self._start()
        self._queue.put(message_ids)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every id submitted so far was handed over (for a process about to
        exit, and for tests); False if ``timeout`` ran out first."""
        done = threading.Event()

        def join():
            self._queue.join()
            done.set()
        threading.Thread(target=join, daemon=True).start()
        return done.wait(timeout)

    def _start(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.Queue()
            threading.Thread(target=self._run, name="mypack-outbox", daemon=True).start()
            self._pid = os.getpid()
            atexit.register(self.wait, EXIT_WAIT_SECONDS)

    def _run(self) -> None:
        while True:
            # Everything committed meanwhile goes in one hand-over: under load, one
            # UPDATE marks many rows, instead of one per order.
            batches = [self._queue.get()]
            while True:
                try:
                    batches.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            message_ids = [message_id for batch in batches for message_id in batch]
            try:
                with self.app.app_context():
                    hand_over(message_ids, self.broker)
            except Exception:  # the thread must outlive any one batch
                logger.exception("outbox: handing over messages %s failed", message_ids)
            finally:
                for _ in batches:
                    self._queue.task_done()


def hand_over(message_ids: list[int], broker: Outage) -> None:
    """Publish a delivery task per row (run it here, where jobs run in-process), and
    note the rows as handed over."""
    deliver = task(DELIVER)
    if current_app.config["CELERY_TASK_ALWAYS_EAGER"]:
        for message_id in message_ids:
            deliver.apply(args=[message_id])
        return
    if not broker.available():
        return
    try:
        for message_id in message_ids:
            # No retries of its own: a broker that does not answer is an outage the
            # sweep covers, not something to wait for.
            deliver.apply_async(args=[message_id], retry=False)
    except Exception as error:  # kombu's and the socket's many ways to fail
        broker.failed(error)
        return
    broker.succeeded()
    service.mark_dispatched(message_ids)


def init_app(app: Flask) -> None:
    app.extensions["outbox"] = Dispatcher(app)


@event.listens_for(Session, "after_flush")
def _note_new_rows(session: Session, flush_context) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, OutboxMessage)]
    if new:
        session.info.setdefault("outbox", []).extend(new)


@event.listens_for(Session, "after_commit")
def _submit_committed_rows(session: Session) -> None:
    message_ids = session.info.pop("outbox", None)
    if message_ids and hands_over_at_commit(current_app.config):
        current_app.extensions["outbox"].submit(message_ids)


def hands_over_at_commit(config) -> bool:
    """Whether committed rows are handed over by their own process (OUTBOX_HAND_OVER
    "commit", or jobs run in-process), not left to the sweep."""
    return config["OUTBOX_HAND_OVER"] != "sweep" or config["CELERY_TASK_ALWAYS_EAGER"]


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_rows(session: Session) -> None:
    session.info.pop("outbox", None)
