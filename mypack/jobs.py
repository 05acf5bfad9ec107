"""Background jobs: Celery, configured from the app's own settings.

Each Flask app gets a Celery app of its own (``app.extensions["celery"]``), built from
its ``CELERY_*`` settings (``CELERY_BROKER_URL`` is Celery's ``broker_url``, and so on),
whose tasks run inside that Flask app's context: the database session, the settings
and the log lines are the app's. Tasks are written once with :func:`celery.shared_task`
and bound to whichever Celery app runs them; code that hands a job over names the app
it means (:func:`task`), so two apps in one process (tests, the health daemon) never
run each other's jobs.

Development and testing run every job in-process at once (``CELERY_TASK_ALWAYS_EAGER``),
so they need no broker; production hands jobs to RabbitMQ or Redis and runs them in
``mypack worker`` processes (``mypack beat`` for the periodic ones).

The Celery app is built, and Celery imported, when a process first needs it: a web
process whose outbox is handed over by the sweep (``OUTBOX_HAND_OVER = "sweep"``)
never does, and is some 7 MB lighter for it (README, Performance).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from mypack.logs import job_id

if TYPE_CHECKING:
    from celery import Celery, Task

EXTENSION = "celery"
_building = threading.Lock()


def init_app(app: Flask) -> None:
    """Let :func:`celery_app` build the app's Celery app when it is first needed."""
    app.extensions[EXTENSION] = None


def celery_app(app: Flask | None = None) -> Celery:
    """The Celery app of ``app`` (the current app), built from its ``CELERY_*`` settings
    on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    celery = app.extensions.get(EXTENSION)
    if celery is None:
        with _building:
            celery = app.extensions.get(EXTENSION)
            if celery is None:
                celery = app.extensions[EXTENSION] = _build(app)
    return celery


def _build(app: Flask) -> Celery:
    from celery import Celery, Task

    class AppTask(Task):
        # Late acknowledgement (settings): a task is taken off the queue once it has
        # run, so one whose worker died mid-way runs again elsewhere; tasks are written
        # to be safe to run twice.
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            token = job_id.set(self.request.id or "-")
            try:
                with app.app_context():
                    return self.run(*args, **kwargs)
            finally:
                job_id.reset(token)

    celery = Celery(app.import_name, task_cls=AppTask)
    # CELERY_BROKER_URL -> broker_url: Celery's own names (its old capitalised ones
    # are deprecated, and some differ).
    celery.config_from_object({name.removeprefix("CELERY_").lower(): value
                               for name, value in app.config.items()
                               if name.startswith("CELERY_")})
    celery.conf.beat_schedule = schedule(app.config)
    # Import the task modules, so the worker knows every task by name.
    celery.conf.imports = TASK_MODULES
    _quiet_routine_sweeps()
    return celery


class _RoutineSweepLines(logging.Filter):
    """Drops Celery's INFO lines about each outbox sweep (sent by beat, received,
    succeeded): one every OUTBOX_SWEEP_SECONDS would be most of the log. The sweep
    logs a line of its own when it hands mail over, and problems are WARNINGs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return "mypack.outbox.sweep" not in message and "outbox-sweep" not in message


def _quiet_routine_sweeps() -> None:
    for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
        logger = logging.getLogger(name)
        if not any(isinstance(found, _RoutineSweepLines) for found in logger.filters):
            logger.addFilter(_RoutineSweepLines())


#: The modules that define tasks (each with ``shared_task``).
TASK_MODULES = ("mypack.outbox.tasks", "mypack.periodic.tasks")


def schedule(config) -> dict[str, dict[str, Any]]:
    """The periodic jobs and when they run (UTC), from the app's settings; a period of
    0 or an hour of None turns a job off."""
    from celery.schedules import crontab

    every = {"outbox-sweep": ("mypack.outbox.sweep", config["OUTBOX_SWEEP_SECONDS"]),
             "prune": ("mypack.periodic.prune", config["PRUNE_SECONDS"]),
             "remind-uncollected": ("mypack.periodic.remind_uncollected",
                                    config["READY_REMINDER_CHECK_SECONDS"])}
    entries = {name: {"task": task_name, "schedule": float(seconds)}
               for name, (task_name, seconds) in every.items() if seconds}
    if config["DAILY_SUMMARY_HOUR"] is not None:
        entries["daily-summary"] = {"task": "mypack.periodic.daily_summary",
                                    "schedule": crontab(minute=0,
                                                        hour=config["DAILY_SUMMARY_HOUR"])}
    if config["WEEKLY_DIGEST_HOUR"] is not None:
        entries["weekly-digest"] = {"task": "mypack.periodic.weekly_digest",
                                    "schedule": crontab(minute=0, day_of_week=1,
                                                        hour=config["WEEKLY_DIGEST_HOUR"])}
    return entries


def task(name: str) -> Task:
    """The task ``name`` of the current app's Celery app."""
    celery = celery_app()
    if name not in celery.tasks:  # its module not imported yet: once per process
        celery.loader.import_default_modules()
    return celery.tasks[name]
