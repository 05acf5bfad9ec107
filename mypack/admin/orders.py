"""The orders admin: listed with search and filters, each with its lines; moved on
through the same transitions as the staff queue; placed for a customer; deleted only
when cancelled. The rules live in ``mypack.orders.service``."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import flash, redirect, render_template, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from mypack.admin.console import bp
from mypack.admin.forms import NewOrderForm, OrderMoveForm
from mypack.admin.lists import Column, Filter, ModelList
from mypack.admin.views import confirm_delete, csv_export, form_status, list_page
from mypack.auth.models import User
from mypack.auth.service import find_user
from mypack.database import MAX_ID, utcnow
from mypack.extensions import db
from mypack.menu.models import MenuItem
from mypack.orders import service
from mypack.orders.models import STATUSES, TRANSITIONS, Order, OrderLine

#: The period filter: label and how far back it reaches.
PERIODS = {"today": ("today (UTC)", 0), "7d": ("last 7 days", 7), "30d": ("last 30 days", 30)}
LINE_COUNT = (select(func.count(OrderLine.id)).where(OrderLine.order_id == Order.id)
              .correlate(Order).scalar_subquery())


def _search(text: str):
    """An order number (``12`` or ``#12``), or part of the customer's email or name."""
    number = text.removeprefix("#")
    by_customer = or_(User.email.icontains(text, autoescape=True),
                      User.display_name.icontains(text, autoescape=True))
    if number.isdigit() and len(number) <= len(str(MAX_ID)):
        return or_(Order.id == int(number), by_customer)
    return by_customer


def _since(period: str):
    days = PERIODS[period][1]
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
    return Order.created_at >= start


ORDERS = ModelList(
    statement=lambda: select(Order, LINE_COUNT).join(Order.customer), scalars=False,
    options=[joinedload(Order.customer)],
    columns=[Column("id", "Order", Order.id),
             Column("customer", "Customer", func.lower(User.email)),
             Column("status", "Status", Order.status),
             Column("lines", "Lines", LINE_COUNT),
             Column("total", "Total", Order.total),
             Column("created", "Placed", Order.created_at),
             Column("updated", "Changed", Order.updated_at)],
    default_sort="id", default_descending=True, tiebreak=Order.id, search=_search,
    filters=[Filter("status", "Status", lambda: [(s, s) for s in STATUSES],
                    lambda status: Order.status == status),
             Filter("period", "Placed", lambda: [(k, v[0]) for k, v in PERIODS.items()],
                    _since)],
    export=[("id", lambda row: row[0].id), ("customer", lambda row: row[0].customer.email),
            ("status", lambda row: row[0].status), ("lines", lambda row: row[1]),
            ("total", lambda row: row[0].total), ("placed", lambda row: row[0].created_at),
            ("changed", lambda row: row[0].updated_at)],
)


@bp.get("/orders")
def orders():
    """Orders, newest first; search by number or customer, status and period filters."""
    return list_page(ORDERS, "admin/orders.html", "Orders")


@bp.get("/orders.csv")
def orders_csv():
    """The filtered list of orders as CSV (one row per order)."""
    return csv_export(ORDERS, "orders")


@bp.route("/orders/<int:order_id>", methods=["GET", "POST"])
def order_edit(order_id: int):
    """An order with its lines, and the form that moves it on (the queue's
    transitions; a change made meanwhile by someone else is a 409, not overwritten).

    :raise 404: no such order.
    """
    order = _order_with_lines(order_id)
    form = OrderMoveForm(allowed=TRANSITIONS[order.status])
    if form.validate_on_submit():
        try:
            service.move(order.id, form.seen.data, form.status.data)
        except service.OrderError as refused:
            form.form_errors.append(str(refused))
        except service.OrderConflict as conflict:
            flash(str(conflict), "error")
            db.session.expire_all()
            return _order_page(_order_with_lines(order_id)), 409
        else:
            flash(f"Order {order.id} is {form.status.data} now.", "success")
            return redirect(url_for("admin.order_edit", order_id=order.id))
    return _order_page(order, form), form_status(form)


def _order_with_lines(order_id: int) -> Order:
    return db.first_or_404(select(Order).where(Order.id == order_id).options(
        selectinload(Order.lines).selectinload(OrderLine.item), joinedload(Order.customer)))


def _order_page(order: Order, form: OrderMoveForm | None = None) -> str:
    """The order page; a fresh move form (the status seen now) unless ``form`` has errors."""
    if form is None or not form.errors:
        form = OrderMoveForm(formdata=None, allowed=TRANSITIONS[order.status])
    form.seen.data = order.status
    return render_template("admin/order.html", order=order, form=form)


@bp.route("/orders/new", methods=["GET", "POST"])
def order_new():
    """Place an order for a customer (a telephone order, a correction), with the
    menu's rules: available items, quantities from 1 to 50, today's prices."""
    items = [(item.id, f"{item.name} ({item.price})") for item in db.session.scalars(
        select(MenuItem).where(MenuItem.available.is_(True)).order_by(func.lower(MenuItem.name)))]
    form = NewOrderForm(items=items)
    if not form.is_submitted():
        form.key.data = secrets.token_urlsafe(24)
    if form.validate_on_submit():
        customer = find_user(form.email.data)
        if customer is None or not customer.active:
            form.email.errors.append("No active account has this email.")
        else:
            try:
                order = service.place_order(customer, form.quantities(), form.key.data)
            except service.OrderError as refused:
                form.form_errors.append(str(refused))
            else:
                flash(f"Order {order.id} placed for {customer.email}.", "success")
                return redirect(url_for("admin.order_edit", order_id=order.id))
    return render_template("admin/order_new.html", form=form, heading="New order",
                           back_url=url_for("admin.orders")), form_status(form)


@bp.route("/orders/<int:order_id>/delete", methods=["GET", "POST"])
def order_delete(order_id: int):
    """Confirm, then delete a cancelled order; any other is refused (409).

    :raise 404: no such order.
    """
    order = db.get_or_404(Order, order_id)
    cancelled = order.status == "cancelled"

    def delete(form) -> str:
        service.delete_cancelled(order_id)
        return f"Order {order_id} deleted."

    return confirm_delete(
        f"order {order_id}", delete, service.OrderError, list_endpoint="admin.orders",
        back_url=url_for("admin.order_edit", order_id=order_id),
        consequence="The order and its lines go for good." if cancelled else None,
        blocker=None if cancelled else service.not_deletable(order))
