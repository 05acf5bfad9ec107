"""What can happen to an account, with its rules, whoever asks: the web pages, the
command line, later the API and the admin console. Every change is audited.

Functions change the session and commit; they raise domain exceptions that the
callers turn into responses or messages in one place each.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, Table, case, delete, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from mypack import audit
from mypack.auth import tokens
from mypack.auth.models import CONFIRMATION_KIND, ROLES, LoginThrottle, User, normalize_email
from mypack.auth.names import clean_name, name_problem
from mypack.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
    waste_time_like_a_check,
)
from mypack.database import column_length, references, utcnow
from mypack.exceptions import Conflict, Invalid, Locked, NotFound, Refused
from mypack.extensions import db
from mypack.outbox import service as outbox
from mypack.text import EMAIL_LENGTH, control_characters


class AccountLocked(Locked):
    """Too many failed logins for this email; ``retry_after`` seconds until it opens."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed logins for this account. Try again later.",
                         retry_after)


class AccountBusy(AccountLocked):
    """Every try of this email's window is taken by attempts still being checked: this
    one is refused unchecked, for a moment, and nothing is locked (they may all be
    the owner's: a program's parallel requests)."""

    def __init__(self) -> None:
        Locked.__init__(self, "Too many logins for this account at once. Try again in a "
                              "moment.", BUSY_RETRY_AFTER)


class AccountInactive(Refused):
    """The password was right but the account is deactivated."""

    def __init__(self) -> None:
        super().__init__("This account is deactivated.")


class AccountError(Invalid):
    """A change that breaks a rule (a weak password, a bad name, an unknown role); the
    kinds below say when it is no such account, or the accounts as they are now."""


class NoSuchAccount(NotFound, AccountError):
    """No account has this email."""


class AccountConflict(Conflict, AccountError):
    """The accounts as they are now refuse it: the email is taken, the last admin,
    orders that keep their customer."""


EMAIL_TAKEN = "Another account has this email."
#: Seconds a login refused for attempts in flight (AccountBusy) is asked to wait.
BUSY_RETRY_AFTER = 1
#: The throttle rows as a table: their claims are single UPDATE statements.
_THROTTLES = cast(Table, LoginThrottle.__table__)


def find_user(email: str) -> User | None:
    """The user with this email, in any spelling, or None."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def get_user(email: str) -> User:
    """The user with this email; :raise AccountError: there is none."""
    user = find_user(email)
    if user is None:
        raise NoSuchAccount(f"no user with email {normalize_email(email)}")
    return user


# --- login --------------------------------------------------------------------------------

def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are, or None.

    Each attempt claims one of the email's LOCKOUT_THRESHOLD tries before its password
    is checked (``_claim_attempt``), so the lockout holds whatever the concurrency:
    twelve attempts at one moment, in any number of processes, check at most the
    threshold's number of passwords, and the rest are refused unchecked.

    :raise AccountLocked: too many failures for this email (the right password too).
    :raise AccountInactive: right password, deactivated account.
    """
    email = normalize_email(email)
    if not could_be_an_account(email):
        # Nothing to look up or count: no account has it, and the database would
        # refuse it in the throttle row (a 500). As slow as a wrong password.
        waste_time_like_a_check(password)
        return None
    user = _claim_attempt(email)
    if user is None:
        waste_time_like_a_check(password)
    elif verify_password(user.password_hash, password):
        if not user.active:
            audit.record("login_failure", user, detail="account deactivated")
            db.session.commit()
            raise AccountInactive()
        _login_succeeded(user, password)
        return user
    _login_failed(email, user)
    return None


def could_be_an_account(email: str) -> bool:
    """Whether a normalized email could be an account's at all: no longer than the
    column (lower case may be longer: "İ" becomes two characters), and without a
    control character (PostgreSQL refuses NUL outright)."""
    return (len(email) <= column_length(User, "email")
            and not control_characters(email))


