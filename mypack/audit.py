"""The audit log: who did what to which account, from where, in which request."""

from __future__ import annotations

import getpass
import os
from datetime import datetime

from flask import g, has_request_context, request
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mypack.database import column_length, utcnow
from mypack.extensions import Model, db
from mypack.libraries import loaded_user

#: The events recorded, for the admin's filters and the README.
EVENTS = ("login_success", "login_failure", "lockout", "logout", "password_change",
          "password_reset", "password_reset_request", "role_change", "activate",
          "deactivate", "unlock", "register", "token_create", "token_revoke",
          "profile_change", "user_delete", "email_confirm", "email_confirmation_request",
          "email_change_request", "email_change")


class AuditEvent(Model):
    """One security-relevant event. Rows are only ever added."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(32), index=True)
    # Kept when the user is deleted: the trail must outlive the account.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    #: The email given (for failures the account may not exist).
    email: Mapped[str | None] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(String(500), default="")


#: What a client may make longer than its column: an address from X-Forwarded-For
#: (a proxy passes on whatever it was given), an email typed at the login, a detail
#: quoting a name.
_CLIPPED = ("email", "ip", "request_id", "detail")


def clip(text: str | None, column: str) -> str | None:
    """``text`` cut to fit the audit column ``column``, marked with "…" where cut.

    A row too long for its column would fail the statement (PostgreSQL, MySQL's
    strict mode), and with it the login or change being recorded: the trail keeps
    what fits instead.
    """
    length = column_length(AuditEvent, column)
    if text is None or len(text) <= length:
        return text
    return text[:length - 1] + "…"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        return f"uid {os.getuid()}"


def _acting_on_someone_else(user) -> bool:
    # Only a user Flask-Login has already loaded: asking current_user here would load
    # one, and loading a user by API token or Basic credentials records events itself.
    actor = loaded_user()
    return bool(actor is not None and actor.is_authenticated
                and (user is None or actor.id != user.id))


def record(event: str, user=None, email: str | None = None, detail: str = "") -> AuditEvent:
    """Add an event to the session (the caller commits), with the request's address and id.

    When someone logged in acts on another account (an admin in the console, the API)
    the detail names them; outside a request (``mypack user ...``) it names the
    operating-system user who ran the command instead.
    """
    if not has_request_context():
        detail = "; ".join(filter(None, [detail, f"command line, as {_os_user()}"]))
    elif _acting_on_someone_else(user):
        detail = "; ".join(filter(None, [detail, f"by {loaded_user().email}"]))
    entry = AuditEvent(
        event=event, user_id=user.id if user is not None else None,
        email=email if email is not None else getattr(user, "email", None),
        ip=request.remote_addr if has_request_context() else None,
        request_id=g.get("request_id") if has_request_context() else None,
        detail=detail,
    )
    for name in _CLIPPED:
        setattr(entry, name, clip(getattr(entry, name), name))
    db.session.add(entry)
    return entry

