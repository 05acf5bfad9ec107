"""Reading the menu and changing it, with the rules that protect orders.

An item on an order cannot be deleted (the order line points at it): it can be
marked unavailable instead. A supplier with items is deleted only when asked to
leave its items without a supplier. Each change is one transaction; a concurrent
change between the check and the commit (an order placed, an item added, the same
supplier name saved twice) is caught by the database's constraints and reported
as the check would have reported it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, Select, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from mypack.database import references
from mypack.exceptions import Conflict
from mypack.extensions import db
from mypack.menu.cache import menu_changed
from mypack.menu.models import CATEGORIES, MenuItem, Supplier


class ItemOnOrders(Conflict):
    """The item is on ``orders`` orders; nothing was deleted."""

    def __init__(self, item: MenuItem, orders: int):
        super().__init__(f"{item.name} is on {orders} order(s), which must keep it: mark it "
                         "not available instead.")
        self.item, self.orders = item, orders


class SupplierHasItems(Conflict):
    """The supplier still has ``items``; nothing was deleted."""

    def __init__(self, supplier: Supplier, items: list[MenuItem]):
        super().__init__(f"{supplier.name} still has {len(items)} item(s).", {
            "detach": ["Delete with detach to keep its items on the menu without a "
                       "supplier."]})
        self.supplier, self.items = supplier, items


class SupplierNameTaken(Conflict):
    """Another supplier has this name; nothing was saved."""

    def __init__(self, name: str):
        super().__init__(NAME_TAKEN, {"name": [NAME_TAKEN]})
        self.name = name


class SupplierGone(Conflict):
    """The item's supplier does not exist (or was deleted meanwhile); nothing was saved."""

    def __init__(self, message: str = "The supplier was deleted meanwhile.") -> None:
        super().__init__(message, {"supplier_id": ["No supplier with this id."]})


NAME_TAKEN = "Another supplier has this name."


# --- reading ------------------------------------------------------------------------------

def _menu_order():
    """Categories in the menu's order, then names whatever the backend's collation."""
    rank = case({name: rank for rank, name in enumerate(CATEGORIES)},
                value=MenuItem.category, else_=len(CATEGORIES))
    return rank, func.lower(MenuItem.name), MenuItem.id


def menu_items(search: str = "", category: str | None = None) -> Select:
    """The items whose name contains ``search`` (any case; ``%`` and ``_`` are plain
    characters) in ``category``, in menu order."""
    statement = select(MenuItem)
    if search:
        statement = statement.where(MenuItem.name.icontains(search, autoescape=True))
    if category:
        statement = statement.where(MenuItem.category == category)
    return statement.order_by(*_menu_order())


def suppliers_with_item_counts() -> Select:
    """Rows of (supplier, number of items), by name."""
    counts = (select(MenuItem.supplier_id, func.count().label("item_count"))
              .group_by(MenuItem.supplier_id).subquery())
    return (select(Supplier, func.coalesce(counts.c.item_count, 0))
            .outerjoin(counts, counts.c.supplier_id == Supplier.id)
            .order_by(func.lower(Supplier.name), Supplier.id))


def supplier_items(supplier: Supplier) -> list[MenuItem]:
    """The supplier's items, in menu order."""
    return list(db.session.scalars(
        select(MenuItem).where(MenuItem.supplier_id == supplier.id).order_by(*_menu_order())))


def supplier_choices() -> list[tuple[int, str]]:
    """(id, name) of every supplier, by name, for a select."""
    return [(supplier_id, name) for supplier_id, name in db.session.execute(
        select(Supplier.id, Supplier.name).order_by(func.lower(Supplier.name)))]


def orders_with_item(item: MenuItem) -> int:
    """How many orders the item is on (an order has one line per item)."""
    # Order lines reference their item; orders are a layer above the menu, so their
    # foreign key is asked rather than their model imported.
    return references(db.session, item).get("order_lines", 0)


