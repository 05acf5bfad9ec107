"""The admin dashboard: charts of the last 30 days, open orders by status, locked
accounts with their Unlock button, the latest audit events; its queries on SQLite,
PostgreSQL and MySQL; output the CSP allows; a bounded number of queries; who may see it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from mypack import audit
from mypack.admin import charts
from mypack.audit import AuditEvent
from mypack.auth.models import LoginThrottle, User
from mypack.database import utcnow
from mypack.extensions import db
from mypack.orders import service as orders
from mypack.orders import stats
from mypack.orders.models import Order
from tests.factories import (
    add_items,
    client_as,
    counted_queries,
    csrf_token,
    login,
    make_user,
    place,
    post_form,
)

#: The customers the tests make: (email, when they signed up as (days back, time)).
SIGNUPS = [
    ("ada@example.com", 1, time(8)),
    ("bea@example.com", 1, time(22)),
    ("dee@example.com", 3, time(0)),
    ("cy@example.com", 30, time(12)),  # a day before the window
]
#: The orders they place: (email, {item: quantity}, status, days back, time).
ORDERS = [
    ("ada@example.com", {"Flat white": 1}, "placed", 0, time(9)),       # €3.20
    ("ada@example.com", {"Espresso": 2}, "preparing", 1, time(10)),     # €4.40
    ("bea@example.com", {"Flat white": 3}, "cancelled", 1, time(11)),   # €9.60, no revenue
    ("bea@example.com", {"Croissant": 3}, "collected", 1, time(12)),    # €0.30
    ("ada@example.com", {"Espresso": 1}, "cancelled", 5, time(13)),     # an order, no revenue
    ("bea@example.com", {"Earl Grey": 1}, "ready", 29, time(0)),        # the window's first second
    ("ada@example.com", {"Flat white": 1}, "placed", 30, time(23, 59, 59)),  # just before it
    ("ada@example.com", {"Flat white": 1}, "placed", -1, time(0)),       # tomorrow (clock ahead)
]
#: The moves that bring a new order to each status, through the service.
MOVES = {
    "placed": [],
    "preparing": ["preparing"],
    "ready": ["preparing", "ready"],
    "collected": ["preparing", "ready", "collected"],
    "cancelled": ["cancelled"],
}
_FIGURE = re.compile(r'<figure[^>]*id="(chart-\w+)".*?</figure>', re.S)
_BAR = re.compile(r'<g class="chart-bar">\s*<title>(\d{4}-\d\d-\d\d): ([^<]*)</title>')
_SVG_TITLE = re.compile(r'<svg[^>]*role="img"[^>]*>\s*<title id="[^"]+">([^<]*)</title>')
_OPEN_ROW = re.compile(r'<a href="/admin/orders\?status=(\w+)">.*?</a></td>\s*'
                       r'<td class="num">(\d+)</td>', re.S)


def at(today: date, days_back: int, when: time) -> datetime:
    return datetime.combine(today - timedelta(days=days_back), when)


def seed(app, today: date, extra_orders: int = 0) -> None:
    """The customers and orders above through the services, dated by ``today``; with
    ``extra_orders`` more orders, one a day going back (for the query count)."""
    items = add_items(app)
    for email, _, _ in SIGNUPS:
        make_user(app, email, name=email.split("@")[0].title())
    placed = []
    for n, (email, quantities, status, days_back, when) in enumerate(ORDERS):
        order_id = place(app, email, {items[name]: q for name, q in quantities.items()},
                         f"seed-key-{n:012d}")
        with app.app_context():
            seen = "placed"
            for target in MOVES[status]:
                seen = orders.move(order_id, seen, target).status
        placed.append((order_id, at(today, days_back, when)))
    for n in range(extra_orders):
        order_id = place(app, "bea@example.com", {items["Espresso"]: 1}, f"extra-key-{n:011d}")
        placed.append((order_id, at(today, n % 30, time(15))))
    with app.app_context():
        for email, days_back, when in SIGNUPS:
            db.session.execute(update(User).where(User.email == email)
                               .values(created_at=at(today, days_back, when)))
        for order_id, created_at in placed:
            db.session.execute(update(Order).where(Order.id == order_id)
                               .values(created_at=created_at))
        db.session.commit()


def iso(today: date, days_back: int) -> str:
    return (today - timedelta(days=days_back)).isoformat()


def figures(page: str) -> dict[str, str]:
    """``{figure id: its HTML}`` for the page's charts."""
    return {match[1]: match[0] for match in _FIGURE.finditer(page)}


def bars(figure: str) -> dict[str, str]:
    """``{day: value as written}`` from the bars' hover titles, in order."""
    return dict(_BAR.findall(figure))


