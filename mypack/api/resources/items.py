"""``/api/v1/items``: the menu's items; anyone reads them, staff change them."""

from __future__ import annotations

from flask import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func

from mypack.api.access import require
from mypack.api.fields import Flag, Id, Money, QueryFlag, Search, Text, fits, sort_field
from mypack.api.pagination import (
    PageArgsSchema,
    page_schema,
    paginate,
    sort_clauses,
)
from mypack.api.parsing import Blueprint
from mypack.api.schemas import UTCDateTime, error_responses
from mypack.extensions import db
from mypack.menu import service
from mypack.menu.cache import public_answer
from mypack.menu.models import CATEGORIES, MenuItem
from mypack.text import TEXT_LENGTH

blp = Blueprint("api_items", __name__, url_prefix="/api/v1/items",
                description="The menu's items")

#: What a list may be sorted on.
SORTABLE = {
    "id": MenuItem.id,
    "name": func.lower(MenuItem.name),
    "price": MenuItem.price,
    "category": MenuItem.category,
    "created_at": MenuItem.created_at,
}


class ItemSchema(Schema):
    """An item on the menu."""

    id = fields.Integer(dump_only=True)
    name = Text(blank=False, required=True, validate=fits(MenuItem.name, min=1))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    description = Text(multiline=True, load_default="",
                       validate=validate.Length(max=TEXT_LENGTH))
    price = Money(required=True)
    available = Flag(load_default=True)
    supplier_id = Id(load_default=None, allow_none=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class ItemUpdateSchema(Schema):
    """The fields of an item to change; the others stay."""

    name = Text(blank=False, validate=fits(MenuItem.name, min=1))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    description = Text(multiline=True, validate=validate.Length(max=TEXT_LENGTH))
    price = Money()
    available = Flag()
    supplier_id = Id(allow_none=True)


class ItemQueryArgsSchema(PageArgsSchema):
    """Filters of the item lists."""

    sort = sort_field(SORTABLE)

    category = fields.String(validate=validate.OneOf(CATEGORIES))
    available = QueryFlag()
    q = Search()
    min_price = Money()
    max_price = Money()


ItemPageSchema = page_schema(ItemSchema, "ItemPageSchema")


def item_list(args: dict, statement: Select | None = None):
    """A page of items in menu order (or ``sort``), filtered by ``args``."""
    if statement is None:
        statement = service.menu_items(args.get("q", ""), args.get("category"))
    else:
        if args.get("q"):
            statement = statement.where(MenuItem.name.icontains(args["q"], autoescape=True))
        if args.get("category"):
            statement = statement.where(MenuItem.category == args["category"])
    if "available" in args:
        statement = statement.where(MenuItem.available == args["available"])
    if args.get("min_price") is not None:
        statement = statement.where(MenuItem.price >= args["min_price"])
    if args.get("max_price") is not None:
        statement = statement.where(MenuItem.price <= args["max_price"])
    order = sort_clauses(args.get("sort"), SORTABLE)
    if order:
        statement = statement.order_by(None).order_by(*order, MenuItem.id)
    return paginate(statement, args)


def get_item(item_id: int) -> MenuItem:
    item = db.session.get(MenuItem, item_id)
    if item is None:
        abort(404, "No such item.")
    return item


@blp.route("")
@public_answer
@blp.arguments(ItemQueryArgsSchema, location="query")
@blp.response(200, ItemPageSchema, headers={"Link": {
    "description": "Links to the next, previous, first and last pages (RFC 8288).",
    "schema": {"type": "string"}}})
@error_responses(blp, 400, 422)
def list_items(args):
    """The menu's items, in menu order unless sorted (``?sort=-price,name``)."""
    return item_list(args)


@blp.route("", methods=["POST"])
@require("staff", scope="write")
@blp.arguments(ItemSchema)
@blp.response(201, ItemSchema)
@error_responses(blp, 400, 401, 403, 409, 415, 422)
def create_item(data):
    """Add an item (staff)."""
    item = MenuItem(**data)
    service.save_item(item)
    return item


@blp.route("/<int:item_id>")
@blp.response(200, ItemSchema)
@error_responses(blp, 404)
def read_item(item_id):
    """One item."""
    return get_item(item_id)


@blp.route("/<int:item_id>", methods=["PATCH"])
@require("staff", scope="write")
@blp.arguments(ItemUpdateSchema)
@blp.response(200, ItemSchema)
@error_responses(blp, 400, 401, 403, 404, 409, 415, 422)
def update_item(data, item_id):
    """Change some fields of an item (staff)."""
    item = get_item(item_id)
    for name, value in data.items():
        setattr(item, name, value)
    service.save_item(item)
    return item


@blp.route("/<int:item_id>", methods=["DELETE"])
@require("staff", scope="write")
@blp.response(204)
@error_responses(blp, 401, 403, 404, 409)
def delete_item(item_id):
    """Delete an item that is on no order (staff); one on orders is a 409: mark it
    unavailable instead."""
    item = get_item(item_id)
    service.delete_item(item)  # on orders: 409
    return None
