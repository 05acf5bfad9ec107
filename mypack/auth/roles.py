"""Role checks for views: the wrong role gets 403, nobody logged in gets the login
page (HTML) or 401 (JSON)."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from mypack.auth.models import ROLES
from mypack.extensions import login_manager


def role_required(role: str):
    """Decorate a view so only users with at least ``role``'s rights reach it."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