def _claim_attempt(email: str) -> User | None:
    """Count an attempt on ``email`` before its password is checked; the account, if any.

    The count is the email's throttle row, written and committed before the ~0.1 s of
    the password check, so that concurrent attempts see each other: one that finds
    the threshold's worth of attempts counted in the window, finished or still being
    checked, is refused. Failures lock the email (``_login_failed``), attempts in flight
    do not: twenty parallel requests with the right password (a program's) must not
    lock their owner out for LOCKOUT_DURATION. A success forgives them.

    Usually one conditional UPDATE claims the try; a first attempt on an email, a
    locked one or one whose tries are all taken goes through the row lock instead.

    :raise AccountLocked: the email is locked.
    :raise AccountBusy: its tries are all taken by attempts being checked.
    """
    config = current_app.config
    now = utcnow()
    window_start = now - timedelta(seconds=config["LOCKOUT_WINDOW"])
    user, throttle = _user_and_throttle(email)
    if throttle is None:
        _create_throttle(email, now)
    elif _counted(email, now, window_start):
        db.session.commit()
        return user
    throttle = _throttle_for_update(email, now)
    if throttle.locked_until is not None and throttle.locked_until > now:
        db.session.commit()
        raise AccountLocked(math.ceil((throttle.locked_until - now).total_seconds()))
    if throttle.window_started_at < window_start:
        throttle.failures, throttle.window_started_at = 0, now
    if throttle.failures >= config["LOCKOUT_THRESHOLD"]:
        # Unlocked with every try counted: the last ones are still being checked (the
        # failure that spent the last would have locked the email).
        db.session.commit()
        raise AccountBusy()
    throttle.failures += 1
    db.session.commit()
    return user


def _user_and_throttle(email: str) -> tuple[User | None, LoginThrottle | None]:
    """The account and the throttle row of an email, either may be missing, in one
    query (a login is otherwise a query each)."""
    probe = select(literal(email).label("email")).subquery()
    row = db.session.execute(
        select(User, LoginThrottle).select_from(probe)
        .outerjoin(User, User.email == probe.c.email)
        .outerjoin(LoginThrottle, LoginThrottle.email == probe.c.email)).one()
    return row[0], row[1]


def _counted(email: str, now: datetime, window_start: datetime) -> bool:
    """Count one more try on an unlocked email with tries left, in one statement;
    False if the row is not such (the caller then decides under the row lock)."""
    table = _THROTTLES
    expired = table.c.window_started_at < window_start
    result = cast(CursorResult[Any], db.session.execute(
        update(table)
        .where(table.c.email == email,
               or_(table.c.locked_until.is_(None), table.c.locked_until <= now),
               or_(table.c.failures < current_app.config["LOCKOUT_THRESHOLD"], expired))
        # In this order: MySQL's SET sees the values assigned before it.
        .ordered_values((table.c.failures, case((expired, 1), else_=table.c.failures + 1)),
                        (table.c.window_started_at,
                         case((expired, now), else_=table.c.window_started_at)))))
    return result.rowcount == 1


def _lock(throttle: LoginThrottle, user: User | None, email: str, now: datetime) -> None:
    config = current_app.config
    throttle.locked_until = now + timedelta(seconds=config["LOCKOUT_DURATION"])
    throttle.failures = 0
    audit.record("lockout", user, email=email, detail=f"{config['LOCKOUT_THRESHOLD']} failures")


def _login_succeeded(user: User, password: str) -> None:
    # Earlier failures are forgiven (the row stays, for the next login's one-statement
    # claim); a lock that attempts running alongside this one set meanwhile is not:
    # this password was checked within the tries, theirs were not.
    table = _THROTTLES
    db.session.execute(update(table).where(
        table.c.email == user.email,
        or_(table.c.locked_until.is_(None), table.c.locked_until <= utcnow()),
    ).values(failures=0))
    if needs_rehash(user.password_hash):
        # Stored with weaker parameters: now that we have the password, upgrade it.
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record("login_success", user)
    db.session.commit()


def _login_failed(email: str, user: User | None) -> None:
    """The claimed attempt failed: lock the email if it was the threshold's."""
    now = utcnow()
    throttle = _throttle_for_update(email, now)
    audit.record("login_failure", user, email=email)
    unlocked = throttle.locked_until is None or throttle.locked_until <= now
    if unlocked and throttle.failures >= current_app.config["LOCKOUT_THRESHOLD"]:
        _lock(throttle, user, email, now)
    db.session.commit()


def _throttle_for_update(email: str, now: datetime) -> LoginThrottle:
    """The email's throttle row, locked (PostgreSQL, MySQL) until the transaction ends,
    so that concurrent attempts in several processes each count."""
    # populate_existing: the row as locked now, not as this session read it before.
    query = (select(LoginThrottle).where(LoginThrottle.email == email).with_for_update()
             .execution_options(populate_existing=True))
    throttle = db.session.scalar(query)
    if throttle is None:  # unlocked (deleted) since it was read
        _create_throttle(email, now)
        throttle = db.session.scalars(query).one()
    return throttle