def supplier_name_taken(name: str, supplier: Supplier | None = None) -> bool:
    """Whether another supplier has ``name``, in any case (MySQL's unique index
    ignores case; the others' does not: the rule is the same on all three)."""
    statement = select(Supplier.id).where(func.lower(Supplier.name) == name.lower())
    if supplier is not None and supplier.id is not None:
        statement = statement.where(Supplier.id != supplier.id)
    return db.session.scalar(statement.limit(1)) is not None


# --- changing -----------------------------------------------------------------------------

def save_item(item: MenuItem) -> None:
    """Add or update the item.

    :raise SupplierGone: its supplier does not exist, or was deleted meanwhile;
        nothing was saved.
    """
    if item.supplier_id is not None:
        with db.session.no_autoflush:  # the check must not write the pending change
            exists = db.session.get(Supplier, item.supplier_id) is not None
        if not exists:
            db.session.rollback()
            raise SupplierGone("The supplier does not exist.")
    db.session.add(item)
    try:
        db.session.commit()
    except IntegrityError:
        # The supplier was there a moment ago; only its deletion since fails the key.
        db.session.rollback()
        raise SupplierGone() from None
    menu_changed()


def delete_item(item: MenuItem) -> None:
    """Delete an item that is on no order.

    :raise ItemOnOrders: it is on orders (or got on one meanwhile).
    """
    orders = orders_with_item(item)
    if orders:
        raise ItemOnOrders(item, orders)
    db.session.delete(item)
    try:
        db.session.commit()
    except IntegrityError:
        # An order with this item was placed between the count and the delete.
        db.session.rollback()
        raise ItemOnOrders(item, orders_with_item(item)) from None
    menu_changed()


def mark_unavailable(item: MenuItem) -> None:
    """Take the item off sale; orders that have it keep it."""
    item.available = False
    db.session.commit()
    menu_changed()


def set_available(item_ids: Iterable[int], available: bool) -> set[int]:
    """Put items on sale or take them off, in one statement; returns the ids that
    exist (the others are ignored). Orders that have them keep them."""
    found = set(db.session.scalars(select(MenuItem.id).where(MenuItem.id.in_(item_ids))))
    if found:
        db.session.execute(update(MenuItem).where(MenuItem.id.in_(found))
                           .values(available=available))
    db.session.commit()
    menu_changed()
    return found


def save_supplier(supplier: Supplier) -> None:
    """Add or update the supplier.

    :raise SupplierNameTaken: another supplier has its name (saved meanwhile, or equal
        under the database's collation); nothing was saved.
    """
    with db.session.no_autoflush:  # the check must not write the pending change
        taken = supplier_name_taken(supplier.name, supplier)
    if taken:
        db.session.rollback()
        raise SupplierNameTaken(supplier.name)
    db.session.add(supplier)
    try:
        db.session.commit()
    except IntegrityError:
        # The form checked the name; a concurrent save of the same name, or a name
        # the database's collation equates (MySQL: "Café" = "Cafe"), got there first.
        db.session.rollback()
        raise SupplierNameTaken(supplier.name) from None


def delete_supplier(supplier: Supplier, detach: bool = False) -> int:
    """Delete the supplier; with ``detach``, its items stay on the menu without one.
    Returns how many items were detached.

    :raise SupplierHasItems: it has items and ``detach`` is false (or an item was
        added meanwhile); nothing was changed.
    """
    items = supplier_items(supplier)
    if items and not detach:
        raise SupplierHasItems(supplier, items)
    detached = 0
    if items:
        detached = cast(CursorResult[Any], db.session.execute(
            update(MenuItem).where(MenuItem.supplier_id == supplier.id)
            .values(supplier_id=None))).rowcount
    # A DELETE statement, not session.delete(): the ORM would quietly detach any item
    # it finds at flush time; the statement leaves that to the foreign key, which
    # refuses the delete if an item was added since the check.
    try:
        db.session.execute(delete(Supplier).where(Supplier.id == supplier.id))
        db.session.commit()
    except IntegrityError:
        # An item of this supplier was saved after the check.
        db.session.rollback()
        raise SupplierHasItems(supplier, supplier_items(supplier)) from None
    if detached:
        menu_changed()
    return detached
