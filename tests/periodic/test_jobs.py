"""The periodic jobs (issue 18, point 11), run as beat would send them, in-process, on
each backend, with mail to a real SMTP server: each runs once per period even when
two schedulers send it at once; pruning takes what nothing needs and leaves the rest;
reminders and summaries say what they should, once."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from celery.schedules import crontab
from sqlalchemy import func, select, update

from mypack.auth.models import ApiToken, LoginThrottle
from mypack.database import utcnow
from mypack.extensions import db
from mypack.jobs import schedule
from mypack.orders.models import Order
from mypack.outbox.models import OutboxMessage
from mypack.periodic import tasks
from mypack.periodic.models import JobRun
from tests.factories import EMAILS, add_items, add_people, make_user, place
from tests.support.smtp import parts


@pytest.fixture
def cafe(make_app, migrated_url, smtp_server):
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_url, SITE_URL="https://cafe.example.com",
                   **smtp_server.settings())
    app.people = add_people(app)
    app.item_ids = add_items(app)
    yield app
    assert app.extensions["outbox"].wait(10)


def run(app, job) -> str:
    with app.app_context():
        return job.apply().get()


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def backdate(app, model, **values) -> None:
    with app.app_context():
        db.session.execute(update(model).values(**values))
        db.session.commit()


def subjects(app, smtp_server) -> list[str]:
    assert app.extensions["outbox"].wait(30)
    return sorted(message["Subject"] for message in smtp_server.messages)


def test_a_job_runs_once_per_period(cafe, caplog):
    caplog.set_level(logging.INFO, logger="mypack.periodic")
    first = run(cafe, tasks.prune)
    assert first.startswith("removed ")
    assert run(cafe, tasks.prune) == "done already"
    assert rows(cafe, JobRun) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "mypack.periodic.runs"]
    assert lines[0].startswith("prune for ") and lines[0].endswith(first)
    assert lines[1].endswith("done already (another scheduler's run)")


def test_two_schedulers_at_once_mail_the_summary_once(cafe, smtp_server, backend):
    if backend == "sqlite":
        pytest.skip("one writer at a time: SQLite cannot race two claims")
    place(cafe, EMAILS["customer"], {cafe.item_ids["Espresso"]: 2}, "key-summary-0001")
    backdate(cafe, Order, created_at=utcnow() - timedelta(days=1))
    outcomes = []
    start = threading.Barrier(2)

    def scheduler():
        start.wait()
        outcomes.append(run(cafe, tasks.daily_summary))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes)[0] == "done already"
    assert sorted(outcomes)[1].startswith("mailed yesterday's numbers (1 orders, 4.40)")
    summaries = [s for s in subjects(cafe, smtp_server) if s.startswith("Yesterday")]
    assert summaries == ["Yesterday at mypack café: 1 orders, 4.40"]


def test_a_run_whose_worker_died_is_claimed_again(cafe):
    with cafe.app_context():
        from mypack.periodic.runs import claim, floor

        period = floor(utcnow(), 3600)
        assert claim("prune", period)
        assert not claim("prune", period)  # the first still runs
        db.session.execute(update(JobRun).values(
            started_at=utcnow() - timedelta(seconds=cafe.config["OUTBOX_CLAIM_SECONDS"] + 1)))
        db.session.commit()
        assert claim("prune", period)  # it died: its claim is stale


def test_prune_takes_what_nothing_needs_and_leaves_the_rest(cafe):
    now = utcnow()
    long_ago = now - timedelta(days=40)
    with cafe.app_context():
        from mypack.auth import tokens
        from mypack.auth.models import User

        window = timedelta(seconds=cafe.config["LOCKOUT_WINDOW"] + 1)
        db.session.add_all([
            # Spent: an unknown email's old failures, a lock-out that ended.
            LoginThrottle(email="nobody@example.com", failures=3, window_started_at=now - window),
            LoginThrottle(email=EMAILS["other"], failures=0, window_started_at=now - window,
                          locked_until=now - timedelta(minutes=1)),
            # Still counting: a lock-out in force, failures within the window.
            LoginThrottle(email="locked@example.com", failures=0,
                          window_started_at=now - window, locked_until=now + timedelta(hours=1)),
            LoginThrottle(email="recent@example.com", failures=2, window_started_at=now),
        ])
        admin = db.session.get(User, cafe.people["admin"])
        live, _ = tokens.create(admin, "live")
        old = tokens.create(admin, "expired long ago")[1]
        recent = tokens.create(admin, "expired yesterday")[1]
        old.expires_at, recent.expires_at = long_ago, now - timedelta(days=1)
        db.session.add_all([
            OutboxMessage(kind="summary", recipient="a@example.com", context={},
                          sent_at=long_ago),
            OutboxMessage(kind="summary", recipient="b@example.com", context={},
                          failed_at=long_ago),
            OutboxMessage(kind="summary", recipient="c@example.com", context={},
                          sent_at=now),
            # Never sent: the sweep's, whatever its age.
            OutboxMessage(kind="summary", recipient="d@example.com", context={},
                          created_at=long_ago),
        ])
        db.session.commit()
    # The rows above bypassed the dispatcher's hand-over only by being sent already or
    # old: the one pending row would be handed over by the sweep, not pruned.
    assert cafe.extensions["outbox"].wait(30)
    outcome = run(cafe, tasks.prune)
    assert outcome == ("removed 2 login throttle(s), 1 API token(s), 2 outbox row(s), "
                       "0 job run(s)")
    with cafe.app_context():
        assert sorted(db.session.scalars(select(LoginThrottle.email))) == [
            "locked@example.com", "recent@example.com"]
        assert sorted(db.session.scalars(select(ApiToken.name))) == [
            "expired yesterday", "live"]
        assert sorted(db.session.scalars(select(OutboxMessage.recipient))) == [
            "c@example.com", "d@example.com"]


def test_an_uncollected_order_is_reminded_once(cafe, smtp_server):
    order_id = place(cafe, EMAILS["customer"], {cafe.item_ids["Espresso"]: 1}, "key-remind-001")
    with cafe.app_context():
        from mypack.orders import service

        service.move(order_id, "placed", "preparing")
        service.move(order_id, "preparing", "ready")
    assert run(cafe, tasks.remind_uncollected).startswith("reminded the customers of 0 ")
    backdate(cafe, Order, updated_at=utcnow() - timedelta(minutes=31))
    with cafe.app_context():  # the next period, as the next run would be
        db.session.execute(JobRun.__table__.delete())
        db.session.commit()
    assert run(cafe, tasks.remind_uncollected).startswith("reminded the customers of 1 ")
    with cafe.app_context():
        db.session.execute(JobRun.__table__.delete())
        db.session.commit()
    assert run(cafe, tasks.remind_uncollected).startswith("reminded the customers of 0 ")
    reminders = [m for m in smtp_server.wait_for(3)
                 if m["Subject"] == f"Your order #{order_id} is waiting for you"]
    assert len(reminders) == 1 and reminders[0]["To"] == EMAILS["customer"]
    with cafe.app_context():
        order = db.session.get(Order, order_id)
        # Still "ready since" the move: the reminder does not reset that.
        assert order.reminded_at is not None and order.updated_at < utcnow() - timedelta(
            minutes=30)


def test_the_summaries_go_to_staff_daily_and_admins_weekly(cafe, smtp_server):
    espresso, croissant = cafe.item_ids["Espresso"], cafe.item_ids["Croissant"]
    place(cafe, EMAILS["customer"], {espresso: 3, croissant: 1}, "key-sum-000001")
    cancelled = place(cafe, EMAILS["other"], {croissant: 5}, "key-sum-000002")
    with cafe.app_context():
        from mypack.orders import service

        service.move(cancelled, "placed", "cancelled")
    monday = utcnow().date() - timedelta(days=utcnow().weekday())
    from datetime import datetime, time

    last_week = datetime.combine(monday - timedelta(days=3), time(12))
    backdate(cafe, Order, created_at=last_week)
    make_user(cafe, "new@example.com", name="New")  # made now: not last week's
    assert cafe.extensions["outbox"].wait(30)
    smtp_server.messages.clear()
    assert run(cafe, tasks.weekly_digest).startswith(
        "mailed last week's numbers (2 orders, 6.70) to 1 admin account(s)")
    [digest] = smtp_server.wait_for(1)
    assert digest["To"] == EMAILS["admin"]
    assert digest["Subject"] == "Last week at mypack café: 2 orders, 6.70"
    text, html = parts(digest)
    assert "Orders placed:   2 (1 cancelled)" in text and "Revenue:         6.70" in text
    assert "    3 x Espresso" in text and "    1 x Croissant" in text
    assert "New accounts:    0" in text  # the people were made this week
    assert "<li>Espresso: 3</li>" in html
    # Yesterday had none of these orders.
    assert run(cafe, tasks.daily_summary).startswith(
        "mailed yesterday's numbers (0 orders, 0.00) to 1 staff account(s)")
    daily = smtp_server.wait_for(2)[1]
    assert daily["To"] == EMAILS["staff"] and "No orders in this period." in parts(daily)[0]


def test_the_schedule_follows_the_settings(make_app):
    entries = schedule(make_app().config)
    assert set(entries) == {"outbox-sweep", "prune", "remind-uncollected", "daily-summary",
                            "weekly-digest"}
    assert entries["daily-summary"]["schedule"] == crontab(minute=0, hour=6)
    assert entries["weekly-digest"]["schedule"] == crontab(minute=0, hour=6, day_of_week=1)
    off = schedule(make_app(PRUNE_SECONDS=0, DAILY_SUMMARY_HOUR=None,
                            WEEKLY_DIGEST_HOUR=None).config)
    assert set(off) == {"outbox-sweep", "remind-uncollected"}
