"""The menu items admin: listed with search and filters, created, edited, deleted
(refused for items on orders, which can be marked unavailable instead), and marked
unavailable or available in bulk. The rules live in ``mypack.menu.service``."""

from __future__ import annotations

from collections.abc import Iterator

from flask import render_template, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from mypack.admin.console import bp
from mypack.admin.lists import YES_NO, Column, Filter, ModelList, contains_any
from mypack.admin.views import bulk_action, confirm_delete, csv_export, list_page
from mypack.extensions import db
from mypack.menu import service
from mypack.menu.editing import item_form
from mypack.menu.models import CATEGORIES, MenuItem, Supplier


def _supplier_filter_choices() -> list[tuple[str, str]]:
    return [("none", "(none)"), *((str(i), name) for i, name in service.supplier_choices())]


def _by_supplier(value: str):
    return MenuItem.supplier_id.is_(None) if value == "none" else MenuItem.supplier_id == int(value)


ITEMS = ModelList(
    statement=lambda: select(MenuItem).outerjoin(MenuItem.supplier),
    options=[joinedload(MenuItem.supplier)],
    columns=[Column("name", "Name", func.lower(MenuItem.name)),
             Column("category", "Category", MenuItem.category),
             Column("price", "Price", MenuItem.price),
             Column("available", "Available", MenuItem.available),
             Column("supplier", "Supplier", func.lower(Supplier.name)),
             Column("updated", "Changed", MenuItem.updated_at)],
    default_sort="name", tiebreak=MenuItem.id,
    search=contains_any(MenuItem.name, MenuItem.description),
    filters=[Filter("category", "Category", lambda: [(c, c) for c in CATEGORIES],
                    lambda category: MenuItem.category == category),
             Filter("available", "Available", lambda: YES_NO,
                    lambda value: MenuItem.available.is_(value == "yes")),
             Filter("supplier", "Supplier", _supplier_filter_choices, _by_supplier)],
    export=[("id", lambda i: i.id), ("name", lambda i: i.name),
            ("category", lambda i: i.category), ("price", lambda i: i.price),
            ("available", lambda i: i.available),
            ("supplier", lambda i: i.supplier.name if i.supplier else ""),
            ("description", lambda i: i.description), ("changed", lambda i: i.updated_at)],
)

ACTIONS = {"unavailable": "Mark not available", "available": "Mark available"}


@bp.get("/items")
def items():
    """Menu items with their suppliers; search, category, availability and supplier
    filters."""
    return list_page(ITEMS, "admin/items.html", "Menu items", actions=ACTIONS)


@bp.get("/items.csv")
def items_csv():
    """The filtered list of items as CSV."""
    return csv_export(ITEMS, "items")


@bp.post("/items/bulk")
def items_bulk():
    """Mark the ticked items not available (or available again)."""
    return bulk_action(ACTIONS, "admin.items", _apply)


def _apply(action: str, ids: list[int]) -> Iterator[str]:
    found = service.set_available(ids, action == "available")
    yield from (f"Item {item_id} does not exist (any more)." for item_id in ids
                if item_id not in found)


@bp.route("/items/new", methods=["GET", "POST"])
def item_new():
    """Add an item to the menu."""
    return _item_form(MenuItem(), "Item added: {}.")


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
def item_edit(item_id: int):
    """Change an item.

    :raise 404: no such item.
    """
    return _item_form(db.get_or_404(MenuItem, item_id), "Item saved: {}.")


def _item_form(item: MenuItem, done: str):
    return item_form(item, done, "admin.items", lambda form: render_template(
        "admin/form.html", form=form, heading=f"Item {item.name}" if item.id else "New item",
        back_url=url_for("admin.items"),
        delete_url=url_for("admin.item_delete", item_id=item.id) if item.id else None))


@bp.route("/items/<int:item_id>/delete", methods=["GET", "POST"])
def item_delete(item_id: int):
    """Confirm, then delete an item; one on orders is refused (409): mark it not
    available instead.

    :raise 404: no such item.
    """
    item = db.get_or_404(MenuItem, item_id)
    name, orders = item.name, service.orders_with_item(item)

    def delete(form) -> str:
        service.delete_item(item)
        return f"Item deleted: {name}."

    return confirm_delete(
        name, delete, service.ItemOnOrders, list_endpoint="admin.items",
        back_url=url_for("admin.item_edit", item_id=item_id),
        blocker=str(service.ItemOnOrders(item, orders)) if orders else None,
        consequence=None if orders else
        f"{name} ({item.category}, {item.price}) leaves the menu for good.")
