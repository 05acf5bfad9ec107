"""The café's numbers, for the admin dashboard and the summary mails of staff and
admins, each read in one query whatever the amount of data.

Days are UTC days: stored datetimes are naive UTC (``mypack.database.utcnow``), and a
day series runs from ``days - 1`` days before ``today`` to ``today``, every day present
(days without rows are zeros). Rows dated after ``today`` (a clock that ran ahead)
are left out.

Grouping by day happens in SQL with ``DATE(column)``, which SQLite, PostgreSQL and
MySQL/MariaDB all have; SQLite answers with a ``'YYYY-MM-DD'`` string, the others with
a date, and :func:`_as_date` makes them alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import case, func, select, type_coerce

from mypack.audit import AuditEvent
from mypack.auth.models import LoginThrottle, User
from mypack.database import utcnow
from mypack.extensions import db
from mypack.menu.models import MenuItem, Price
from mypack.orders.models import OPEN_STATUSES, Order, OrderLine

#: How many days the dashboard's charts cover, today included.
WINDOW_DAYS = 30
#: How many audit events the dashboard lists.
RECENT_EVENTS = 20
#: The most locked accounts the dashboard lists: a brute force over many emails locks
#: many, and the page must stay small (``mypack user unlock`` reaches the rest).
LOCKED_LIMIT = 50
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DailyOrders:
    """Orders placed per day, and the revenue per day (orders not cancelled)."""

    orders: list[tuple[date, int]]
    revenue: list[tuple[date, Decimal]]


@dataclass(frozen=True)
class Totals:
    """Headline numbers: users, menu items on sale."""

    users: int
    available_items: int


@dataclass(frozen=True)
class LockedAccount:
    """An email locked by too many failed logins, and whether an account has it."""

    email: str
    locked_until: datetime
    has_account: bool


def today_utc() -> date:
    """Today's date in UTC."""
    return utcnow().date()


def window(today: date | None = None, days: int = WINDOW_DAYS) -> list[date]:
    """The ``days`` dates ending with ``today`` (default: today in UTC), oldest first."""
    today = today or today_utc()
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


def _bounds(days: list[date]) -> tuple[datetime, datetime]:
    """Datetimes from the first day's midnight to the midnight after the last day."""
    return (datetime.combine(days[0], time.min),
            datetime.combine(days[-1] + timedelta(days=1), time.min))


def _as_date(value: date | datetime | str) -> date:
    # SQLite's DATE() is text, PostgreSQL's and MySQL's a date; a datetime is accepted
    # too, so a driver that widens dates cannot break the day keys.
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value


def signups_per_day(today: date | None = None, days: int = WINDOW_DAYS) -> list[tuple[date, int]]:
    """``[(day, users created that day), ...]`` for the window, every day present (1 query)."""
    dates = window(today, days)
    start, end = _bounds(dates)
    day = func.date(User.created_at)
    rows = db.session.execute(
        select(day, func.count()).where(User.created_at >= start, User.created_at < end)
        .group_by(day))
    counts = {_as_date(when): count for when, count in rows}
    return [(when, counts.get(when, 0)) for when in dates]


def orders_per_day(today: date | None = None, days: int = WINDOW_DAYS) -> DailyOrders:
    """Orders placed per day (every status) and revenue per day: the sum of the totals
    of orders that are not cancelled, as a Decimal. Every day present (1 query)."""
    dates = window(today, days)
    start, end = _bounds(dates)
    day = func.date(Order.created_at)
    rows = db.session.execute(
        select(day, func.count(), _revenue())
        .where(Order.created_at >= start, Order.created_at < end).group_by(day))
    counts, sums = {}, {}
    for when, count, total in rows:
        counts[_as_date(when)], sums[_as_date(when)] = count, total
    return DailyOrders(orders=[(when, counts.get(when, 0)) for when in dates],
                       revenue=[(when, _money(sums.get(when))) for when in dates])


