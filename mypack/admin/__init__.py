"""The admin console under ``/admin``: a dashboard, and the model admin for users,
suppliers, menu items, orders and the audit log.

Admins only. Staff get 403 like customers: they run the café from the staff pages
(items, suppliers, the queue), while the console can change accounts and roles and
shows the audit log, which are an administrator's business. Nobody logged in goes
to the login page and comes back.

Every change made here goes through the same services as the rest of the site
(``mypack.auth.service``, ``mypack.menu.service``, ``mypack.orders.service``), so the
same rules hold and account changes are audited.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort
from flask_login import current_user

from mypack.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    """Every admin URL: anonymous -> login, anyone but an admin -> 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role("admin"):
        abort(403)
    return None


@bp.app_template_filter("utc")
def utc(value: datetime | None) -> str:
    """A stored (naive UTC) time as ``2026-11-21 09:30 UTC``; nothing for None."""
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else ""


from mypack.admin import (  # noqa: E402,F401  (routes register on bp)
    audit,
    dashboard,
    items,
    orders,
    suppliers,
    users,
)
