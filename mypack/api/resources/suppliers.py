"""``/api/v1/suppliers``: who delivers the items; anyone reads them, staff change them."""

from __future__ import annotations

from flask import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from mypack.api.access import require
from mypack.api.fields import QueryFlag, Search, Text, fits, sort_field
from mypack.api.pagination import (
    PageArgsSchema,
    page_schema,
    paginate,
    sort_clauses,
)
from mypack.api.parsing import Blueprint
from mypack.api.resources.items import ItemPageSchema, ItemQueryArgsSchema, item_list
from mypack.api.schemas import StaffFieldsSchema, error_responses, staff_only
from mypack.extensions import db
from mypack.menu import service
from mypack.menu.models import MenuItem, Supplier
from mypack.text import EMAIL_ADDRESS, TEXT_LENGTH

blp = Blueprint("api_suppliers", __name__, url_prefix="/api/v1/suppliers",
                description="The suppliers of the menu's items")

SORTABLE = {"id": Supplier.id, "name": func.lower(Supplier.name)}


#: An email address (mypack.text's, the staff form's rule), or none.
EMAIL = f"^({EMAIL_ADDRESS})?$"
EMAIL_CHECKS = [fits(Supplier.email),
                validate.Regexp(EMAIL, error="Enter an email address (or nothing).")]


class SupplierSchema(StaffFieldsSchema):
    """A supplier; its business contacts (email, phone, notes) for staff only, as on
    the pages: the public menu needs only its name."""

    id = fields.Integer(dump_only=True)
    name = Text(blank=False, required=True, validate=fits(Supplier.name, min=1))
    email = staff_only(Text(load_default="", validate=EMAIL_CHECKS,
                            metadata={"pattern": EMAIL}))
    phone = staff_only(Text(load_default="", validate=fits(Supplier.phone)))
    notes = staff_only(Text(multiline=True, load_default="",
                            validate=validate.Length(max=TEXT_LENGTH)))


class SupplierUpdateSchema(Schema):
    """The fields of a supplier to change; the others stay."""

    name = Text(blank=False, validate=fits(Supplier.name, min=1))
    email = Text(validate=EMAIL_CHECKS, metadata={"pattern": EMAIL})
    phone = Text(validate=fits(Supplier.phone))
    notes = Text(multiline=True, validate=validate.Length(max=TEXT_LENGTH))


class SupplierQueryArgsSchema(PageArgsSchema):
    sort = sort_field(SORTABLE)
    q = Search()


class SupplierDeleteArgsSchema(Schema):
    detach = QueryFlag(load_default=False, metadata={
        "description": "Delete a supplier that has items, leaving them without one."})


SupplierPageSchema = page_schema(SupplierSchema, "SupplierPageSchema")


def get_supplier(supplier_id: int) -> Supplier:
    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None:
        abort(404, "No such supplier.")
    return supplier


@blp.route("")
@blp.arguments(SupplierQueryArgsSchema, location="query")
@blp.response(200, SupplierPageSchema, headers={"Link": {
    "description": "Links to the next, previous, first and last pages (RFC 8288).",
    "schema": {"type": "string"}}})
@error_responses(blp, 400, 422)
def list_suppliers(args):
    """The suppliers, by name unless sorted (``?sort=-id``)."""
    statement = select(Supplier)
    if args.get("q"):
        statement = statement.where(Supplier.name.icontains(args["q"], autoescape=True))
    order = sort_clauses(args.get("sort"), SORTABLE) or [func.lower(Supplier.name)]
    return paginate(statement.order_by(*order, Supplier.id), args)


@blp.route("", methods=["POST"])
@require("staff", scope="write")
@blp.arguments(SupplierSchema)
@blp.response(201, SupplierSchema)
@error_responses(blp, 400, 401, 403, 409, 415, 422)
def create_supplier(data):
    """Add a supplier (staff); names are unique in any case."""
    supplier = Supplier(**data)
    service.save_supplier(supplier)
    return supplier


@blp.route("/<int:supplier_id>")
@blp.response(200, SupplierSchema)
@error_responses(blp, 404)
def read_supplier(supplier_id):
    """One supplier."""
    return get_supplier(supplier_id)


@blp.route("/<int:supplier_id>/items")
@blp.arguments(ItemQueryArgsSchema, location="query")
@blp.response(200, ItemPageSchema, headers={"Link": {
    "description": "Links to the next, previous, first and last pages (RFC 8288).",
    "schema": {"type": "string"}}})
@error_responses(blp, 400, 404, 422)
def supplier_items(args, supplier_id):
    """The supplier's items, in menu order unless sorted; the item list's filters."""
    supplier = get_supplier(supplier_id)
    statement = service.menu_items().where(MenuItem.supplier_id == supplier.id)
    return item_list(args, statement)


@blp.route("/<int:supplier_id>", methods=["PATCH"])
@require("staff", scope="write")
@blp.arguments(SupplierUpdateSchema)
@blp.response(200, SupplierSchema)
@error_responses(blp, 400, 401, 403, 404, 409, 415, 422)
def update_supplier(data, supplier_id):
    """Change some fields of a supplier (staff)."""
    supplier = get_supplier(supplier_id)
    for name, value in data.items():
        setattr(supplier, name, value)
    service.save_supplier(supplier)
    return supplier


@blp.route("/<int:supplier_id>", methods=["DELETE"])
@require("staff", scope="write")
@blp.arguments(SupplierDeleteArgsSchema, location="query")
@blp.response(204)
@error_responses(blp, 401, 403, 404, 409, 422)
def delete_supplier(args, supplier_id):
    """Delete a supplier (staff); one with items is a 409 unless ``?detach=true``,
    which leaves its items on the menu without a supplier."""
    supplier = get_supplier(supplier_id)
    service.delete_supplier(supplier, detach=args["detach"])  # with items: 409 on ``detach``
    return None