def lock(app, email: str, minutes: int = 10) -> None:
    with app.app_context():
        db.session.add(LoginThrottle(email=email, failures=0, window_started_at=utcnow(),
                                     locked_until=utcnow() + timedelta(minutes=minutes)))
        db.session.commit()


@pytest.fixture
def today(monkeypatch) -> date:
    """Today (UTC), held still for the test: the dashboard's clock cannot pass midnight
    between the seeding and the request."""
    now = utcnow()
    monkeypatch.setattr(stats, "utcnow", lambda: now)
    return now.date()


@pytest.fixture
def admin(site, today):
    """A logged-in admin's client; the admin signed up today at noon."""
    client = client_as(site, "root@example.com", role="admin")
    with site.app_context():
        db.session.execute(update(User).where(User.email == "root@example.com")
                           .values(created_at=at(today, 0, time(12))))
        db.session.commit()
    return client


# --- the stats, on every backend ------------------------------------------------------------

def test_the_day_series_on_every_backend(migrated_app):
    today = date(2026, 11, 2)
    seed(migrated_app, today)
    with migrated_app.app_context():
        signups = stats.signups_per_day(today)
        daily = stats.orders_per_day(today)
    days = [today - timedelta(days=back) for back in range(29, -1, -1)]
    for series in (signups, daily.orders, daily.revenue):
        assert [day for day, _ in series] == days

    assert dict(signups) == {**dict.fromkeys(days, 0), days[-2]: 2, days[-4]: 1}
    assert dict(daily.orders) == {**dict.fromkeys(days, 0), days[-1]: 1, days[-2]: 3,
                                  days[-6]: 1, days[0]: 1}
    revenue = dict(daily.revenue)
    assert all(type(value) is Decimal for value in revenue.values())
    # The cancelled €9.60 is left out; 4.40 + 0.30 stays exact (SQLite sums in floats).
    assert {day: str(value) for day, value in revenue.items() if value} == {
        days[-1]: "3.20", days[-2]: "4.70", days[0]: "2.40"}
    assert str(revenue[days[-3]]) == "0.00" and str(revenue[days[-6]]) == "0.00"


def test_the_counts_locks_and_events_on_every_backend(migrated_app):
    seed(migrated_app, date(2026, 11, 2))
    now = utcnow()
    with migrated_app.app_context():
        db.session.add_all([
            LoginThrottle(email="ada@example.com", failures=0, window_started_at=now,
                          locked_until=now + timedelta(minutes=10)),
            LoginThrottle(email="ghost@example.com", failures=0, window_started_at=now,
                          locked_until=now + timedelta(minutes=20)),
            LoginThrottle(email="bea@example.com", failures=0, window_started_at=now,
                          locked_until=now - timedelta(minutes=1)),  # expired
            LoginThrottle(email="dee@example.com", failures=2, window_started_at=now),
        ])
        for n in range(25):
            audit.record("login_failure", email=f"ev{n}@example.com").created_at = \
                now + timedelta(minutes=n)
        db.session.commit()

        assert stats.open_orders_by_status() == [("placed", 3), ("preparing", 1), ("ready", 1)]
        assert stats.totals() == stats.Totals(users=4, available_items=4)
        locked, more = stats.locked_accounts(now)
        assert [(a.email, a.has_account) for a in locked] == [
            ("ghost@example.com", False), ("ada@example.com", True)]
        assert not more
        assert stats.locked_accounts(now, limit=1) == (locked[:1], True)
        assert stats.locked_accounts(now + timedelta(minutes=15)) == (locked[:1], False)
        events = stats.recent_events()
        assert [event.email for event in events] == [f"ev{n}@example.com"
                                                     for n in range(24, 4, -1)]


def test_open_orders_are_zeros_without_orders(site):
    with site.app_context():
        assert stats.open_orders_by_status() == [("placed", 0), ("preparing", 0), ("ready", 0)]
        assert stats.orders_per_day(date(2026, 1, 1)).revenue[-1] == (date(2026, 1, 1),
                                                                       Decimal("0.00"))


# --- the charts -----------------------------------------------------------------------------

def test_axis_values_are_round_and_cover_the_peak():
    assert charts.axis_values(0) == [0, 1]
    assert charts.axis_values(3) == [0, 1, 2, 3]
    assert charts.axis_values(9) == [0, 2, 4, 6, 8, 10]
    assert charts.axis_values(10) == [0, 2, 4, 6, 8, 10]
    assert charts.axis_values(Decimal("43.20"), whole=False) == [0, 10, 20, 30, 40, 50]
    assert charts.axis_values(Decimal("0.30"), whole=False) == [
        Decimal("0"), Decimal("0.1"), Decimal("0.2"), Decimal("0.3")]


