"""Once per period: a periodic job claims its period before it works."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, update
from sqlalchemy.exc import IntegrityError

from mypack.database import utcnow
from mypack.extensions import db
from mypack.periodic.models import JobRun

logger = logging.getLogger(__name__)


def claim(job: str, period: datetime) -> bool:
    """Whether this run may do ``job`` for ``period``: the first claim is let in, and a
    later one only if the first never finished and has outlived a task's time limit
    (its worker died)."""
    now = utcnow()
    db.session.add(JobRun(job=job, period=period, started_at=now))
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
    stale = now - timedelta(seconds=current_app.config["OUTBOX_CLAIM_SECONDS"])
    taken = cast(CursorResult[Any], db.session.execute(
        update(JobRun).where(JobRun.job == job, JobRun.period == period,
                             JobRun.finished_at.is_(None), JobRun.started_at < stale)
        .values(started_at=now))).rowcount
    db.session.commit()
    return taken == 1


def once(job: str, period: datetime, work: Callable[[], str]) -> str:
    """Run ``work`` (which says what it did) if this is the period's first claim; log
    and keep what it did, or that the period was done already."""
    if not claim(job, period):
        logger.info("%s for %s: done already (another scheduler's run)", job,
                    period.isoformat(sep=" "))
        return "done already"
    outcome = work()
    db.session.execute(update(JobRun).where(JobRun.job == job, JobRun.period == period)
                       .values(finished_at=utcnow(), outcome=outcome[:255]))
    db.session.commit()
    logger.info("%s for %s: %s", job, period.isoformat(sep=" "), outcome)
    return outcome


def floor(moment: datetime, seconds: float) -> datetime:
    """The start of the ``seconds``-long period ``moment`` is in (periods counted from
    the epoch, so every scheduler names the same one)."""
    epoch = datetime(1970, 1, 1)
    whole = int((moment - epoch).total_seconds() // seconds * seconds)
    return epoch + timedelta(seconds=whole)


def prune_runs(keep_days: int) -> int:
    """Delete the finished runs older than ``keep_days``; how many went."""
    result = db.session.execute(delete(JobRun).where(
        JobRun.finished_at < utcnow() - timedelta(days=keep_days)))
    db.session.commit()
    return int(getattr(result, "rowcount", 0))
