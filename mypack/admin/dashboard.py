"""The admin dashboard (written next)."""

from mypack.admin import bp


@bp.get("/")
def dashboard():
    """The dashboard: for now, the way into the lists."""
    return "Admin"
