"""The menu: suppliers and the items the café sells."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mypack.database import utcnow
from mypack.extensions import Model

#: Menu categories, in the order the menu shows them.
CATEGORIES = ("coffee", "tea", "food", "other")
#: Prices are exact decimals with two places, the same on every backend.
Price = Numeric(10, 2, asdecimal=True)


class Supplier(Model):
    """Who delivers an item: a roaster, a bakery, a tea merchant."""

    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    items: Mapped[list[MenuItem]] = relationship(back_populates="supplier")

    def __repr__(self) -> str:
        return f"<Supplier {self.id} {self.name}>"


class MenuItem(Model):
    """Something on the menu, with its price."""

    __tablename__ = "menu_items"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("category IN ('coffee', 'tea', 'food', 'other')", name="category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal] = mapped_column(Price)
    available: Mapped[bool] = mapped_column(default=True)
    # An item outlives its supplier: deleting a supplier that still has items needs
    # the staff member's explicit choice to leave them without one (never orphans).
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    supplier: Mapped[Supplier | None] = relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"<MenuItem {self.id} {self.name} {self.price}>"
