"""API tokens: made, listed, revoked; looked up by the Bearer header.

A token carries a scope (:data:`SCOPES`): ``read`` lets a program only read (safe
HTTP methods), ``write`` lets it do whatever its user's role may. Basic
authentication and browser sessions have no scope: they have the user's full rights.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from mypack import audit
from mypack.auth.models import TOKEN_SCOPES, ApiToken, User
from mypack.database import utcnow
from mypack.exceptions import Refused
from mypack.extensions import db

#: 32 random bytes: 256 bits from the operating system's CSPRNG.
TOKEN_BYTES = 32
PREFIX_LENGTH = 8
#: How precisely a token's last use is recorded.
LAST_USED_RESOLUTION = timedelta(minutes=1)

#: Scopes from least to most rights; a scope has the rights of those before it.
SCOPES = TOKEN_SCOPES
READ, WRITE = SCOPES
#: What the API and the profile page make when the user does not choose.
DEFAULT_SCOPE = READ


class ScopeTooWide(Refused):
    """A token asked to make a token with more scope than its own."""

    def __init__(self, scope: str, within: str | None):
        super().__init__(f"This token's scope is {within}; it cannot make a token with "
                         f"the {scope} scope.")
        self.scope, self.within = scope, within


def covers(held: str | None, needed: str) -> bool:
    """Whether a caller with scope ``held`` (None: no token, the user's full rights)
    may do what needs ``needed``."""
    if needed not in SCOPES:
        raise ValueError(needed)
    return held is None or SCOPES.index(held) >= SCOPES.index(needed)


def digest(token: str) -> str:
    """What is stored of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(user: User, name: str, expires_in_days: int | None = None, scope: str = WRITE,
           within: str | None = None) -> tuple[str, ApiToken]:
    """Make a token for ``user``; returns the token (shown once) and its record.

    ``within`` is the scope of the token that asks (None: a password or a session).
    The default ``scope`` is what every token could do before tokens had scopes; the
    API and the profile page always pass the one the user chose (DEFAULT_SCOPE if none).

    :raise ValueError: an unknown scope.
    :raise ScopeTooWide: ``scope`` is more than ``within``.
    """
    if not covers(within, scope):
        raise ScopeTooWide(scope, within)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    record = ApiToken(user_id=user.id, name=name.strip(), digest=digest(token),
                      prefix=token[:PREFIX_LENGTH], scope=scope, created_at=now,
                      expires_at=now + timedelta(days=expires_in_days) if expires_in_days
                      else None)
    db.session.add(record)
    audit.record("token_create", user,
                 detail=f"token {record.prefix}… {record.name} ({record.scope})")
    db.session.commit()
    return token, record


def user_for(token: str) -> User | None:
    """The active user whose live token this is, or None."""
    record = live(token)
    return None if record is None else record.user


def live(token: str) -> ApiToken | None:
    """The live token of an active user this is (its user loaded), or None."""
    if not token:
        return None
    record = db.session.scalar(select(ApiToken).where(ApiToken.digest == digest(token))
                               .options(joinedload(ApiToken.user)))
    now = utcnow()
    if record is None or not record.is_live(now) or not record.user.active:
        return None
    # The last use is kept to the minute: writing it on every call would cost every
    # API request an UPDATE and a commit.
    if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
        record.last_used_at = now
        db.session.commit()
    return record


def list_for(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones included, marked)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id.desc())))


def revoke(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of the user's tokens; None when they have no such token.

    Any of them, whatever its scope: what the user may do with their password, a
    token that may write (the caller checks that) may do too.
    """
    record = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                      ApiToken.user_id == user.id))
    if record is None:
        return None
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record("token_revoke", user, detail=f"token {record.prefix}… {record.name}")
        db.session.commit()
    return record


def revoke_all(user: User) -> None:
    """Revoke every live token of the user (password change, deactivation); the caller
    commits."""
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                              ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))


def prune(keep_days: int) -> int:
    """Delete the tokens expired or revoked more than ``keep_days`` ago (their owners
    saw them as such on the profile meanwhile); how many."""
    gone = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(delete(ApiToken).where(or_(ApiToken.expires_at < gone,
                                                           ApiToken.revoked_at < gone)))
    db.session.commit()
    return int(getattr(result, "rowcount", 0))
