"""Email confirmation: an account shows it reads mail at its address before it may
order, and a new address replaces the old one only once confirmed.

A customer who registers is sent a link (the outbox row is written with the account,
by ``service.register``); until it is used they may browse and log in, but not place
orders (:func:`require_confirmed`), and they may ask for another link
(:func:`send_again`, a few per hour). Accounts an operator makes (``create-admin``,
the console) are confirmed, and so are those that existed before confirmation was
asked for (migration 0010).

Changing one's address (:func:`request_change`) mails a link to the new address and
changes nothing else: the account keeps its old address, for logins and mail, until
the link is used. As for a reset link (mypack.auth.links), the token is minted when
the mail is sent and never stored. It carries the user's id, the address it
confirms and a fingerprint of the account's address when it was minted:

- for the account's own address, using it sets ``email_confirmed_at`` (again: "already
  confirmed");
- for another address, using it replaces the account's address, if the address it
  was minted for is still the account's (a link is used once) and no other account
  took the new one meanwhile.
"""

from __future__ import annotations

import hmac
import math
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mypack import audit
from mypack.auth import links, service
from mypack.auth.models import CONFIRMATION_KIND as KIND
from mypack.auth.models import User, normalize_email
from mypack.auth.passwords import verify_password
from mypack.database import utcnow
from mypack.exceptions import Conflict, Invalid, Locked, Refused
from mypack.extensions import db
from mypack.outbox import service as outbox
from mypack.outbox.kinds import Skip

#: Keeps these tokens apart from every other value signed with the app's key.
SALT = "mypack.auth.email-confirmation"
#: The window of EMAIL_CONFIRMATION_MAILS_PER_HOUR.
MAIL_WINDOW = timedelta(hours=1)

EXPIRED = "This confirmation link has expired; ask for a new one."
INVALID = "This confirmation link was already used or is not valid."
TAKEN = "Another account has this email address now."
UNCONFIRMED = ("Please confirm your email address before ordering: follow the link in the "
               "mail we sent to {email}, or ask for a new one.")


class EmailUnconfirmed(Refused):
    """The account's address is not confirmed, and what was asked needs it (an order)."""

    code = "email_unconfirmed"

    def __init__(self, email: str) -> None:
        super().__init__(UNCONFIRMED.format(email=email))


class AlreadyConfirmed(Conflict):
    """A link was asked for an address that is confirmed already."""

    code = "email_confirmed"

    def __init__(self) -> None:
        super().__init__("Your email address is confirmed already.")


