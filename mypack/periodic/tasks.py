"""The periodic jobs; `mypack beat` sends them on the schedule of mypack.jobs.schedule."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from mypack.auth import service as accounts
from mypack.auth import tokens
from mypack.auth.models import User
from mypack.database import utcnow
from mypack.extensions import db
from mypack.orders import service as orders
from mypack.orders import stats
from mypack.outbox import service as outbox
from mypack.periodic.runs import floor, once, prune_runs

#: Finished runs of the periodic jobs kept, for looking back at what they did.
JOB_RUNS_KEEP_DAYS = 90


@shared_task(name="mypack.periodic.prune")
def prune() -> str:
    """Delete what nothing needs any more: spent login throttles (most of them of emails
    no account has), tokens expired or revoked a while ago, old outbox rows (reset
    mails among them) and old job runs."""
    config = current_app.config

    def work() -> str:
        throttles = accounts.prune_throttles()
        gone_tokens = tokens.prune(config["TOKEN_KEEP_DAYS"])
        mails = outbox.prune(config["OUTBOX_KEEP_DAYS"])
        runs = prune_runs(JOB_RUNS_KEEP_DAYS)
        return (f"removed {throttles} login throttle(s), {gone_tokens} API token(s), "
                f"{mails} outbox row(s), {runs} job run(s)")
    return once("prune", floor(utcnow(), config["PRUNE_SECONDS"] or 3600), work)


@shared_task(name="mypack.periodic.remind_uncollected")
def remind_uncollected() -> str:
    """Remind customers of orders ready and not collected for READY_REMINDER_MINUTES."""
    config = current_app.config

    def work() -> str:
        count = orders.remind_uncollected(config["READY_REMINDER_MINUTES"])
        return f"reminded the customers of {count} order(s) waiting for collection"
    return once("remind-uncollected",
                floor(utcnow(), config["READY_REMINDER_CHECK_SECONDS"] or 300), work)


@shared_task(name="mypack.periodic.daily_summary")
def daily_summary() -> str:
    """Yesterday's numbers (UTC), mailed to every active staff member."""
    today = datetime.combine(utcnow().date(), time.min)
    return _summary("daily-summary", "Yesterday", today - timedelta(days=1), today, "staff")


@shared_task(name="mypack.periodic.weekly_digest")
def weekly_digest() -> str:
    """Last week's numbers (Monday to Sunday, UTC), mailed to every active admin."""
    monday = datetime.combine(utcnow().date(), time.min)
    monday -= timedelta(days=monday.weekday())
    return _summary("weekly-digest", "Last week", monday - timedelta(days=7), monday, "admin")


def _summary(job: str, title: str, start: datetime, end: datetime, role: str) -> str:
    def work() -> str:
        numbers = stats.summary(start, end)
        people = db.session.execute(select(User.email, User.display_name).where(
            User.role == role, User.active.is_(True))).all()
        context = {"title": title, "start": start.strftime("%Y-%m-%d"),
                   "end": (end - timedelta(days=1)).strftime("%Y-%m-%d"),
                   "orders": numbers.orders, "cancelled": numbers.cancelled,
                   "revenue": str(numbers.revenue), "new_accounts": numbers.new_accounts,
                   "top_items": numbers.top_items,
                   "link": "orders.queue" if role == "staff" else "admin.dashboard"}
        for email, name in people:
            outbox.enqueue("summary", email, {**context, "name": name})
        db.session.commit()
        return (f"mailed {title.lower()}'s numbers ({numbers.orders} orders, "
                f"{numbers.revenue}) to {len(people)} {role} account(s)")
    return once(job, start, work)
