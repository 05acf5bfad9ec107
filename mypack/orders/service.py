"""Placing, cancelling and moving orders, with their rules, whoever asks (the pages,
later the API). Each operation is one transaction.

Concurrency: placing an order reads prices and writes new rows only, so concurrent
customers never wait on each other. Status changes are conditional updates
("move from the status I saw"): of two staff members moving the same order at
once, one wins and the other gets OrderConflict; no order reaches a state the
transitions do not allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from mypack.auth import confirmation
from mypack.auth.models import User
from mypack.database import commit_retrying_deadlocks, utcnow
from mypack.exceptions import Conflict, NotFound
from mypack.extensions import db
from mypack.menu.models import MenuItem
from mypack.orders.models import (
    MAX_QUANTITY,
    MIN_QUANTITY,
    OPEN_STATUSES,
    STATUSES,
    TRANSITIONS,
    Order,
    OrderLine,
)
from mypack.outbox import service as outbox

#: The most different items one order may hold.
MAX_LINES = 30


class OrderError(Conflict):
    """The order cannot be placed, moved or deleted as asked, the menu and the order
    being what they are now; the message says why, ``fields`` which value."""

    def __init__(self, message: str, field: str = "lines") -> None:
        super().__init__(message, {field: [message]})


class OrderConflict(Conflict):
    """The order changed meanwhile (another staff member, the customer); nothing was done."""


def _no_such_order() -> NotFound:
    return NotFound("No such order.")


def place_order(user, quantities: Mapping[int, int], submission_key: str) -> Order:
    """Place an order of ``{item id: quantity}`` for ``user`` in one transaction.

    Prices are copied from the items now. A second call with the same
    ``submission_key`` returns the first order instead of placing another.

    :raise OrderError: no items, a quantity outside 1-50, an unknown or unavailable item.
    :raise EmailUnconfirmed: the user has not confirmed their address.
    """
    confirmation.require_confirmed(user)
    wanted = {int(item_id): quantity for item_id, quantity in quantities.items() if quantity}
    try:
        lines = _priced_lines(wanted)
    except OrderError:
        # A resubmission finds its order even if the menu has changed since.
        existing = _order_by_key(user, submission_key)
        if existing is not None:
            return existing
        raise
    order = Order(user_id=user.id, status="placed", submission_key=submission_key,
                  total=sum((line.unit_price * line.quantity for line in lines), Decimal("0")),
                  lines=lines)
    db.session.add(order)
    try:
        db.session.flush()  # the order's number, for its receipt
        # The receipt commits with the order, or neither does (mypack.outbox).
        outbox.enqueue("order_receipt", user.email, receipt(order, user))
        db.session.commit()
    except IntegrityError:
        # The key is taken: this confirmation placed its order before (a double click,
        # a retry), or concurrently. Only the unique key is looked at, so the common
        # case costs no lookup.
        db.session.rollback()
        existing = _order_by_key(user, submission_key)
        if existing is None:  # a key of someone else's order: a forged or stale form
            raise OrderError("This confirmation is no longer valid; please review the "
                             "order again.") from None
        return existing
    return order


def receipt(order: Order, user) -> dict:
    """What an order's receipt says, fixed when it is placed."""
    return {"name": user.display_name, "order_id": order.id,
            "placed_at": order.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            "total": str(order.total),
            "lines": [{"name": line.item.name, "quantity": line.quantity,
                       "unit_price": str(line.unit_price),
                       "amount": str(line.unit_price * line.quantity)}
                      for line in order.lines]}


def _priced_lines(wanted: Mapping[int, int]) -> list[OrderLine]:
    """The lines of an order of ``wanted`` at today's prices (one query).

    :raise OrderError: as :func:`place_order`.
    """
    items = _orderable_items(wanted)
    return [OrderLine(item_id=item_id, item=items[item_id], quantity=quantity,
                      unit_price=items[item_id].price)
            for item_id, quantity in sorted(wanted.items())]


def _orderable_items(wanted: Mapping[int, int]) -> dict[int, MenuItem]:
    """The items of an order of ``wanted`` by id (one query), once its quantities and
    items are checked: the one check of :func:`place_order` and :func:`price_quote`.

    :raise OrderError: as :func:`place_order` (the message names the items).
    """
    _check_quantities(wanted)
    items = {item.id: item for item in db.session.scalars(
        select(MenuItem).where(MenuItem.id.in_(wanted)))}
    missing = sorted(set(wanted) - set(items))
    if missing:
        raise OrderError(f"Unknown item(s): {', '.join(map(str, missing))}.")
    unavailable = sorted(item.name for item in items.values() if not item.available)
    if unavailable:
        raise OrderError(f"Not available any more: {', '.join(unavailable)}.")
    return items


def _check_quantities(wanted: Mapping[int, int]) -> None:
    if not wanted:
        raise OrderError("Choose at least one item.")
    if len(wanted) > MAX_LINES:
        raise OrderError(f"An order holds at most {MAX_LINES} different items.")
    for quantity in wanted.values():
        if not isinstance(quantity, int) or not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise OrderError(f"Quantities are whole numbers from {MIN_QUANTITY} "
                             f"to {MAX_QUANTITY}.")


def _order_by_key(user, submission_key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.submission_key == submission_key,
                                                 Order.user_id == user.id))


def price_quote(quantities: Mapping[int, int]) -> tuple[list[tuple[MenuItem, int]], Decimal]:
    """The lines and total an order of these quantities would have now (for the review).

    :raise OrderError: as :func:`place_order` would.
    """
    wanted = {int(item_id): quantity for item_id, quantity in quantities.items() if quantity}
    items = _orderable_items(wanted)
    lines = [(items[item_id], quantity) for item_id, quantity in sorted(wanted.items())]
    return lines, sum((item.price * quantity for item, quantity in lines), Decimal("0"))