class TooManyMails(Locked):
    """EMAIL_CONFIRMATION_MAILS_PER_HOUR links went to this address in the last hour."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("A confirmation mail was sent to this address a short while ago; "
                         "please look for it (in the spam folder too) before asking again.",
                         retry_after)


class LinkExpired(Invalid):
    """The link was ours, but is older than EMAIL_CONFIRMATION_SECONDS."""

    def __init__(self) -> None:
        super().__init__(EXPIRED)


class LinkInvalid(Invalid):
    """Not a link of ours, or one used already, or whose account has gone or is
    deactivated."""

    def __init__(self) -> None:
        super().__init__(INVALID)


# --- the rule -------------------------------------------------------------------------------

def require_confirmed(user: User) -> None:
    """:raise EmailUnconfirmed: ``user`` has not confirmed their address."""
    if user.email_confirmed_at is None:
        raise EmailUnconfirmed(user.email)


# --- asking for a link ----------------------------------------------------------------------

def send_again(user: User) -> None:
    """Mail another confirmation link to the account's address; audited.

    :raise AlreadyConfirmed: there is nothing to confirm.
    :raise TooManyMails: the address had its links for this hour.
    """
    if user.email_confirmed_at is not None:
        raise AlreadyConfirmed()
    _mail_link(user, user.email, "email_confirmation_request")


def request_change(user: User, new_email: str, password: str) -> str:
    """Ask to change the account's address to ``new_email``: a link goes there, and the
    address changes when it is used. Returns the address, normalized.

    Whether another account has the address is not said (that would tell who has
    accounts): the link is then not sent, and could not be used.

    :raise service.AccountError: the password is wrong, or the address is the
        account's already or could be no account's.
    :raise TooManyMails: the address had its links for this hour.
    """
    if not verify_password(user.password_hash, password):
        raise service.AccountError("The password is not right.",
                                   {"password": ["The password is not right."]})
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise service.AccountError("This is your email address already.")
    if not service.could_be_an_account(new_email):
        raise service.AccountError("This email address cannot be used.")
    _mail_link(user, new_email, "email_change_request")
    return new_email


def _mail_link(user: User, address: str, event: str) -> None:
    limit = current_app.config["EMAIL_CONFIRMATION_MAILS_PER_HOUR"]
    since = utcnow() - MAIL_WINDOW
    if outbox.written_since(KIND, address, since) >= limit:
        oldest = outbox.oldest_since(KIND, address, since) or utcnow()
        raise TooManyMails(max(1, math.ceil((oldest - since).total_seconds())))
    audit.record(event, user, detail="" if address == user.email else f"to {address}")
    outbox.enqueue(KIND, address, {"user_id": user.id})
    db.session.commit()


def prepare_mail(recipient: str, context: dict[str, Any]) -> dict[str, Any]:
    """The values of a confirmation mail, when it is sent, with a link minted now
    (mypack.outbox.kinds).

    :raise Skip: the account has gone or is deactivated, its address is confirmed
        already, or (a change) another account has the new address.
    """
    user = db.session.get(User, context.get("user_id"))
    if user is None or not user.active:
        raise Skip("no active account asked for it")
    change = recipient != user.email
    if not change and user.email_confirmed_at is not None:
        raise Skip("the address is confirmed already")
    if change and service.find_user(recipient) is not None:
        raise Skip("another account has the address")
    seconds = current_app.config["EMAIL_CONFIRMATION_SECONDS"]
    return {"name": user.display_name, "change": change, "old_email": user.email,
            "token": links.make(SALT, [user.id, recipient, _fingerprint(user)]),
            "hours": max(1, math.floor(seconds / 3600)),
            "expires_at": (utcnow() + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M UTC")}


def _fingerprint(user: User) -> str:
    return links.digest(user.email)


# --- using the link -------------------------------------------------------------------------

def link_for(token: str) -> tuple[User, str]:
    """The account a link is for and the address it confirms, without changing anything
    (the page that asks to confirm).

    :raise LinkExpired: the link is ours, but too old.
    :raise LinkInvalid: anything else.
    """
    return _read(token)


def confirm(token: str) -> tuple[User, bool]:
    """Use a link: confirm the account's address, or replace it with the link's. Returns
    the user, and whether anything changed (False: it was confirmed already).

    The user's row is locked while the link is checked and used, so a link posted
    twice at once is used once.

    :raise LinkExpired: see :func:`link_for`.
    :raise LinkInvalid: see :func:`link_for`.
    :raise service.AccountConflict: another account took the new address meanwhile.
    """
    try:
        user, address = _read(token, lock=True)
        if address == user.email:
            if user.email_confirmed_at is not None:
                db.session.rollback()
                return user, False
            audit.record("email_confirm", user, detail="by mail link")
        else:
            if service.find_user(address) is not None:
                raise service.AccountConflict(TAKEN)
            audit.record("email_change", user, detail=f"{user.email} -> {address}")
            user.email = address
        user.email_confirmed_at = utcnow()
        db.session.commit()
    except IntegrityError:  # the new address was taken at the same moment
        db.session.rollback()
        raise service.AccountConflict(TAKEN) from None
    except Exception:
        db.session.rollback()  # the row's lock goes, and nothing half-done stays
        raise
    return user, True


def _read(token: str, lock: bool = False) -> tuple[User, str]:
    try:
        user_id, address, remembered = links.read(
            SALT, token, current_app.config["EMAIL_CONFIRMATION_SECONDS"], length=3)
    except links.Expired:
        raise LinkExpired() from None
    except links.Unreadable:
        raise LinkInvalid() from None
    if not (isinstance(user_id, int) and isinstance(address, str)
            and isinstance(remembered, str)):
        raise LinkInvalid()
    query = select(User).where(User.id == user_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    user = db.session.scalar(query)
    if user is None or not user.active:
        raise LinkInvalid()
    if address != user.email and not hmac.compare_digest(_fingerprint(user), remembered):
        raise LinkInvalid()  # a change link minted for an address the account left: used
    return user, address


# --- by an operator -------------------------------------------------------------------------

def confirm_by_operator(email: str) -> tuple[User, bool]:
    """Confirm an account's address for its owner (``mypack user confirm``: the mail
    never arrived, and the owner showed their address another way); audited.

    :raise service.NoSuchAccount: no account has this email.
    """
    user = service.get_user(email)
    if user.email_confirmed_at is not None:
        return user, False
    user.email_confirmed_at = utcnow()
    audit.record("email_confirm", user, detail="by an operator")
    db.session.commit()
    return user, True
