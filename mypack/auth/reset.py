"""Password reset by mail: a signed link that works once, for PASSWORD_RESET_SECONDS.

Asking (:func:`request_link`) writes one outbox row for the email typed, whether an
account has it or not, and nothing else: the answer, its time and the statements it
runs are the same either way, so the form tells nobody which emails have accounts.
Whether a mail goes out is decided when it is sent (:func:`prepare_mail`, registered
with the outbox by ``mypack.auth.setup``): only to an active account, with a link
minted then. The link's token is therefore never stored, in the outbox or anywhere.

The token is signed under a salt of its own (mypack.auth.links). It carries the
user's id and a fingerprint of their password hash and email: once the password is
set (by this link, a change, an admin) or the email changed, the fingerprint no
longer matches and the link is dead.
That makes it single-use without a table of links.
"""

from __future__ import annotations

import hmac
import math
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from mypack import audit
from mypack.auth import links, service
from mypack.auth.models import User, normalize_email
from mypack.database import utcnow
from mypack.exceptions import Invalid
from mypack.extensions import db
from mypack.outbox import service as outbox
from mypack.outbox.kinds import Skip

#: The outbox kind, and the mail templates' name (templates/mail/password_reset.*).
KIND = "password_reset"
#: Keeps these tokens apart from every other value signed with the app's key.
SALT = "mypack.auth.password-reset"
#: The window of PASSWORD_RESET_MAILS_PER_HOUR.
MAIL_WINDOW = timedelta(hours=1)

EXPIRED = "This link has expired; ask for a new one."
INVALID = "This link was already used or is not valid; ask for a new one if you need it."


class LinkExpired(Invalid):
    """The link was ours, but is older than PASSWORD_RESET_SECONDS."""

    def __init__(self) -> None:
        super().__init__(EXPIRED)


class LinkInvalid(Invalid):
    """Not a link of ours, or one that was used (the password changed since), or whose
    account has gone, is deactivated or has another email now. One kind for all: they
    are told apart in nothing but the log."""

    def __init__(self) -> None:
        super().__init__(INVALID)


# --- asking ---------------------------------------------------------------------------------

def request_link(email: str) -> None:
    """Ask for a reset link to ``email``: the same work whether or not an account has it.

    Audited (the email as typed, the client's address), and one outbox row written
    unless PASSWORD_RESET_MAILS_PER_HOUR rows were written to this address in the
    last hour. The limit counts rows, not accounts, so it holds alike for every email
    and says nothing about any.
    """
    email = normalize_email(email)
    if not service.could_be_an_account(email):
        return  # no account can have it (longer than the column in lower case)
    limit = current_app.config["PASSWORD_RESET_MAILS_PER_HOUR"]
    within = outbox.written_since(KIND, email, utcnow() - MAIL_WINDOW) < limit
    audit.record("password_reset_request", None, email=email,
                 detail="" if within else f"not mailed: {limit} per hour already")
    if within:
        outbox.enqueue(KIND, email, {})
    db.session.commit()


def prepare_mail(recipient: str, context: dict[str, Any]) -> dict[str, Any]:
    """The values of a reset mail, when it is sent: for an active account only, with a
    link minted now (mypack.outbox.kinds).

    :raise Skip: no active account has this address (the row is done with, unsent).
    """
    user = service.find_user(recipient)
    if user is None or not user.active:
        raise Skip("no active account has this address")
    seconds = current_app.config["PASSWORD_RESET_SECONDS"]
    return {"name": user.display_name, "token": make_token(user),
            "minutes": max(1, math.floor(seconds / 60)),
            "expires_at": (utcnow() + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M UTC")}


# --- the link -------------------------------------------------------------------------------

def fingerprint(user: User) -> str:
    """What the link remembers of the account: changes when its password or email does."""
    return links.digest(user.password_hash, user.email)


def make_token(user: User) -> str:
    """A reset token for ``user``, good until its password changes or it expires."""
    return links.make(SALT, [user.id, fingerprint(user)])


def user_for(token: str, lock: bool = False) -> User:
    """The active user a reset token is for; with ``lock``, their row is locked (PostgreSQL,
    MySQL) until the transaction ends, and read as it is now.

    :raise LinkExpired: the token is ours, but too old.
    :raise LinkInvalid: anything else: not ours, used, or the account is not there,
        not active, or changed its email.
    """
    try:
        user_id, remembered = links.read(SALT, token, current_app.config["PASSWORD_RESET_SECONDS"],
                                         length=2)
    except links.Expired:
        raise LinkExpired() from None
    except links.Unreadable:
        raise LinkInvalid() from None
    if not isinstance(user_id, int) or not isinstance(remembered, str):
        raise LinkInvalid()
    query = select(User).where(User.id == user_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    user = db.session.scalar(query)
    if user is None or not user.active or not hmac.compare_digest(fingerprint(user), remembered):
        raise LinkInvalid()
    return user


def set_password(token: str, new: str) -> User:
    """Set the password of the token's user, once: every session of theirs ends, their
    API tokens are revoked, their email's lock-out is lifted, and it is audited.

    The user's row is locked while the link is checked and the password set, so two
    posts of one link at the same moment set it once: the second finds the new
    password's fingerprint, and the link used.

    :raise LinkExpired: see :func:`user_for`.
    :raise LinkInvalid: see :func:`user_for`.
    :raise AccountError: the new password is unacceptable (nothing changed; the link
        still works).
    """
    try:
        user = user_for(token, lock=True)
        service.set_forgotten_password(user, new)
    except Exception:
        db.session.rollback()  # the row's lock goes, and nothing half-done stays
        raise
    return user
