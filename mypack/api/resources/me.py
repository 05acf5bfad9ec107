"""``/api/v1/me``: the caller."""

from flask_login import current_user
from flask_smorest import Blueprint

from mypack.api.auth import require
from mypack.api.schemas import ErrorResponse, UserSchema

blp = Blueprint("api_me", __name__, url_prefix="/api/v1/me", description="The caller")


@blp.route("")
@blp.response(200, UserSchema)
@blp.alt_response(401, schema=ErrorResponse)
@require()
def me():
    """The authenticated user, email included."""
    return current_user
