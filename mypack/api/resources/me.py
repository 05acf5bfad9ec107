"""``/api/v1/me``: the caller."""

from flask_login import current_user

from mypack.api.access import require
from mypack.api.parsing import Blueprint
from mypack.api.schemas import UserSchema, error_responses

blp = Blueprint("api_me", __name__, url_prefix="/api/v1/me", description="The caller")


@blp.route("")
@blp.response(200, UserSchema)
@error_responses(blp, 401)
@require()
def me():
    """The authenticated user, email included."""
    return current_user
