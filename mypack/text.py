"""The rules for text fields, in one place: control characters, email addresses and the
common lengths. The forms (WTForms), the API's fields (marshmallow, and the patterns
its OpenAPI document shows), the console's and the menu's searches, the account
service and the command line all apply these; none writes its own.

A foundation module: it imports nothing from mypack. Display names have a richer
rule of their own (by Unicode category: mypack.auth.names), prices theirs
(mypack.menu.prices).

The patterns are written in the common ground of Python's ``re`` and ECMA-262 (the
regexes of OpenAPI clients): ``\\xNN`` and ``\\uNNNN`` escapes in character classes,
and no ``\\s``, whose meaning differs between them (Python's covers ``\\x1c-\\x1f``
and ``\\x85``, ECMA's ``\\ufeff``).
"""

from __future__ import annotations

import re

# --- control characters ---------------------------------------------------------------------
#
# Refused in every text field:
# - C0 (\x00-\x1f): NUL, which PostgreSQL refuses outright; ESC, which starts terminal
#   escape sequences; the line breaks that fake lines of a log or a listing.
# - DEL (\x7f) and C1 (\x80-\x9f), with CSI (\x9b), a one-character ESC [ to many
#   terminals; no text typed by a person holds them (display names refuse them too).
# - Lone surrogates (\ud800-\udfff): UTF-8 cannot encode them, so no database stores
#   them. They are left out of the documented patterns: JSON text holds them only as
#   escapes, and an ECMA regex without the "u" flag would see every character beyond
#   U+FFFF as a pair of them.
# Multiline text (a description, notes) may also hold tabs and line breaks (\t \n \r).

#: The control characters refused on one line, as a regex character class's contents
#: (without the surrogates: see above).
LINE_CONTROLS = r"\x00-\x1f\x7f-\x9f"
#: The control characters refused in multiline text: all but \t, \n and \r.
TEXT_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
SURROGATES = r"\ud800-\udfff"

_LINE = re.compile(f"[{LINE_CONTROLS}{SURROGATES}]")
_TEXT = re.compile(f"[{TEXT_CONTROLS}{SURROGATES}]")


def control_characters(text: str, multiline: bool = False) -> bool:
    """Whether ``text`` holds a character the rule refuses: a control character (in
    ``multiline`` text, one besides tab and the line breaks) or a lone surrogate."""
    return bool((_TEXT if multiline else _LINE).search(text))


def printable_pattern(multiline: bool = False, blank: bool = True) -> str:
    """The documented pattern of text without control characters (``blank``: it may
    be empty or spaces only; else it holds something besides spaces)."""
    refused = TEXT_CONTROLS if multiline else LINE_CONTROLS
    if blank:
        return f"^[^{refused}]*$"
    return f"^[^{refused}]*[^{refused} ][^{refused}]*$"


# --- email addresses ------------------------------------------------------------------------

#: The longest email address (RFC 5321's path limit): the users.email,
#: login_throttles.email, suppliers.email and audit_events.email columns.
EMAIL_LENGTH = 254
#: White space beyond the space and the controls, spelt out (Python's \s and ECMA's
#: differ): the no-break spaces, the other Unicode spaces and the line and paragraph
#: separators; what Python's \s means besides them. (``\ufeff`` is not one.)
_UNICODE_SPACES = r"\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_EMAIL_PART = f"[^@ {LINE_CONTROLS}{_UNICODE_SPACES}]+"
#: An email address without the anchors (to build "an email or nothing"): something,
#: @, something with a dot; no white space, control characters or second @.
EMAIL_ADDRESS = f"{_EMAIL_PART}@{_EMAIL_PART}\\.{_EMAIL_PART}"
#: An account's or a supplier's email address, for the forms, the API and the CLI.
EMAIL_PATTERN = f"^{EMAIL_ADDRESS}$"


# --- lengths --------------------------------------------------------------------------------

#: A name's length: the menu_items.name, suppliers.name, api_tokens.name and
#: users.display_name columns (mypack.auth.names.MAX_LENGTH is this).
NAME_LENGTH = 100
#: A text's length: menu_items.description and suppliers.notes. Their columns are
#: TEXT, with no length of their own; this is the limit.
TEXT_LENGTH = 2000
#: A supplier's phone number: the suppliers.phone column.
PHONE_LENGTH = 40
#: A search text's length: searches look into names (NAME_LENGTH), so a longer one
#: could not match one; it is refused, not cut.
SEARCH_LENGTH = NAME_LENGTH
