"""``/api/v1/users``: accounts, for admins: list, show, change role or active.

Changes go through mypack.auth.service, with its rules (the last active admin keeps
their role and stays active: 409) and its audit events.
"""

from flask import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from mypack.api.access import require
from mypack.api.fields import Flag
from mypack.api.pagination import PageArgsSchema, page_schema, paginate
from mypack.api.parsing import Blueprint
from mypack.api.schemas import UserSchema, error_responses
from mypack.auth import service
from mypack.auth.models import ROLES, User
from mypack.extensions import db

blp = Blueprint("api_users", __name__, url_prefix="/api/v1/users",
                description="Accounts (admins only)")

UserPageSchema = page_schema(UserSchema, "UserPageSchema")


class UserPatchSchema(Schema):
    """What an admin may change of an account; fields left out stay as they are."""

    role = fields.String(validate=validate.OneOf(ROLES))
    active = Flag()


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, "No such user.")
    return user


@blp.route("")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, UserPageSchema)
@error_responses(blp, 401, 403)
@require("admin")
def list_users(args):
    """Every user, by email, a page at a time (``per_page`` at most 100)."""
    return paginate(select(User).order_by(User.email, User.id), args)


@blp.route("/<int:user_id>")
@blp.response(200, UserSchema)
@error_responses(blp, 401, 403, 404)
@require("admin")
def get_user(user_id):
    """One user."""
    return _user_or_404(user_id)


@blp.route("/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
@error_responses(blp, 400, 401, 403, 404, 409, 422)
@require("admin", scope="write")
def update_user(data, user_id):
    """Change a user's role or active flag (409: the last active admin keeps both).

    A role change or a deactivation ends their sessions; deactivation revokes their
    API tokens.
    """
    user = _user_or_404(user_id)
    # The last active admin keeps both: the service's AccountConflict, a 409.
    if "role" in data:
        service.set_role(user.email, data["role"])
    if "active" in data:
        service.set_active(user.email, data["active"])
    return user
