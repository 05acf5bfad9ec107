"""``/api/v1/me``: the caller, and the link that confirms their address."""

from flask_login import current_user
from marshmallow import Schema, fields

from mypack.api.access import require
from mypack.api.parsing import Blueprint
from mypack.api.schemas import UserSchema, error_responses
from mypack.auth import confirmation

blp = Blueprint("api_me", __name__, url_prefix="/api/v1/me", description="The caller")


class MessageSchema(Schema):
    message = fields.String(required=True)


@blp.route("")
@blp.response(200, UserSchema)
@error_responses(blp, 401)
@require()
def me():
    """The authenticated user, email included."""
    return current_user


@blp.route("/confirmation", methods=["POST"])
@blp.response(202, MessageSchema)
@error_responses(blp, 401, 403, 409, 429)
@require(scope="write")
def send_confirmation():
    """Mail a new link that confirms the caller's address (an unconfirmed account may
    not order: its order's error has the code ``email_unconfirmed``). A few per hour:
    more are a 429 with Retry-After; a confirmed address is a 409 ``email_confirmed``.
    The link is followed in a browser."""
    confirmation.send_again(current_user._get_current_object())
    return {"message": f"A confirmation link is on its way to {current_user.email}."}
