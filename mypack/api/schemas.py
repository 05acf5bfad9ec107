"""Schemas shared by the API's resources: errors and list pages."""

from datetime import UTC

from marshmallow import Schema, fields


class UTCDateTime(fields.DateTime):
    """A stored time (naive, meaning UTC) as an RFC 3339 date-time with its zone."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class ErrorBody(Schema):
    status = fields.Integer(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(required=True)


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
    created_at = UTCDateTime(dump_only=True)
