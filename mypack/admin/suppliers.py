"""The suppliers admin: listed with their number of items, created, edited, deleted
(one with items only when asked to leave them without a supplier). The rules live in
``mypack.menu.service``."""

from __future__ import annotations

from flask import render_template, url_for
from sqlalchemy import func, select

from mypack.admin.console import bp
from mypack.admin.lists import YES_NO, Column, Filter, ModelList, contains_any
from mypack.admin.views import confirm_delete, csv_export, list_page
from mypack.extensions import db
from mypack.menu import service
from mypack.menu.editing import supplier_form
from mypack.menu.forms import DeleteSupplierForm
from mypack.menu.models import MenuItem, Supplier

#: How many items a supplier has, as a column of the supplier's row.
ITEM_COUNT = (select(func.count(MenuItem.id)).where(MenuItem.supplier_id == Supplier.id)
              .correlate(Supplier).scalar_subquery())

SUPPLIERS = ModelList(
    statement=lambda: select(Supplier, ITEM_COUNT), scalars=False,
    columns=[Column("name", "Name", func.lower(Supplier.name)),
             Column("email", "Email", func.lower(Supplier.email)),
             Column("phone", "Phone"),
             Column("items", "Items", ITEM_COUNT)],
    default_sort="name", tiebreak=Supplier.id,
    search=contains_any(Supplier.name, Supplier.email, Supplier.phone, Supplier.notes),
    filters=[Filter("has_items", "Has items", lambda: YES_NO,
                    lambda value: (ITEM_COUNT > 0) if value == "yes" else (ITEM_COUNT == 0))],
    export=[("id", lambda row: row[0].id), ("name", lambda row: row[0].name),
            ("email", lambda row: row[0].email), ("phone", lambda row: row[0].phone),
            ("items", lambda row: row[1]), ("notes", lambda row: row[0].notes)],
)


@bp.get("/suppliers")
def suppliers():
    """Suppliers with their number of items; search and a has-items filter."""
    return list_page(SUPPLIERS, "admin/suppliers.html", "Suppliers")


@bp.get("/suppliers.csv")
def suppliers_csv():
    """The filtered list of suppliers as CSV."""
    return csv_export(SUPPLIERS, "suppliers")


@bp.route("/suppliers/new", methods=["GET", "POST"])
def supplier_new():
    """Add a supplier."""
    return _supplier_form(None, "Supplier added: {}.")


@bp.route("/suppliers/<int:supplier_id>", methods=["GET", "POST"])
def supplier_edit(supplier_id: int):
    """Change a supplier.

    :raise 404: no such supplier.
    """
    return _supplier_form(db.get_or_404(Supplier, supplier_id), "Supplier saved: {}.")


def _supplier_form(supplier: Supplier | None, done: str):
    return supplier_form(supplier, done, "admin.suppliers", lambda form: render_template(
        "admin/form.html", form=form,
        heading=f"Supplier {supplier.name}" if supplier else "New supplier",
        back_url=url_for("admin.suppliers"),
        delete_url=url_for("admin.supplier_delete", supplier_id=supplier.id)
        if supplier else None))


@bp.route("/suppliers/<int:supplier_id>/delete", methods=["GET", "POST"])
def supplier_delete(supplier_id: int):
    """Confirm, then delete a supplier. One with items is deleted only when the form
    says to leave them without a supplier; else refused (409).

    :raise 404: no such supplier.
    """
    supplier = db.get_or_404(Supplier, supplier_id)
    name, items = supplier.name, service.supplier_items(supplier)

    def delete(form) -> str:
        detached = service.delete_supplier(supplier, detach=form.detach.data)
        return f"Supplier deleted: {name}." + (
            f" {detached} item(s) now have no supplier." if detached else "")

    listed = ", ".join(item.name for item in items[:10]) + ("…" if len(items) > 10 else "")
    return confirm_delete(
        name, delete, service.SupplierHasItems, form=DeleteSupplierForm(),
        list_endpoint="admin.suppliers",
        back_url=url_for("admin.supplier_edit", supplier_id=supplier_id),
        consequence=f"{name} goes for good." + (
            f" It has {len(items)} item(s) ({listed}): tick the box to leave them on the "
            "menu without a supplier." if items else ""))
