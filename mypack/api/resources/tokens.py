"""``/api/v1/tokens``: the caller's API tokens (Bearer authentication).

The token itself is answered once, when it is made; lists show its name, its first
characters, its scope and its dates, never the token or its digest.

Scopes (mypack.auth.tokens): a ``read`` token may only read, so it can neither make
nor revoke tokens; a ``write`` token may make tokens of its scope or less, and revoke
any token of its user, as the user may with their password.
"""

from types import SimpleNamespace

from flask import abort
from flask_login import current_user
from marshmallow import Schema, fields, validate

from mypack.api.access import require
from mypack.api.fields import Text, fits
from mypack.api.parsing import Blueprint
from mypack.api.schemas import UTCDateTime, error_responses
from mypack.auth import tokens
from mypack.auth.credentials import token_scope
from mypack.auth.models import ApiToken

blp = Blueprint("api_tokens", __name__, url_prefix="/api/v1/tokens",
                description="The caller's API tokens")


class TokenSchema(Schema):
    """An API token as its owner sees it: never the token itself."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    prefix = fields.String(dump_only=True, metadata={
        "description": "The token's first characters, to tell tokens apart."})
    scope = fields.String(dump_only=True, metadata={
        "enum": list(tokens.SCOPES),
        "description": "What the token may do: read (GET only) or write (whatever the "
                       "user's role may)."})
    created_at = UTCDateTime(dump_only=True)
    expires_at = UTCDateTime(dump_only=True, allow_none=True)
    last_used_at = UTCDateTime(dump_only=True, allow_none=True)
    revoked = fields.Function(lambda record: record.revoked_at is not None,
                              dump_only=True, metadata={"type": "boolean"})


class TokenCreateSchema(Schema):
    """What a new token is called, how long it lives (default: until revoked) and what it
    may do (default: read)."""

    name = Text(blank=False, required=True, validate=fits(ApiToken.name, min=1))
    expires_in_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                     validate=validate.Range(min=1, max=365))
    scope = fields.String(load_default=tokens.DEFAULT_SCOPE,
                          validate=validate.OneOf(tokens.SCOPES), metadata={
                              "description": "read (the default): GET only; write: whatever "
                                             "the user's role may. A token makes tokens of "
                                             "its own scope or less."})


class TokenCreatedSchema(TokenSchema):
    """A new token, with the token itself: shown this once, never again."""

    token = fields.String(dump_only=True)


@blp.route("")
@blp.response(200, TokenSchema(many=True))
@error_responses(blp, 401)
@require()
def list_tokens():
    """The caller's tokens, newest first (revoked ones included, marked)."""
    return tokens.list_for(current_user)


@blp.route("", methods=["POST"])
@blp.arguments(TokenCreateSchema)
@blp.response(201, TokenCreatedSchema)
@error_responses(blp, 400, 401, 403, 422)
@require(scope=tokens.WRITE)
def create_token(data):
    """Make a token; the answer is the only time the token is shown.

    A token makes tokens of its own scope or less (403).
    """
    # A wider scope than the asking token's is its ScopeTooWide: 403.
    token, record = tokens.create(current_user, data["name"], data["expires_in_days"],
                                  data["scope"], within=token_scope())
    shown = {name: getattr(record, name) for name in (
        "id", "name", "prefix", "scope", "created_at", "expires_at", "last_used_at",
        "revoked_at")}
    return SimpleNamespace(**shown, token=token)


@blp.route("/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@error_responses(blp, 401, 403, 404)
@require(scope=tokens.WRITE)
def revoke_token(token_id):
    """Revoke one of the caller's tokens (another user's is not found).

    Any of them, this one included, as with the user's password.
    """
    if tokens.revoke(current_user, token_id) is None:
        abort(404, "No such token.")
