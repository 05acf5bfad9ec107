"""Signed links mailed to an account: a password reset (mypack.auth.reset) and an
email confirmation (mypack.auth.confirmation).

A link's token is signed with the app's key (``SECRET_KEY``, and its fallbacks while
keys rotate) under a salt of its kind, so no other signed value (a session, a
remember cookie, the other kind of link) can pass for one. Tokens are never stored:
each kind checks what its token says against the account as it is now, which is
what makes a link single-use.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

#: What the serializer makes (URL-safe base64 and dots), of a sane length: anything
#: else is not a link of ours, and never reaches the decoder (a lone surrogate in a
#: path would fail its UTF-8 encoding: a 500).
TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,512}")


class Expired(Exception):
    """The token is ours, but older than its kind allows."""


class Unreadable(Exception):
    """Not a token of this kind: malformed, tampered with, signed with another key or
    under another salt."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    config = current_app.config
    # The current key signs; the fallbacks still verify (itsdangerous: newest last).
    keys = [*(config.get("SECRET_KEY_FALLBACKS") or ()), config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=salt,
                                  signer_kwargs={"digest_method": hashlib.sha256})


def make(salt: str, payload: list[Any]) -> str:
    """A token of the kind ``salt`` carrying ``payload`` (readable by whoever holds it:
    signed, not encrypted)."""
    return _serializer(salt).dumps(payload)


def read(salt: str, token: Any, max_age: int, length: int) -> list[Any]:
    """The payload of a token of the kind ``salt``, a list of ``length`` values.

    :raise Expired: the token is ours, but older than ``max_age`` seconds.
    :raise Unreadable: it is not a token of this kind.
    """
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise Unreadable()
    try:
        payload = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:  # only raised once the signature was found right
        raise Expired() from None
    except BadData:
        raise Unreadable() from None
    if not isinstance(payload, list) or len(payload) != length:
        raise Unreadable()  # signed by us, so never; but a key shared by mistake
    return payload


def digest(*values: str) -> str:
    """A short digest of what a link remembers of an account: the token is readable,
    so it carries this, never the values (a password hash)."""
    return hashlib.sha256("\x00".join(values).encode()).hexdigest()[:32]
