"""Display names: the one rule for every way a name is set, and a safe way to show one
stored without it.

The service (mypack.auth.service) applies the rule to every name it stores, so the
pages, the admin console and the command line share it; the forms apply it too, to
answer next to the field.

A name is shown to other people (staff on orders, admins in lists, the operator in
``mypack user list``, the audit log), so it may hold any letter, mark, digit,
punctuation, symbol or space of any script, but nothing that acts instead of being
seen. Refused, by Unicode category:

- Cc, control characters: C0 (with ESC, which starts terminal escape sequences, and
  the line breaks that fake rows of a listing), DEL and C1 (with CSI, a one-character
  ESC [).
- Cf, format characters: the bidirectional overrides, embeddings and isolates
  (U+202A-U+202E, U+2066-U+2069) that show text backwards ("Trojan Source"), the
  directional marks, zero-width spaces, the word joiner, the byte order mark, soft
  hyphens and the tag characters (invisible: they hide text inside a name or make
  two names look alike). Except the zero-width non-joiner and joiner (U+200C,
  U+200D): Persian, Urdu and the Indic scripts spell words with them, and emoji
  sequences (a family, a profession) are made with the joiner. The flags of
  England, Scotland and Wales are spelt with tag characters, and so refused.
- Zl and Zp, the line and paragraph separators: line breaks under other names.
- Cs, lone surrogates: no database stores them.

Unassigned and private-use code points are allowed: an emoji newer than this
Python's Unicode tables is unassigned here.
"""

from __future__ import annotations

import unicodedata

from mypack.text import NAME_LENGTH

#: The longest name (the users.display_name column): a name's length.
MAX_LENGTH = NAME_LENGTH
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
#: The format characters that real names and emoji need (see above).
JOINERS = frozenset({"\u200c", "\u200d"})


def is_refused(char: str) -> bool:
    """Whether no display name may hold ``char`` (a single character)."""
    return unicodedata.category(char) in REFUSED_CATEGORIES and char not in JOINERS


def clean_name(name: str) -> str:
    """A name as it is checked and stored: without surrounding white space."""
    return (name or "").strip()


def name_problem(name: str) -> str | None:
    """What is wrong with a display name, in words for the person who typed it, or
    None. It is judged as stored, without surrounding white space."""
    name = clean_name(name)
    if not name:
        return "Enter a name."
    if len(name) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    for char in name:
        if is_refused(char):
            # Most are invisible: say which one, so it can be found.
            return f"Remove the control character U+{ord(char):04X} from the name."
    return None


def shown(text: str) -> str:
    """``text`` safe to print on a terminal: each character a name may not hold, and
    each backslash, written as a Python escape (``\\x1b``, ``\\n``, ``\\u202e``,
    ``\\\\``), so that text stored before the rule, or straight into the database, can
    neither run escape sequences nor fake lines, and reads unambiguously."""
    if not any(char == "\\" or is_refused(char) for char in text):
        return text
    return "".join(char.encode("unicode_escape").decode("ascii")
                   if char == "\\" or is_refused(char) else char for char in text)