# --- reading ------------------------------------------------------------------------------

def customer_order(user, order_id: int) -> Order | None:
    """One of the user's orders with its lines and items (2 queries), or None."""
    return db.session.scalar(
        select(Order).where(Order.id == order_id, Order.user_id == user.id)
        .options(selectinload(Order.lines).selectinload(OrderLine.item)))


def customer_orders(user) -> list[Order]:
    """The user's orders, newest first (1 query)."""
    return list(db.session.scalars(
        select(Order).where(Order.user_id == user.id).order_by(Order.id.desc())))


def open_orders() -> list[Order]:
    """The queue: open orders, oldest first, with lines, items and customers (4 queries)."""
    return list(db.session.scalars(
        select(Order).where(Order.status.in_(OPEN_STATUSES)).order_by(Order.id)
        .options(selectinload(Order.lines).selectinload(OrderLine.item),
                 selectinload(Order.customer))))


# --- changing -----------------------------------------------------------------------------

def cancel(user, order_id: int) -> Order:
    """The customer cancels their own order while it is still placed.

    :raise NotFound: no such order of theirs.
    :raise OrderConflict: it is no longer placed.
    """
    order = customer_order(user, order_id)
    if order is None:
        raise _no_such_order()
    return _move(order.id, "placed", "cancelled", by_customer=True)


def move(order_id: int, seen_status: str, new_status: str) -> Order:
    """Staff move an order from the status they saw to the next one.

    :raise NotFound: no such order.
    :raise OrderError: that move is not allowed from ``seen_status`` (its field: ``to``).
    :raise OrderConflict: the order is no longer in ``seen_status``.
    """
    if seen_status not in STATUSES or new_status not in TRANSITIONS[seen_status]:
        raise OrderError(f"An order cannot go from {seen_status} to {new_status}.",
                         field="to")
    if db.session.get(Order, order_id) is None:
        raise _no_such_order()
    return _move(order_id, seen_status, new_status)


#: The moves a customer is told of by mail (if they want mail of order updates).
NOTICES = {"ready": "order_ready", "cancelled": "order_cancelled"}
#: The most reminders one run writes: a backlog is worked off over several runs.
REMINDERS_PER_RUN = 500


def _move(order_id: int, seen_status: str, new_status: str,
          by_customer: bool = False) -> Order:
    # The WHERE on the seen status makes the change conditional: a concurrent mover
    # who got there first leaves no row to update.
    def notify(result) -> None:
        # The notice commits with the move, or neither does (mypack.outbox).
        if result.rowcount == 1 and new_status in NOTICES:
            _notice(order_id, NOTICES[new_status], by_customer)

    result = commit_retrying_deadlocks(db.session, (
        update(Order).where(Order.id == order_id, Order.status == seen_status)
        .values(status=new_status, updated_at=utcnow())), then=notify)
    order = db.session.get_one(Order, order_id)  # a move never deletes it
    db.session.refresh(order)
    if result.rowcount != 1:
        raise OrderConflict(f"Order {order_id} is {order.status} now; it was not changed.")
    return order


def _notice(order_id: int, kind: str, by_customer: bool) -> None:
    """Write the mail of an order's move to the outbox, unless its customer turned
    mail of order updates off."""
    customer = db.session.execute(
        select(User.email, User.display_name, User.mail_order_updates)
        .join(Order, Order.user_id == User.id).where(Order.id == order_id)).one()
    if customer.mail_order_updates:
        outbox.enqueue(kind, customer.email, {"name": customer.display_name,
                                              "order_id": order_id,
                                              "by_customer": by_customer})


def delete_cancelled(order_id: int) -> None:
    """Delete a cancelled order and its lines (the admin console tidying up). Other
    orders stay: open ones must be cancelled first, collected ones are sales.

    :raise NotFound: no such order.
    :raise OrderError: it is not cancelled (or stopped being so meanwhile).
    """
    order = db.session.get(Order, order_id)
    if order is None:
        raise _no_such_order()
    # Conditional, like a move: nothing goes if the status changed since the check.
    result = commit_retrying_deadlocks(db.session, delete(Order).where(
        Order.id == order_id, Order.status == "cancelled"))
    if result.rowcount != 1:
        db.session.refresh(order)
        raise OrderError(not_deletable(order), field="status")


def not_deletable(order: Order) -> str:
    """Why an order that is not cancelled cannot be deleted."""
    return (f"Order {order.id} is {order.status}: only cancelled orders can be deleted "
            "(collected ones are sales records; cancel open ones first).")


def remind_uncollected(after_minutes: float) -> int:
    """Remind the customers of orders ready for longer than ``after_minutes`` and not
    collected, once an order (if they want mail of order updates); how many orders.

    Each order is marked in the same transaction as its mail, by a conditional UPDATE:
    two runs at once never remind twice.
    """
    since = utcnow() - timedelta(minutes=after_minutes)
    waiting = db.session.scalars(
        select(Order.id).where(Order.status == "ready", Order.updated_at < since,
                               Order.reminded_at.is_(None))
        .order_by(Order.id).limit(REMINDERS_PER_RUN)).all()
    reminded = 0
    for order_id in waiting:
        def notify(result, order_id=order_id) -> None:
            if result.rowcount == 1:
                _notice(order_id, "order_reminder", by_customer=False)
        result = commit_retrying_deadlocks(db.session, (
            update(Order).where(Order.id == order_id, Order.status == "ready",
                                Order.reminded_at.is_(None))
            # updated_at stays: it says since when the order is ready.
            .values(reminded_at=utcnow(), updated_at=Order.updated_at)), then=notify)
        reminded += result.rowcount
    return reminded