def _create_throttle(email: str, now: datetime) -> None:
    """Insert an email's throttle row in a transaction of its own; a concurrent
    attempt that inserted it first is just as good.

    Never under a lock on the missing row: InnoDB would take a gap lock there, and
    concurrent first attempts would deadlock on their inserts. The loser of the race
    rolls back whole, which frees the lock its failed insert took (a savepoint
    would keep it, to deadlock with the winner's next statement).
    """
    db.session.add(LoginThrottle(email=email, failures=0, window_started_at=now))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def unlock(email: str) -> None:
    """Forget the failures and lock of an email (``mypack user unlock``).

    Emails without an account are locked alike, so they can be unlocked too; an email
    neither known nor locked is an error (most likely a typo).
    """
    email = normalize_email(email)
    user = find_user(email)
    throttle = db.session.get(LoginThrottle, email)
    if user is None and throttle is None:
        raise NoSuchAccount(f"no user with email {email}, and no lock on it")
    if throttle is not None:
        db.session.delete(throttle)
    audit.record("unlock", user, email=email)
    db.session.commit()


# --- accounts -------------------------------------------------------------------------------

def register(email: str, display_name: str, password: str, role: str = "customer",
             confirmed: bool = False) -> User | None:
    """Create an account; None when the email is taken (the caller must not say so).

    A ``confirmed`` account's email is taken as its owner's (an operator made it:
    ``create-admin``, the console); any other is sent a confirmation link, written
    with the account (mypack.auth.confirmation), and may not order until it is used.

    :raise AccountError: the email, name, password or role is not acceptable.
    """
    email = normalize_email(email)
    if not could_be_an_account(email):
        raise AccountError(f"an email address has at most {EMAIL_LENGTH} characters "
                           "(in lower case) and no control characters")
    display_name = _require_name(display_name)
    _require_password(password, email)
    _require_role(role)
    if find_user(email) is not None:
        waste_time_like_a_check(password)  # as long as hashing a new password
        return None
    user = User(email=email, display_name=display_name, role=role,
                password_hash=hash_password(password),
                email_confirmed_at=utcnow() if confirmed else None)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # registered at the same moment by another request
        db.session.rollback()
        return None
    audit.record("register", user, detail="email confirmed" if confirmed else "")
    if not confirmed:
        outbox.enqueue(CONFIRMATION_KIND, email, {"user_id": user.id})
    db.session.commit()
    return user


def change_name(user: User, display_name: str) -> None:
    """A user's new display name (the profile page); audited when it changed.

    :raise AccountError: the name breaks the rule (mypack.auth.names).
    """
    display_name = _require_name(display_name)
    if display_name != user.display_name:
        audit.record("profile_change", user, detail=f"name {user.display_name} -> {display_name}")
        user.display_name = display_name
    db.session.commit()


def set_mail_order_updates(user: User, wanted: bool) -> None:
    """Whether ``user`` is mailed when an order is ready or cancelled; audited when it
    changed."""
    if wanted != user.mail_order_updates:
        audit.record("profile_change", user,
                     detail=f"mail of order updates {'on' if wanted else 'off'}")
        user.mail_order_updates = wanted
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    """Change a password knowing the current one; ends the user's other sessions.

    :raise AccountError: the current password is wrong or the new one unacceptable.
    """
    if not verify_password(user.password_hash, current):
        raise AccountError("The current password is not right.")
    _set_password(user, new, "password_change")


def reset_password(email: str, new: str) -> User:
    """Set a password without the current one (an administrator's ``reset-password``)."""
    user = get_user(email)
    _set_password(user, new, "password_reset")
    return user


def set_forgotten_password(user: User, new: str) -> None:
    """Set a password without the current one, its owner having shown they read the
    account's mail (a reset link, mypack.auth.reset): as a change does, every session
    ends and every API token is revoked; and the email's lock-out is lifted, as
    ``mypack user unlock`` would, since whoever locked it did not know the password
    either. The caller holds the user's row (it checked the link against it).

    :raise AccountError: the new password is unacceptable (nothing is changed).
    """
    _require_password(new, user.email)  # before anything is written
    table = _THROTTLES
    db.session.execute(update(table).where(table.c.email == user.email)
                       .values(failures=0, locked_until=None))
    _set_password(user, new, "password_reset", detail="by mail link")


def _set_password(user: User, new: str, event: str, detail: str = "") -> None:
    _require_password(new, user.email)
    user.password_hash = hash_password(new)
    user.end_sessions()
    tokens.revoke_all(user)
    audit.record(event, user, detail=detail)
    db.session.commit()


def set_role(email: str, role: str) -> User:
    """Give a user another role; the last active admin keeps theirs."""
    _require_role(role)
    user = get_user(email)
    _change_role(user, role)
    db.session.commit()
    return user


