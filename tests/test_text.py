"""mypack.text: the one rule for control characters, emails and lengths, and the columns
and documented patterns that follow it."""

from __future__ import annotations

import re

import pytest

from mypack import text
from mypack.audit import AuditEvent
from mypack.auth.models import ApiToken, LoginThrottle, User
from mypack.menu.models import MenuItem, Supplier


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\x9b", "\ud800", "\udfff"])
def test_control_characters_are_refused_on_every_line(char):
    assert text.control_characters(f"a{char}b")
    assert text.control_characters(f"a{char}b", multiline=True)


@pytest.mark.parametrize("char", ["\t", "\n", "\r"])
def test_multiline_text_may_break_lines(char):
    assert text.control_characters(f"a{char}b")
    assert not text.control_characters(f"a{char}b", multiline=True)


@pytest.mark.parametrize("value", ["Flat white", "Zoë", "\u00a0", "\U0001f600", "\u202e", ""])
def test_printable_text_passes(value):
    # Format characters (U+202E) are the display names' own, richer rule.
    assert not text.control_characters(value)


@pytest.mark.parametrize("multiline", [False, True])
@pytest.mark.parametrize("blank", [False, True])
def test_the_documented_pattern_is_the_rule(multiline, blank):
    pattern = re.compile(text.printable_pattern(multiline, blank))
    for code in [*range(0x00, 0xa1), 0x2028, 0xfeff]:
        value = f"a{chr(code)}b"
        assert bool(pattern.match(value)) != text.control_characters(value, multiline), code
    assert bool(pattern.match("   ")) is blank


@pytest.mark.parametrize("email", ["a@b.c", "ada.lovelace+cafe@example.org", "zoë@exämple.de",
                                   "\U0001f600@example.com"])
def test_emails(email):
    assert re.match(text.EMAIL_PATTERN, email)


@pytest.mark.parametrize("email", ["", "a@b", "@b.c", "a@.c", "a@b.", "a@b@c.d", "a b@c.d",
                                   "a\u00a0b@c.d", "a\u2003b@c.d", "a\u3000@b.c", "a\tb@c.d",
                                   "a\x1b@b.c", "a\x9b@b.c", "a\x85@b.c"])
def test_not_emails(email):
    assert not re.match(text.EMAIL_PATTERN, email)


@pytest.mark.parametrize("column, length", [
    (User.email, text.EMAIL_LENGTH), (LoginThrottle.email, text.EMAIL_LENGTH),
    (Supplier.email, text.EMAIL_LENGTH), (AuditEvent.email, text.EMAIL_LENGTH),
    (User.display_name, text.NAME_LENGTH),
    (MenuItem.name, text.NAME_LENGTH), (Supplier.name, text.NAME_LENGTH),
    (ApiToken.name, text.NAME_LENGTH), (Supplier.phone, text.PHONE_LENGTH),
])
def test_the_lengths_are_the_columns(column, length):
    assert column.expression.type.length == length
