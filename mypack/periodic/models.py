"""The claims of periodic jobs on their periods."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mypack.database import utcnow
from mypack.extensions import Model


class JobRun(Model):
    """One run of a periodic job for one period (its start, UTC); the primary key lets
    one claim in per period."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[datetime] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: What the run did, as its log line says.
    outcome: Mapped[str | None] = mapped_column(String(255))
