"""Schemas shared by the API's resources: errors, users, and fields for staff only."""

from datetime import UTC
from typing import cast

from marshmallow import Schema, fields, post_dump

from mypack.auth.roles import caller_is_staff

#: How a staff-only field is documented (and marked, for tools: ``x-staff-only``).
STAFF_ONLY = "Staff only: left out of the answer for other callers."


class UTCDateTime(fields.DateTime):
    """A stored time (naive, meaning UTC) as an RFC 3339 date-time with its zone."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class ErrorBody(Schema):
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={
        "description": "The status's name in snake case (not_found, forbidden, ...), or a "
                       "code a program can act on: email_unconfirmed (the caller must "
                       "confirm their address first; POST /api/v1/me/confirmation mails "
                       "the link again), email_confirmed (it is confirmed already)."})
    message = fields.String(required=True)
    fields = fields.Dict(required=True)  # type: ignore[assignment]  # the body's "fields"


class ErrorResponse(Schema):
    """Every error the API answers: ``{"error": {...}}``."""

    error = fields.Nested(ErrorBody, required=True)


def error_responses(blp, *codes: int):
    """Document the errors an operation may answer, each in the one error shape:
    ``@error_responses(blp, 401, 404)`` for a stack of ``blp.alt_response`` lines."""
    def decorator(view):
        for code in reversed(codes):  # as the stack of decorators would apply them
            view = blp.alt_response(code, schema=ErrorResponse)(view)
        return view
    return decorator


class UserSchema(Schema):
    """A user as the API shows them; the email only to the user and to admins."""

    id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    active = fields.Boolean(dump_only=True)
    email = fields.String(dump_only=True)
    email_confirmed = fields.Boolean(dump_only=True, metadata={
        "description": "Whether the address is confirmed: an account may order once it is."})
    created_at = UTCDateTime(dump_only=True)


def staff_only(field: fields.Field) -> fields.Field:
    """Mark a field of a :class:`StaffFieldsSchema` as shown to staff (and admins) only;
    the OpenAPI document says so, and it is never required."""
    description = field.metadata.get("description")
    cast(dict, field.metadata).update({"x-staff-only": True, "description": " ".join(
        filter(None, [STAFF_ONLY, description]))})
    return field


class StaffFieldsSchema(Schema):
    """A schema whose :func:`staff_only` fields are left out for callers below staff.

    Decided per answer from the logged-in caller, so such an answer depends on who
    asks: it is private to them (mypack.security), and never kept in the public
    menu's cache (mypack.menu.cache), which answers anonymous requests only.
    """

    @post_dump
    def _leave_out_staff_fields(self, data: dict, **kwargs) -> dict:
        if not caller_is_staff():
            for name, field in self.dump_fields.items():
                if field.metadata.get("x-staff-only"):
                    data.pop(field.data_key or name, None)
        return data
