"""Orders: who ordered which items at which price, and where the order stands."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mypack.auth.models import User
from mypack.database import utcnow
from mypack.extensions import Model
from mypack.menu.models import MenuItem, Price

#: Every status, in the order an order moves through them.
STATUSES = ("placed", "preparing", "ready", "collected", "cancelled")
#: Where an order may go from each status; nothing leaves collected or cancelled.
TRANSITIONS = {
    "placed": ("preparing", "cancelled"),
    "preparing": ("ready", "cancelled"),
    "ready": ("collected",),
    "collected": (),
    "cancelled": (),
}
#: Orders the queue shows.
OPEN_STATUSES = ("placed", "preparing", "ready")
MIN_QUANTITY, MAX_QUANTITY = 1, 50


class Order(Model):
    """One customer's order."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("status IN ('placed', 'preparing', 'ready', 'collected', 'cancelled')",
                        name="status"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="placed", index=True)
    #: The sum of the lines, fixed when the order is placed.
    total: Mapped[Decimal] = mapped_column(Price)
    #: The review form's one-time key: a resubmitted confirmation finds its order
    #: instead of placing it twice.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: When its customer was reminded that it waits for collection (once an order).
    reminded_at: Mapped[datetime | None]

    customer: Mapped[User] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order",
                                                  cascade="all, delete-orphan",
                                                  order_by="OrderLine.id")

    def can_become(self, status: str) -> bool:
        """Whether the order may move to ``status`` from where it is."""
        return status in TRANSITIONS[self.status]

    def __repr__(self) -> str:
        return f"<Order {self.id} {self.status} {self.total}>"


class OrderLine(Model):
    """An item in an order, with the quantity and the price at ordering time."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint(f"quantity BETWEEN {MIN_QUANTITY} AND {MAX_QUANTITY}", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    # An item on an order cannot be deleted: the menu marks it unavailable instead.
    item_id: Mapped[int] = mapped_column(ForeignKey("menu_items.id"), index=True)
    quantity: Mapped[int]
    #: Copied from the item when the order was placed: later price changes do not
    #: change this order.
    unit_price: Mapped[Decimal] = mapped_column(Price)

    order: Mapped[Order] = relationship(back_populates="lines")
    item: Mapped[MenuItem] = relationship()

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity
