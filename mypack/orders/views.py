"""The customer's pages: choose quantities, review, confirm; the order list, one order,
cancelling it. Every page needs a login, and another customer's order is a 404: the
pages do not tell which order numbers exist.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mypack.auth import confirmation
from mypack.auth.roles import role_required
from mypack.extensions import db
from mypack.menu.models import CATEGORIES, MenuItem
from mypack.orders import service
from mypack.orders.forms import (
    QUANTITY_PREFIX,
    CancelForm,
    ConfirmForm,
    OrderForm,
    QuantityError,
    read_quantities,
)

bp = Blueprint("orders", __name__)

#: Longest quantity text shown back in a form that was refused.
_SHOWN_LENGTH = 5


@bp.route("/orders/new", methods=["GET", "POST"])
@role_required()
def new():
    """Choose quantities (GET); the review of them with a "Confirm" form (POST).

    A POST with ``change`` (the review's "Change" button) shows the choice again with
    the quantities filled in.

    :raise 400: quantities that are not whole numbers from 0 to 50, none at all, or
        items not on the menu (the choice again, with the reason).
    :raise 403: the customer has not confirmed their email address (a page that says
        so, with a button to send the link again).
    """
    # Told before choosing, not after: the service refuses the order itself.
    confirmation.require_confirmed(current_user)
    form = OrderForm()
    if request.method == "GET":
        return _choice_page()
    if not form.validate_on_submit():
        abort(400)
    try:
        quantities = read_quantities(request.form)
        if "change" in request.form:
            return _choice_page()
        lines, total = service.price_quote(quantities)
    except QuantityError as error:
        return _choice_page(str(error), error.fields), 400
    except service.OrderError as error:
        return _choice_page(str(error)), 400
    confirm_form = ConfirmForm(formdata=None, submission_key=secrets.token_urlsafe(32))
    return render_template("orders/review.html", lines=lines, total=total, form=confirm_form)


@bp.post("/orders/confirm")
@role_required()
def confirm():
    """Place the reviewed order and show it. The service checks the quantities and items
    again and reads the prices now: the hidden fields are only a wish.

    :raise 400: no valid submission key, or one of another customer's orders.
    """
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "This confirmation is not valid. Please review your order again.")
    try:
        quantities = read_quantities(request.form)
        order = service.place_order(current_user._get_current_object(), quantities,
                                    form.submission_key.data)
    except QuantityError as error:
        return _choice_page(str(error), error.fields), 400
    except service.OrderError as error:
        # An item became unavailable since the review, say: choose again.
        return _choice_page(str(error)), 400
    except IntegrityError:
        # Only a key already used by another customer's order gets here (the service
        # finds the customer's own): a tampered form, nothing was written.
        db.session.rollback()
        abort(400, "This confirmation is not valid. Please review your order again.")
    flash(f"Thank you: order {order.id} is placed.", "success")
    return redirect(url_for("orders.detail", order_id=order.id))


@bp.get("/orders", endpoint="list")
@role_required()
def order_list():
    """The customer's orders, newest first."""
    orders = service.customer_orders(current_user._get_current_object())
    return render_template("orders/list.html", orders=orders)


@bp.get("/orders/<int:order_id>")
@role_required()
def detail(order_id: int):
    """One of the customer's orders with its lines.

    :raise 404: no such order of theirs.
    """
    order = service.customer_order(current_user._get_current_object(), order_id)
    if order is None:
        abort(404)
    return render_template("orders/order.html", order=order, cancel_form=CancelForm())


@bp.post("/orders/<int:order_id>/cancel")
@role_required()
def cancel(order_id: int):
    """Cancel the customer's order while it is still ``placed``; later it stays as it is
    and a message says why.

    :raise 404: no such order of theirs.
    """
    if not CancelForm().validate_on_submit():
        abort(400)
    try:
        service.cancel(current_user._get_current_object(), order_id)
    except service.OrderConflict as conflict:
        # The café started on it (or it was cancelled already): too late to cancel.
        flash(f"{conflict} Only an order that is still placed can be cancelled.", "warning")
    else:
        flash(f"Order {order_id} is cancelled.", "success")
    return redirect(url_for("orders.detail", order_id=order_id))


def _choice_page(error: str | None = None, bad_fields: frozenset | set = frozenset()) -> str:
    """The available items by category, with the quantities the request sent, if any."""
    items = db.session.scalars(select(MenuItem).where(MenuItem.available.is_(True))
                               .order_by(MenuItem.name, MenuItem.id)).all()
    groups = [(category, [item for item in items if item.category == category])
              for category in CATEGORIES]
    values = {name: value.strip()[:_SHOWN_LENGTH] for name, value in request.form.items()
              if name.startswith(QUANTITY_PREFIX)}
    return render_template("orders/new.html", form=OrderForm(formdata=None),
                           groups=[group for group in groups if group[1]], values=values,
                           error=error, bad_fields=bad_fields)
