"""The admin dashboard: the last 30 days in charts, the open orders, the locked
accounts (with a button to unlock each) and the latest audit events.

The page runs a fixed number of queries however much data there is (see
``mypack.orders.stats``); the charts are inline SVG drawn on the server
(``mypack.admin.charts``), because the site's Content-Security-Policy allows no
scripts and no inline styles.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from mypack.admin import charts
from mypack.admin.console import bp
from mypack.auth import service
from mypack.auth.models import normalize_email
from mypack.menu.prices import money
from mypack.orders import stats
from mypack.text import EMAIL_LENGTH


class UnlockForm(FlaskForm):
    """A locked account's "Unlock" button: the email, and the CSRF token."""

    email = HiddenField(validators=[DataRequired(), Length(max=EMAIL_LENGTH)])


@dataclass(frozen=True)
class Figure:
    """A chart on the page: its element id, the chart, and the caption under it."""

    id: str
    chart: charts.BarChart
    caption: str


@bp.get("/")
def dashboard():
    """Charts of the last 30 days, open orders by status, locked accounts, recent events."""
    today = stats.today_utc()
    daily = stats.orders_per_day(today)
    locked, more_locked = stats.locked_accounts()
    return render_template(
        "admin/dashboard.html",
        today=today, totals=stats.totals(), figures=_figures(today, daily),
        orders_today=daily.orders[-1][1], revenue_today=daily.revenue[-1][1],
        open_orders=stats.open_orders_by_status(), locked=locked, more_locked=more_locked,
        events=stats.recent_events(), unlock_form=UnlockForm(),
    )


def _figures(today, daily: stats.DailyOrders) -> list[Figure]:
    days = stats.WINDOW_DAYS
    return [
        Figure("chart-signups", charts.bar_chart(stats.signups_per_day(today), "Sign-ups per day"),
               f"Accounts created per day, last {days} days (UTC)."),
        Figure("chart-orders", charts.bar_chart(daily.orders, "Orders per day"),
               f"Orders placed per day, whatever their status now, last {days} days (UTC)."),
        Figure("chart-revenue", charts.bar_chart(daily.revenue, "Revenue per day",
                                                 format_value=money, whole=False),
               f"The totals of the orders placed each day, cancelled orders left out, "
               f"last {days} days (UTC)."),
    ]


@bp.post("/unlock")
def unlock():
    """Lift the lock of the email in the form (audited by the service), then back to
    the dashboard with a message saying what happened.

    :raise 400: no CSRF token, or no email or one longer than an email can be.
    """
    form = UnlockForm()
    if not form.validate_on_submit():
        abort(400, f"An email of at most {EMAIL_LENGTH} characters is needed to unlock it.")
    email = normalize_email(form.email.data)
    try:
        service.unlock(email)
    except service.AccountError as error:
        # Most likely a stale page: the lock was lifted and the account never existed.
        flash(f"Nothing to unlock: {error}.", "error")
    else:
        flash(f"{email} is unlocked.", "success")
    return redirect(url_for("admin.dashboard", _anchor="locked"))
