"""The console's blueprint under ``/admin``: admins only, through the one role gate
(mypack.auth.roles), and the template filters its pages share."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint

from mypack.auth.roles import check

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only() -> None:
    """Every admin URL: anonymous -> login (401 for JSON), anyone but an admin -> 403."""
    check("admin")


@bp.app_template_filter("utc")
def utc(value: datetime | None) -> str:
    """A stored (naive UTC) time as ``2026-11-21 09:30 UTC``; nothing for None."""
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else ""