def test_a_bar_chart_is_drawn_to_scale():
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(10)]
    chart = charts.bar_chart(list(zip(days, [0, 5, 10, 0, 0, 0, 0, 0, 0, 2], strict=True)),
                             "Orders per day", label_every=7)
    assert [bar.title for bar in chart.bars][:3] == [
        "2026-11-01: 0", "2026-11-02: 5", "2026-11-03: 10"]
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] == chart.bottom - chart.top
    assert heights[1] == pytest.approx(heights[2] / 2, abs=0.1)
    assert all(bar.y + bar.height == pytest.approx(chart.bottom) for bar in chart.bars)
    assert [label.day for label in chart.labels] == [days[2], days[9]]  # the last one too
    assert chart.summary == "Orders per day, last 10 days: 17 in all, most 10 on 2026-11-03"
    empty = charts.bar_chart([(day, 0) for day in days], "Sign-ups per day")
    assert empty.summary == "Sign-ups per day, last 10 days: 0 in all"
    assert {bar.height for bar in empty.bars} == {0}


# --- the page -------------------------------------------------------------------------------

def test_the_charts_show_30_days_with_zeros_and_no_older_data(site, admin, today):
    seed(site, today)
    page = admin.get("/admin/")
    assert page.status_code == 200
    found = figures(page.text)
    assert list(found) == ["chart-signups", "chart-orders", "chart-revenue"]
    window = [iso(today, back) for back in range(29, -1, -1)]
    for figure in found.values():
        assert list(bars(figure)) == window  # 30 days, oldest first
        assert figure.count("<tr><td><time") == 30  # the data table

    signups, placed, revenue = (bars(found[name]) for name in found)
    assert (signups[iso(today, 0)], signups[iso(today, 1)], signups[iso(today, 3)]) == \
        ("1", "2", "1")
    assert placed[iso(today, 0)] == "1" and placed[iso(today, 1)] == "3"
    assert placed[iso(today, 2)] == "0" and placed[iso(today, 29)] == "1"
    assert revenue[iso(today, 1)] == "€4.70"  # the cancelled €9.60 is left out
    assert revenue[iso(today, 5)] == "€0.00" and revenue[iso(today, 2)] == "€0.00"
    assert revenue[iso(today, 29)] == "€2.40"
    assert iso(today, 30) not in page.text and iso(today, -1) not in page.text

    titles = dict(zip(found, _SVG_TITLE.findall(page.text), strict=True))
    assert titles["chart-orders"] == \
        f"Orders per day, last 30 days: 6 in all, most 3 on {iso(today, 1)}"
    assert titles["chart-revenue"] == \
        f"Revenue per day, last 30 days: €10.30 in all, most €4.70 on {iso(today, 1)}"
    assert "cancelled orders left out" in found["chart-revenue"]
    assert 'aria-labelledby="chart-orders-title"' in found["chart-orders"]
    # The headline: 5 users, 4 items on sale, today's one order of €3.20.
    headline = page.text.split('class="dash-headline"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r"<dd>([^<]*)</dd>", headline) == ["5", "4", "1", "€3.20"]


def test_open_orders_by_status_link_to_the_orders_list(site, admin, today):
    seed(site, today)
    page = admin.get("/admin/").text
    assert _OPEN_ROW.findall(page) == [("placed", "3"), ("preparing", "1"), ("ready", "1")]


def test_an_empty_site_shows_zeros(site, admin, today):
    page = admin.get("/admin/").text
    assert _OPEN_ROW.findall(page) == [("placed", "0"), ("preparing", "0"), ("ready", "0")]
    assert "No account is locked." in page
    assert bars(figures(page)["chart-revenue"]) == {
        iso(today, back): "€0.00" for back in range(29, -1, -1)}


def test_the_page_needs_no_inline_style_or_script(site, admin, today):
    seed(site, today)
    lock(site, "ghost@example.com")
    page = admin.get("/admin/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "style=" not in page.text and "<style" not in page.text
    assert "<script" not in page.text.lower() and "javascript:" not in page.text.lower()
    assert "/static/css/dashboard.css" in page.text
    with admin.get("/static/css/dashboard.css") as stylesheet:  # closes the file
        assert stylesheet.status_code == 200


def test_the_latest_20_audit_events_escaped(site, admin, today):
    with site.app_context():
        for n in range(25):
            entry = audit.record("login_failure", email=f"ev{n}@example.com",
                                 detail="<b>bold</b>" if n == 24 else "")
            entry.created_at = utcnow() + timedelta(minutes=n)
        db.session.commit()
    page = admin.get("/admin/").text
    section = page.split('id="events"', 1)[1]
    shown = re.findall(r"<td>(ev\d+@example.com)</td>", section)
    assert shown == [f"ev{n}@example.com" for n in range(24, 4, -1)]
    assert "&lt;b&gt;bold&lt;/b&gt;" in section and "<b>bold" not in section
    assert 'href="/admin/audit">All events</a>' in section


# --- locked accounts and the Unlock button --------------------------------------------------

def test_a_locked_account_is_listed_and_unlocked_with_the_button(site, admin):
    make_user(site, "ada@example.com")
    attacker = site.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "198.51.100.9"  # the rate limit counts per client
    for _ in range(site.config["LOCKOUT_THRESHOLD"]):
        assert login(attacker, "ada@example.com", "Wrong-Password-1").status_code == 200
    assert login(attacker, "ada@example.com").status_code == 429
    lock(site, "ghost@example.com", minutes=20)

    page = admin.get("/admin/").text
    section = page.split('id="locked"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<td>([^<]+@example.com)</td>.*?<td>(yes|no account)</td>", section, re.S)
    assert rows == [("ghost@example.com", "no account"), ("ada@example.com", "yes")]
    assert section.count('action="/admin/unlock"') == 2
    assert 'name="email" value="ada@example.com"' in section

    answer = post_form(admin, "/admin/unlock", {"email": "ada@example.com"}, token_from="/admin/")
    assert answer.status_code == 302 and answer.location == "/admin/#locked"
    page = admin.get("/admin/").text
    assert "ada@example.com is unlocked." in page
    with site.app_context():
        assert db.session.get(LoginThrottle, "ada@example.com") is None
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "unlock")).one()
        assert event.email == "ada@example.com" and event.user_id is not None
    assert login(attacker, "ada@example.com").status_code == 302
    assert 'value="ghost@example.com"' in page and 'value="ada@example.com"' not in page


def test_unlocking_needs_the_csrf_token(site, admin):
    lock(site, "ghost@example.com")
    answer = admin.post("/admin/unlock", data={"email": "ghost@example.com"})
    assert answer.status_code == 400
    with site.app_context():
        assert db.session.get(LoginThrottle, "ghost@example.com") is not None
        assert not db.session.scalars(select(AuditEvent).where(AuditEvent.event == "unlock")).all()


@pytest.mark.parametrize("data", [{}, {"email": ""}, {"email": "   "},
                                  {"email": "a" * 243 + "@example.com"}])
def test_unlocking_without_a_possible_email_is_a_bad_request(site, admin, data):
    assert post_form(admin, "/admin/unlock", data, token_from="/admin/").status_code == 400


def test_unlocking_an_email_neither_known_nor_locked_says_so(site, admin):
    answer = post_form(admin, "/admin/unlock", {"email": "nobody@example.com"},
                       token_from="/admin/")
    assert answer.status_code == 302
    page = admin.get(answer.location).text
    assert "Nothing to unlock: no user with email nobody@example.com, and no lock on it." in page
    assert 'class="flash flash-error"' in page


def test_a_locked_email_is_escaped(site, admin):
    lock(site, '"><b>x</b>@example.com')
    section = admin.get("/admin/").text.split('id="locked"', 1)[1]
    assert "<b>x</b>" not in section
    assert 'value="&#34;&gt;&lt;b&gt;x&lt;/b&gt;@example.com"' in section


# --- bounded queries, access ----------------------------------------------------------------

def test_the_dashboard_runs_the_same_queries_whatever_the_data(site, admin, today):
    with counted_queries(site) as empty:
        assert admin.get("/admin/").status_code == 200
    seed(site, today, extra_orders=60)
    for n in range(30):
        lock(site, f"locked{n}@example.com")
    with counted_queries(site) as full:
        page = admin.get("/admin/")
    assert page.status_code == 200 and page.text.count('action="/admin/unlock"') == 30
    assert len(full) == len(empty) <= 10


@pytest.mark.parametrize("role, status", [
    (None, 302), ("customer", 403), ("staff", 403), ("admin", 200)])
def test_only_admins_see_the_dashboard(site, role, status):
    client = site.test_client()
    if role:
        make_user(site, "who@example.com", role=role)
        assert login(client, "who@example.com").status_code == 302
    answer = client.get("/admin/")
    assert answer.status_code == status
    if role is None:
        assert answer.location.startswith("/auth/login?next=")
    token = csrf_token(client, "/auth/login" if role is None else "/auth/profile")
    unlock = client.post("/admin/unlock", data={"csrf_token": token, "email": "x@example.com"})
    assert unlock.status_code == (302 if role in (None, "admin") else 403)
