"""``/api/v1/orders``: customers place, read and cancel their own orders; staff read
all of them and move them along the transitions. The rules are mypack.orders.service's.
"""

from __future__ import annotations

import secrets

from flask import abort
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mypack.api.access import require
from mypack.api.fields import NO_NUL, Id, Money, fits, sort_field
from mypack.api.pagination import (
    PageArgsSchema,
    page_schema,
    paginate,
    sort_clauses,
)
from mypack.api.parsing import Blueprint
from mypack.api.schemas import UTCDateTime, error_responses
from mypack.extensions import db
from mypack.orders import service
from mypack.orders.models import MAX_QUANTITY, MIN_QUANTITY, STATUSES, Order, OrderLine

blp = Blueprint("api_orders", __name__, url_prefix="/api/v1/orders",
                description="Orders: customers their own, staff all")

SORTABLE = {"id": Order.id, "created_at": Order.created_at, "total": Order.total,
            "status": Order.status}


class OrderLineSchema(Schema):
    """An item of an order, at the price it had when the order was placed."""

    id = fields.Integer(dump_only=True)
    item_id = fields.Integer(required=True, strict=True)
    item_name = fields.String(attribute="item.name", dump_only=True)
    quantity = fields.Integer(required=True, strict=True,
                              validate=validate.Range(min=MIN_QUANTITY, max=MAX_QUANTITY))
    unit_price = Money(dump_only=True)
    subtotal = Money(dump_only=True)


class OrderSchema(Schema):
    """An order with its lines."""

    id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(STATUSES))
    total = Money(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)
    lines = fields.List(fields.Nested(OrderLineSchema), dump_only=True)


class OrderLineCreateSchema(Schema):
    item_id = Id(required=True)
    quantity = fields.Integer(required=True, strict=True,
                              validate=validate.Range(min=MIN_QUANTITY, max=MAX_QUANTITY))


class OrderCreateSchema(Schema):
    """A new order: items and quantities (lines of the same item add up)."""

    lines = fields.List(fields.Nested(OrderLineCreateSchema), required=True,
                        validate=validate.Length(min=1, max=service.MAX_LINES))
    submission_key = fields.String(validate=fits(Order.submission_key, min=8), metadata={
        "pattern": NO_NUL,
        "description": "Your own unique key: sending it again returns the same order "
                       "instead of placing another."})


class StatusChangeSchema(Schema):
    """Move an order from the status the caller saw to another."""

    from_status = fields.String(data_key="from", required=True,
                                validate=validate.OneOf(STATUSES))
    to_status = fields.String(data_key="to", required=True, validate=validate.OneOf(STATUSES))


class OrderQueryArgsSchema(PageArgsSchema):
    sort = sort_field(SORTABLE)
    status = fields.String(validate=validate.OneOf(STATUSES))


OrderPageSchema = page_schema(OrderSchema, "OrderPageSchema")


def _with_lines(statement):
    return statement.options(selectinload(Order.lines).selectinload(OrderLine.item))


def visible_order(order_id: int) -> Order:
    """The order if the caller may see it (staff: any; customers: their own), else 404."""
    if current_user.has_role("staff"):
        order = db.session.scalar(_with_lines(select(Order).where(Order.id == order_id)))
    else:
        order = service.customer_order(current_user, order_id)
    if order is None:
        abort(404, "No such order.")
    return order


@blp.route("")
@require()
@blp.arguments(OrderQueryArgsSchema, location="query")
@blp.response(200, OrderPageSchema, headers={"Link": {
    "description": "Links to the next, previous, first and last pages (RFC 8288).",
    "schema": {"type": "string"}}})
@error_responses(blp, 400, 401, 422)
def list_orders(args):
    """Orders, newest first unless sorted: a customer's own; staff see all."""
    statement = _with_lines(select(Order))
    if not current_user.has_role("staff"):
        statement = statement.where(Order.user_id == current_user.id)
    if args.get("status"):
        statement = statement.where(Order.status == args["status"])
    order = sort_clauses(args.get("sort"), SORTABLE) or [Order.id.desc()]
    return paginate(statement.order_by(*order, Order.id.desc()), args)


@blp.route("", methods=["POST"])
@require(scope="write")
@blp.arguments(OrderCreateSchema)
@blp.response(201, OrderSchema)
@error_responses(blp, 400, 401, 403, 409, 415, 422)
def create_order(data):
    """Place an order at today's prices. The same ``submission_key`` again returns the
    order it placed. Malformed lines are a 422; an unknown or unavailable item, or more
    than 50 of one item in all, a 409."""
    quantities: dict[int, int] = {}
    for line in data["lines"]:  # lines of the same item add up (to 50 at most)
        quantities[line["item_id"]] = quantities.get(line["item_id"], 0) + line["quantity"]
    key = data.get("submission_key") or f"api-{secrets.token_urlsafe(24)}"
    # The schema has refused malformed lines (422); what the service refuses now
    # depends on the menu's state (an unknown or unavailable item, another order's
    # key): its OrderError, a 409 on the lines.
    return service.place_order(current_user, quantities, key)


@blp.route("/<int:order_id>")
@require()
@blp.response(200, OrderSchema)
@error_responses(blp, 401, 404)
def read_order(order_id):
    """One order: a customer's own (404 for others'); staff any."""
    return visible_order(order_id)


@blp.route("/<int:order_id>/status", methods=["POST"])
@require(scope="write")
@blp.arguments(StatusChangeSchema)
@blp.response(200, OrderSchema)
@error_responses(blp, 400, 401, 403, 404, 409, 415, 422)
def change_status(data, order_id):
    """Move an order from the status the caller saw (``from``) to ``to``: staff along
    the transitions; a customer only cancels their own placed order. 409 when the
    order is no longer ``from``, or the transitions do not lead from ``from`` to ``to``."""
    seen, wanted = data["from_status"], data["to_status"]
    visible_order(order_id)  # 404 first: someone else's order is not there for customers
    # A move outside the transitions is the service's OrderError (409 on ``to``): the
    # statuses are well-formed (else 422), but the order's state machine refuses it.
    if current_user.has_role("staff"):
        service.move(order_id, seen, wanted)
    else:
        if (seen, wanted) != ("placed", "cancelled"):
            abort(403, "Customers may only cancel a placed order.")
        service.cancel(current_user, order_id)
    return visible_order(order_id)
