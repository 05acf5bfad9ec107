"""The staff queue: open orders, oldest first, with a button for each allowed next
status. Each button sends the status the staff member saw: of two people moving the
same order at once, the second gets a message instead of a silent overwrite.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from mypack.auth.roles import role_required
from mypack.orders import service
from mypack.orders.forms import MoveForm
from mypack.orders.models import TRANSITIONS
from mypack.orders.views import bp

#: The button for moving an order to each status.
ACTIONS = {
    "preparing": "Start preparing",
    "ready": "Mark ready",
    "collected": "Mark collected",
    "cancelled": "Cancel order",
}


@bp.get("/staff/queue")
@role_required("staff")
def queue():
    """Open orders (placed, preparing, ready), oldest first, with their customers."""
    return render_template("staff/queue.html", orders=service.open_orders(),
                           transitions=TRANSITIONS, actions=ACTIONS)


@bp.post("/staff/queue/<int:order_id>")
@role_required("staff")
def move(order_id: int):
    """Move an order from the status the staff member saw to the one they chose.

    :raise 400: an unknown status.
    :raise 404: no such order.
    :raise 409: a move the transitions do not allow.
    """
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400, "Unknown status.")
    try:
        order = service.move(order_id, form.seen.data, form.status.data)
    except service.OrderConflict as conflict:
        # Someone else moved it first (or the customer cancelled): show the queue as it is.
        flash(str(conflict), "warning")
    else:
        flash(f"Order {order.id} is {order.status} now.", "success")
    return redirect(url_for("orders.queue"))
