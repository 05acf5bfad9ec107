"""The staff pages under /staff: items and suppliers, listed, created, edited, deleted.

Every page needs the staff role. Deletes show a confirmation page first (GET) and
act on its form (POST); the rules they may break live in ``mypack.menu.service``.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import joinedload

from mypack.auth.roles import role_required
from mypack.extensions import db
from mypack.menu import service
from mypack.menu.editing import form_status, item_form, supplier_form
from mypack.menu.forms import ConfirmForm, DeleteSupplierForm
from mypack.menu.models import MenuItem, Supplier
from mypack.menu.views import bp
from mypack.pages import page_number, paginate

#: Rows on one page of a staff list.
PAGE_SIZE = 50


# --- items --------------------------------------------------------------------------------

@bp.get("/staff/items")
@role_required("staff")
def staff_items():
    """Every item with its supplier, in menu order (two queries per page)."""
    page = paginate(service.menu_items(), page_number(request.args.get("page")), PAGE_SIZE,
                    options=[joinedload(MenuItem.supplier)])
    return render_template("staff/items.html", page=page)


@bp.route("/staff/items/new", methods=["GET", "POST"])
@role_required("staff")
def staff_item_new():
    """Add an item to the menu."""
    return _item_form(MenuItem(), "Item added: {}.")


@bp.route("/staff/items/<int:item_id>/edit", methods=["GET", "POST"])
@role_required("staff")
def staff_item_edit(item_id: int):
    """Change an item.

    :raise 404: no such item.
    """
    return _item_form(db.get_or_404(MenuItem, item_id), "Item saved: {}.")


def _item_form(item: MenuItem, done: str):
    return item_form(item, done, "menu.staff_items", lambda form: render_template(
        "staff/item_form.html", form=form, item=item))


@bp.route("/staff/items/<int:item_id>/delete", methods=["GET", "POST"])
@role_required("staff")
def staff_item_delete(item_id: int):
    """Confirm, then delete an item. One on orders is refused (409) with the offer to
    mark it unavailable.

    :raise 404: no such item.
    """
    item = db.get_or_404(MenuItem, item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = item.name
        try:
            service.delete_item(item)
        except service.ItemOnOrders as refused:
            return _item_delete_page(item, form, refused.orders), 409
        flash(f"Item deleted: {name}.", "success")
        return redirect(url_for("menu.staff_items"))
    return _item_delete_page(item, form, service.orders_with_item(item)), form_status(form)


def _item_delete_page(item: MenuItem, form, orders: int):
    return render_template("staff/item_delete.html", item=item, form=form, orders=orders,
                           unavailable_form=ConfirmForm(formdata=None))


@bp.post("/staff/items/<int:item_id>/unavailable")
@role_required("staff")
def staff_item_unavailable(item_id: int):
    """Mark an item unavailable (what to do with one on orders instead of deleting it).

    :raise 404: no such item.
    """
    item = db.get_or_404(MenuItem, item_id)
    service.mark_unavailable(item)
    flash(f"{item.name} is marked not available.", "success")
    return redirect(url_for("menu.staff_items"))


# --- suppliers ----------------------------------------------------------------------------

@bp.get("/staff/suppliers")
@role_required("staff")
def staff_suppliers():
    """Every supplier with its number of items (two queries per page)."""
    page = paginate(service.suppliers_with_item_counts(),
                    page_number(request.args.get("page")), PAGE_SIZE, scalars=False)
    return render_template("staff/suppliers.html", page=page)


@bp.route("/staff/suppliers/new", methods=["GET", "POST"])
@role_required("staff")
def staff_supplier_new():
    """Add a supplier."""
    return _supplier_form(None, "Supplier added: {}.")


@bp.route("/staff/suppliers/<int:supplier_id>/edit", methods=["GET", "POST"])
@role_required("staff")
def staff_supplier_edit(supplier_id: int):
    """Change a supplier.

    :raise 404: no such supplier.
    """
    return _supplier_form(db.get_or_404(Supplier, supplier_id), "Supplier saved: {}.")


def _supplier_form(supplier: Supplier | None, done: str):
    return supplier_form(supplier, done, "menu.staff_suppliers", lambda form: render_template(
        "staff/supplier_form.html", form=form, supplier=supplier))


@bp.route("/staff/suppliers/<int:supplier_id>/delete", methods=["GET", "POST"])
@role_required("staff")
def staff_supplier_delete(supplier_id: int):
    """Confirm, then delete a supplier. One with items is deleted only when the form
    says to leave them without a supplier; else refused (409) with the choice.

    :raise 404: no such supplier.
    """
    supplier = db.get_or_404(Supplier, supplier_id)
    form = DeleteSupplierForm()
    if form.validate_on_submit():
        name = supplier.name
        try:
            detached = service.delete_supplier(supplier, detach=form.detach.data)
        except service.SupplierHasItems as refused:
            return _supplier_delete_page(supplier, form, refused.items, refused=True), 409
        flash(f"Supplier deleted: {name}." + (
            f" {detached} item(s) now have no supplier." if detached else ""), "success")
        return redirect(url_for("menu.staff_suppliers"))
    return _supplier_delete_page(supplier, form, service.supplier_items(supplier)), \
        form_status(form)


def _supplier_delete_page(supplier: Supplier, form, items: list[MenuItem],
                          refused: bool = False):
    return render_template("staff/supplier_delete.html", supplier=supplier, form=form,
                           items=items, refused=refused)
