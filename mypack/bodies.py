"""How request bodies are read: one strict JSON loader for every JSON body.

Python's ``json`` reads more than any view can use, and some of it fails far from
where it was read: nesting 10,000 deep (a RecursionError), ``1e999999`` (infinity),
a 100,000-digit integer (a ValueError from ``int()``), ``NaN``, and strings holding a
NUL (PostgreSQL refuses it) or a lone surrogate (no UTF-8 database can encode it).
:func:`loads` refuses all of them, so a body is either readable everywhere or a 400
in the one error shape, and it runs before authentication and before the database
(mypack.security reads every JSON body first, with :func:`json_body`).

Everything that reads JSON uses it: Flask's ``request.get_json()`` through the app's
JSON provider (:class:`StrictJSONProvider`), and the API's resources through their
Blueprint (mypack.api.parsing), whose webargs parser reads the same parsed body.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

from mypack.errors import with_fields

#: The deepest nesting read: far more than any request needs (an order is 3 deep).
MAX_DEPTH = 32
#: The longest number read, in characters: more than any field can hold.
MAX_NUMBER_LENGTH = 100
#: The message for a string no database stores.
UNSTORABLE = "Remove the NUL character or the lone surrogate."
TOO_LONG = f"A number in the body is longer than {MAX_NUMBER_LENGTH} characters."

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_PAIR = re.compile(r"\[\]|\{\}")


class UnreadableJSON(ValueError):
    """A body :func:`loads` refuses: ``str()`` says why, ``path`` which member it is
    (``lines.1.item_id``) when one is to blame."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


def loads(data: str | bytes) -> Any:
    """The JSON document ``data`` holds, if every part of it can be used.

    :raise UnreadableJSON: not UTF-8, not JSON, nested deeper than MAX_DEPTH, a number
        that is not finite or longer than MAX_NUMBER_LENGTH, ``NaN`` or ``Infinity``,
        or a string or member name with a NUL or a lone surrogate.
    """
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableJSON("The body is not UTF-8 text.") from None
    if _too_deep(data):
        raise UnreadableJSON(f"The body is not JSON nested at most {MAX_DEPTH} deep.")
    try:
        document = json.loads(data, parse_int=_integer, parse_float=_float,
                              parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise UnreadableJSON(f"The body is not JSON: {error.msg} (line {error.lineno}, "
                             f"column {error.colno}).") from None
    _check_strings(document)
    return document


def _too_deep(text: str) -> bool:
    # Decided before parsing: json's scanner recurses once per level, and would use
    # up the stack (a RecursionError) on what it then only hands back to be refused.
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # most bodies: not even that many brackets in all
    # The brackets alone, outside strings; each pass takes away the innermost pairs.
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        brackets, found = _PAIR.subn("", brackets)
        if not brackets:
            return False
        if not found:
            break  # unbalanced: not JSON, and maybe unclosed 10,000 deep
    return True


def _integer(text: str) -> int:
    # Checked before int(), whose time grows with the square of the digits.
    if len(text) > MAX_NUMBER_LENGTH:
        raise UnreadableJSON(TOO_LONG)
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_LENGTH:
        raise UnreadableJSON(TOO_LONG)
    value = float(text)
    if not math.isfinite(value):  # 1e999999 is read as infinity
        raise UnreadableJSON("A number in the body is beyond the range of a double.")
    return value


def _constant(name: str):
    raise UnreadableJSON(f"{name} is not a JSON number.")


def _check_strings(document: Any) -> None:
    # Without recursion: the depth is bounded, but a loop costs less than calls.
    waiting = [(document, "")]
    while waiting:
        value, path = waiting.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise UnreadableJSON(UNSTORABLE, path)
        elif isinstance(value, dict):
            for key, member in value.items():
                if _UNSTORABLE.search(key):
                    raise UnreadableJSON(UNSTORABLE, path)
                waiting.append((member, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            waiting.extend((member, f"{path}.{index}" if path else str(index))
                           for index, member in enumerate(value))


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with :func:`loads` (``request.get_json()`` included)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


def json_body() -> Any:
    """The request's JSON body, read once with :func:`loads` and kept for the rest of
    the request.

    :raise 400: :class:`UnreadableJSON`, with the member to blame as the field.
    """
    if "_mypack_json_body" not in g:
        try:
            g._mypack_json_body = loads(request.get_data(cache=True))
        except UnreadableJSON as refused:
            raise with_fields(BadRequest(str(refused)), {refused.path: [str(refused)]}
                              if refused.path else {}) from None
    return g._mypack_json_body


def has_json_body() -> bool:
    """Whether the request says it carries JSON and carries something."""
    return request.is_json and bool(request.content_length
                                     or request.headers.get("Transfer-Encoding"))
