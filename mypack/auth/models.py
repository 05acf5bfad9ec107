"""Accounts: users with a role, and the per-email login throttle."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mypack.database import utcnow
from mypack.extensions import Model

#: Roles from least to most rights; a role has the rights of those before it.
ROLES = ("customer", "staff", "admin")
#: API token scopes from least to most rights, likewise (mypack.auth.tokens).
TOKEN_SCOPES = ("read", "write")
#: The outbox kind of the mail that confirms an address, and its templates' name
#: (templates/mail/email_confirmation.*; mypack.auth.confirmation).
CONFIRMATION_KIND = "email_confirmation"


def new_session_token() -> str:
    """A random token; changing it ends every session and remember cookie of a user."""
    return secrets.token_urlsafe(24)


def normalize_email(email: str) -> str:
    """Emails are stored and compared in lower case: unique whatever the spelling."""
    return (email or "").strip().lower()


class User(UserMixin, Model):
    """Someone who can log in: a customer, staff member or admin."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('customer', 'staff', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="customer")
    active: Mapped[bool] = mapped_column(default=True)
    #: Mail when an order is ready or cancelled (the profile's choice; a receipt is
    #: always sent: it is the record of a purchase).
    mail_order_updates: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: When the owner showed they read mail at ``email`` (a confirmation link), or an
    #: operator vouched for it (``create-admin``, the console); None until then, and
    #: an account without it may not order (mypack.auth.confirmation).
    email_confirmed_at: Mapped[datetime | None]
    #: Part of the login id: rotated at logout and password change, so copies of
    #: old session and remember cookies stop working everywhere at once.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    def get_id(self) -> str:
        """Flask-Login's id: the user id and the current session token."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, role: str) -> bool:
        """Whether the user has at least the rights of ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def end_sessions(self) -> None:
        """Invalidate every session and remember cookie of this user."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class LoginThrottle(Model):
    """Failed logins per email, kept in the database so the lockout holds across
    processes and nodes. Unknown emails get rows too: the answer to a login must not
    reveal whether an account exists."""

    __tablename__ = "login_throttles"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


class ApiToken(Model):
    """A named API token of a user (Bearer authentication).

    Only a SHA-256 digest of the token is stored: the token itself is shown once, when
    it is made. Tokens carry 256 random bits, so a fast digest is enough (a password
    hash is for guessable secrets).
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("scope IN ('read', 'write')", name="scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters, so a user can tell tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(12))
    #: What the token may do (mypack.auth.tokens.SCOPES): ``read`` or ``write``. The
    #: database's default is for rows written by code older than scopes (migration
    #: 0005, a rolling deploy): such tokens could always write. New tokens name theirs.
    scope: Mapped[str] = mapped_column(String(16), server_default="write")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def is_live(self, now: datetime) -> bool:
        """Not revoked and not expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