def _revenue():
    """Revenue: the sum of the totals of the orders that are not cancelled."""
    # CASE without ELSE is NULL for cancelled orders, which SUM skips; the coercion
    # keeps the sum a Decimal with two places on SQLite too (it sums in floats).
    return type_coerce(func.sum(case((Order.status != "cancelled", Order.total))), Price)


@dataclass(frozen=True)
class Summary:
    """A period's numbers, for the summary mails."""

    start: datetime
    end: datetime
    orders: int
    cancelled: int
    revenue: Decimal
    #: ``[(item name, quantity), ...]``, the most ordered first (orders not cancelled).
    top_items: list[tuple[str, int]]
    new_accounts: int


def summary(start: datetime, end: datetime, top: int = 5) -> Summary:
    """Orders placed from ``start`` until ``end``, their revenue and top items, and the
    accounts made meanwhile (2 queries)."""
    placed = (Order.created_at >= start) & (Order.created_at < end)
    accounts = (select(func.count()).select_from(User)
                .where(User.created_at >= start, User.created_at < end).scalar_subquery())
    cancelled = func.count(case((Order.status == "cancelled", 1)))
    orders, dropped, revenue, new = db.session.execute(
        select(func.count(), cancelled, _revenue(), accounts).select_from(Order)
        .where(placed)).one()
    quantity = func.sum(OrderLine.quantity)
    items = db.session.execute(
        select(MenuItem.name, quantity).select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id).join(MenuItem)
        .where(placed, Order.status != "cancelled")
        .group_by(MenuItem.id, MenuItem.name).order_by(quantity.desc(), MenuItem.name)
        .limit(top)).all()
    return Summary(start=start, end=end, orders=orders, cancelled=dropped,
                   revenue=_money(revenue), top_items=[(name, int(n)) for name, n in items],
                   new_accounts=new)


def _money(value: Decimal | None) -> Decimal:
    """A sum as a Decimal with two places; a day without (uncancelled) orders is 0.00."""
    return ZERO if value is None else Decimal(value).quantize(ZERO)


def totals() -> Totals:
    """How many users and how many available menu items there are (1 query)."""
    users = select(func.count()).select_from(User).scalar_subquery()
    items = (select(func.count()).select_from(MenuItem)
             .where(MenuItem.available.is_(True)).scalar_subquery())
    row = db.session.execute(select(users, items)).one()
    return Totals(users=row[0], available_items=row[1])


def open_orders_by_status() -> list[tuple[str, int]]:
    """``[(status, orders in it), ...]`` for every open status in queue order, zeros
    included (1 query)."""
    rows = db.session.execute(
        select(Order.status, func.count()).where(Order.status.in_(OPEN_STATUSES))
        .group_by(Order.status))
    counts = {status: count for status, count in rows}
    return [(status, counts.get(status, 0)) for status in OPEN_STATUSES]


def locked_accounts(now: datetime | None = None,
                    limit: int = LOCKED_LIMIT) -> tuple[list[LockedAccount], bool]:
    """Emails locked at ``now`` (default: now, UTC), most recently locked first, at most
    ``limit`` of them, and whether more are locked (1 query).

    Emails without an account are locked alike (the login must not tell them apart),
    so each says whether an account exists.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(LoginThrottle.email, LoginThrottle.locked_until, User.id)
        .outerjoin(User, User.email == LoginThrottle.email)
        .where(LoginThrottle.locked_until > now)
        .order_by(LoginThrottle.locked_until.desc(), LoginThrottle.email)
        .limit(limit + 1)).all()
    # locked_until > now: never NULL here.
    locked = [LockedAccount(email, cast(datetime, until), user_id is not None)
              for email, until, user_id in rows[:limit]]
    return locked, len(rows) > limit


def recent_events(limit: int = RECENT_EVENTS) -> list[AuditEvent]:
    """The latest ``limit`` audit events, newest first (1 query)."""
    return list(db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)))
