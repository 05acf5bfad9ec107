"""The outbox table: one row per mail to send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mypack.database import utcnow
from mypack.extensions import Model


class OutboxMessage(Model):
    """A mail to send: which one (``kind``, the template), to whom, and what it says
    (``context``, the template's values, fixed when the change committed)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The sweep's question: which rows are neither sent nor given up on.
        Index("ix_outbox_messages_pending", "sent_at", "failed_at"),
        # How often one address was mailed lately (service.written_since: the
        # per-address limit of password-reset mail, asked on every request for one).
        Index("ix_outbox_messages_recipient", "recipient", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Last handed to the job system (None: never, the sweep's work).
    dispatched_at: Mapped[datetime | None]
    #: A task took the row and is sending it (until sent, or the claim is stale).
    claimed_at: Mapped[datetime | None]
    #: Sent; or skipped, when ``last_error`` says "skipped: why" (mypack.outbox.kinds).
    sent_at: Mapped[datetime | None]
    #: Given up after the last try (the mail server kept refusing).
    failed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
