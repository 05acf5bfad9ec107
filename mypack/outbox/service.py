"""Writing to the outbox, and the steps of delivering a row: claim, mark, give up.

Each step is one conditional UPDATE, so two tasks for one row (a task run again after
its worker died, a row the sweep handed over twice) never both send it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, func, or_, select, update

from mypack.database import utcnow
from mypack.extensions import db
from mypack.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

#: What claim() found when it could not claim a row.
DONE, BUSY = "done", "busy"


def enqueue(kind: str, recipient: str, context: dict[str, Any]) -> OutboxMessage:
    """Add a mail to the current transaction: it is sent once the transaction commits,
    and never if it rolls back."""
    message = OutboxMessage(kind=kind, recipient=recipient, context=context)
    db.session.add(message)
    return message


def written_since(kind: str, recipient: str, since: datetime) -> int:
    """How many ``kind`` mails to ``recipient`` were written since ``since``, whatever
    became of them (a limit on how often one address is mailed)."""
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.kind == kind, OutboxMessage.recipient == recipient,
               OutboxMessage.created_at >= since)) or 0


def oldest_since(kind: str, recipient: str, since: datetime) -> datetime | None:
    """When the oldest of the mails :func:`written_since` counts was written: the
    count falls by one when it leaves the window."""
    return db.session.scalar(
        select(func.min(OutboxMessage.created_at))
        .where(OutboxMessage.kind == kind, OutboxMessage.recipient == recipient,
               OutboxMessage.created_at >= since))


def claim_seconds() -> float:
    """How long a claim holds: longer than a task may run (its hard time limit), so a
    claim older than this belongs to a task that died."""
    return float(current_app.config["OUTBOX_CLAIM_SECONDS"])


def claim(message_id: int) -> OutboxMessage | str:
    """Take the row for sending: the row, or ``DONE`` (sent, given up on, or gone) or
    ``BUSY`` (another task is sending it now)."""
    now = utcnow()
    claimed = cast(CursorResult[Any], db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
               OutboxMessage.failed_at.is_(None),
               or_(OutboxMessage.claimed_at.is_(None),
                   OutboxMessage.claimed_at < now - timedelta(seconds=claim_seconds())))
        .values(claimed_at=now, attempts=OutboxMessage.attempts + 1)
    )).rowcount
    db.session.commit()
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if claimed and message is not None:
        return message
    if message is None or message.sent_at or message.failed_at:
        return DONE
    return BUSY


def mark_sent(message: OutboxMessage) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                       .values(sent_at=utcnow(), claimed_at=None, last_error=None))
    db.session.commit()


def mark_skipped(message: OutboxMessage, reason: str) -> None:
    """Done with, nothing sent: its kind's ``prepare`` decided so (mypack.outbox.kinds).

    Marked as sent, with the reason where an error would be, so that neither a task
    nor the sweep tries it again; not as failed, which is for a mail server that kept
    refusing (an operator watches those, and anyone who can ask for a password reset
    could fill them).
    """
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                       .values(sent_at=utcnow(), claimed_at=None,
                               last_error=f"skipped: {reason}"[:255]))
    db.session.commit()


def release(message: OutboxMessage, error: BaseException) -> None:
    """Let the row go after a failed try, for the next one."""
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                       .values(claimed_at=None, last_error=describe(error)))
    db.session.commit()


def give_up(message: OutboxMessage, error: BaseException) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                       .values(claimed_at=None, failed_at=utcnow(), last_error=describe(error)))
    db.session.commit()


def mark_dispatched(message_ids: list[int]) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
                       .values(dispatched_at=utcnow()))
    db.session.commit()


def undelivered(grace_seconds: float) -> list[int]:
    """Rows the sweep hands over (again): not sent nor given up on, older than
    ``grace_seconds`` (the process that wrote them had its chance), and neither
    handed over nor claimed within a claim's time."""
    now = utcnow()
    stale = now - timedelta(seconds=claim_seconds())
    return list(db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
               OutboxMessage.created_at < now - timedelta(seconds=grace_seconds),
               or_(OutboxMessage.dispatched_at.is_(None), OutboxMessage.dispatched_at < stale),
               or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < stale))
        .order_by(OutboxMessage.id)))


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip().splitlines()[0]
    return text[:255]


def prune(keep_days: int) -> int:
    """Delete the rows sent (or skipped) or given up on more than ``keep_days`` ago;
    how many went."""
    gone = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(delete(OutboxMessage).where(
        or_(OutboxMessage.sent_at < gone, OutboxMessage.failed_at < gone)))
    db.session.commit()
    return int(getattr(result, "rowcount", 0))
