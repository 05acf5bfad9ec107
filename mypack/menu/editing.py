"""The item and supplier forms' controllers, shared by the staff pages
(mypack.menu.manage) and the admin console (mypack.admin.items, .suppliers): each
page gives its own template and list to go back to; the saving, its messages and
the status codes are the same."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, url_for

from mypack.menu import service
from mypack.menu.forms import ItemForm, SupplierForm
from mypack.menu.models import MenuItem, Supplier


def form_status(form) -> int:
    """The status of a form's page: 400 when the post had errors."""
    return 400 if form.errors else 200


def item_form(item: MenuItem, done: str, list_endpoint: str,
              render: Callable[[ItemForm], str]):
    """The item form's page, for the staff pages and the admin console: a valid post
    saves the item and goes to ``list_endpoint`` with ``done`` (formatted with the
    name) flashed; else ``render(form)``, 400 when the post had errors."""
    form = ItemForm(obj=item if item.id else None, suppliers=service.supplier_choices())
    if form.validate_on_submit():
        form.apply_to(item)
        try:
            service.save_item(item)
        except service.SupplierGone as error:
            form.supplier_id.errors.append(error.message)
        else:
            flash(done.format(item.name), "success")
            return redirect(url_for(list_endpoint))
    return render(form), form_status(form)


def supplier_form(supplier: Supplier | None, done: str, list_endpoint: str,
                  render: Callable[[SupplierForm], str]):
    """The supplier form's page (a new one when ``supplier`` is None), like
    :func:`item_form`."""
    form = SupplierForm(supplier=supplier)
    if form.validate_on_submit():
        target = supplier or Supplier()
        form.apply_to(target)
        try:
            service.save_supplier(target)
        except service.SupplierNameTaken:
            form.name.errors.append(service.NAME_TAKEN)
        else:
            flash(done.format(target.name), "success")
            return redirect(url_for(list_endpoint))
    return render(form), form_status(form)