def set_active(email: str, active: bool) -> User:
    """Activate or deactivate a user; deactivation ends their sessions."""
    user = get_user(email)
    _change_active(user, active)
    db.session.commit()
    return user


def update_user(user: User, *, email: str, display_name: str, role: str, active: bool,
                password: str | None = None) -> None:
    """Change an account in one transaction (the admin console's edit form), with the
    rules of the single changes: a role or deactivation the last admin would lose is
    refused, a new password follows the policy and ends the user's sessions, and
    each change is audited. Nothing is changed when a rule is broken.

    :raise AccountError: the email is another account's, the name breaks the rule,
        the role is unknown, the password is weak, or the last active admin would
        stop being one.
    """
    email = normalize_email(email)
    display_name = _require_name(display_name)
    _require_role(role)
    if password:
        _require_password(password, email)
    if email != user.email and find_user(email) is not None:
        raise AccountConflict(EMAIL_TAKEN)
    try:
        changed = [f"{name} {old} -> {new}" for name, old, new in (
            ("email", user.email, email), ("name", user.display_name, display_name))
            if old != new]
        if changed:
            audit.record("profile_change", user, detail="; ".join(changed))
            if email != user.email:  # an admin vouches for the address they type
                user.email_confirmed_at = utcnow()
            user.email, user.display_name = email, display_name
        _change_role(user, role)
        _change_active(user, active)
        if password:
            user.password_hash = hash_password(password)
            user.end_sessions()
            tokens.revoke_all(user)
            audit.record("password_reset", user)
        db.session.commit()
    except AccountError:
        db.session.rollback()
        raise
    except IntegrityError:  # the email was taken at the same moment
        db.session.rollback()
        raise AccountConflict(EMAIL_TAKEN) from None


def delete_user(user: User) -> None:
    """Delete an account that has placed no orders; its API tokens go with it, its
    audit trail stays (without the link to the account).

    :raise AccountError: it is the last active admin, or it has orders, which must
        keep their customer (deactivate the account instead).
    """
    if user.role == "admin" and user.active:
        _require_another_admin(user)
    orders = _orders_of(user)
    if orders:
        raise AccountConflict(f"{user.email} has {orders} order(s), which must keep their "
                           "customer: deactivate the account instead.")
    audit.record("user_delete", None, email=user.email, detail=f"user {user.id}, {user.role}")
    # A DELETE statement: the database cascades to tokens and keeps the audit rows,
    # and its foreign key refuses the delete if an order was placed since the count.
    try:
        db.session.execute(delete(User).where(User.id == user.id))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountConflict(f"{user.email} has just placed an order: deactivate the "
                           "account instead.") from None


def _orders_of(user: User) -> int:
    # Orders reference their customer; they are a layer above accounts, so their
    # foreign key is asked rather than their model imported.
    return references(db.session, user).get("orders", 0)


def _change_role(user: User, role: str) -> None:
    if user.role == "admin" and role != "admin":
        _require_another_admin(user)
    if user.role != role:
        audit.record("role_change", user, detail=f"{user.role} -> {role}")
        user.role = role
        user.end_sessions()  # rights changed: sessions start over


def _change_active(user: User, active: bool) -> None:
    if not active and user.role == "admin":
        _require_another_admin(user)
    if user.active != active:
        user.active = active
        if not active:
            user.end_sessions()
            tokens.revoke_all(user)
        audit.record("activate" if active else "deactivate", user)


def list_users() -> list[User]:
    """Every user, by email."""
    return list(db.session.scalars(select(User).order_by(User.email)))


def _require_name(display_name: str) -> str:
    """The name as stored; :raise AccountError: it breaks the rule (mypack.auth.names)."""
    problem = name_problem(display_name)
    if problem:
        raise AccountError(problem)
    return clean_name(display_name)


def _require_password(password: str, email: str) -> None:
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)


def _require_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")


def _require_another_admin(user: User) -> None:
    others = db.session.scalar(select(db.func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id))
    if not others:
        raise AccountConflict(f"{user.email} is the last active admin; make another admin first")


def prune_throttles() -> int:
    """Delete the throttle rows that count nothing any more: not locked, and their
    window of failures over (rows of emails no account has, most of them). A login
    makes its row again; how many went."""
    now = utcnow()
    result = db.session.execute(delete(LoginThrottle).where(
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        LoginThrottle.window_started_at
        < now - timedelta(seconds=current_app.config["LOCKOUT_WINDOW"])))
    db.session.commit()
    return int(getattr(result, "rowcount", 0))
