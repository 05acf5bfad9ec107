"""Mail whose content is decided when it is sent, not when it is written.

Most mail is fixed when its change commits (a receipt says what was ordered). Some
must be decided at the last moment, by the package that knows what it means: a
password-reset mail is written for whatever email was typed, so that the request
does the same work whether or not an account has it, and only the delivery looks the
account up, mints the link and decides whether to send at all. Such a package
registers a ``prepare`` function for its kind (from its ``init_app``), and the
delivering task calls it. The outbox imports nothing of theirs: the arrow of the
layers stays one-way (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

#: ``prepare(recipient, context)``: the template's values, or raise :class:`Skip`.
Prepare = Callable[[str, dict[str, Any]], dict[str, Any]]

EXTENSION = "mypack.outbox.kinds"


class Skip(Exception):
    """Send nothing for this row, and why (logged at INFO; the row is done with)."""


def register(app: Flask, kind: str, prepare: Prepare) -> None:
    """Have ``prepare`` decide the values of ``kind`` mail of ``app`` at sending time."""
    app.extensions.setdefault(EXTENSION, {})[kind] = prepare


def prepare(kind: str, recipient: str, context: dict[str, Any]) -> dict[str, Any]:
    """The values a mail of ``kind`` is rendered with: its registered ``prepare``'s, else
    the ``context`` it was written with.

    :raise Skip: the mail is not to be sent.
    """
    prepare = current_app.extensions.get(EXTENSION, {}).get(kind)
    return context if prepare is None else prepare(recipient, context)
