"""Prices: the one format the API and the staff forms accept, and what it means.

A price is written as 1 to 4 ASCII digits, optionally a point and 1 or 2 more:
``PRICE_PATTERN``, which the OpenAPI document shows, is the whole rule. So a price is
from 0 to 9999.99, exact to the cent, with no sign, exponent, separator, space or
other script's digits. Python is more lenient than the rule in every way:
``Decimal()`` takes "-0", "1_000", "1e3", " 3.2 ", "NaN" and Arabic-Indic digits, and
``re``'s ``\\d`` and ``$`` match non-ASCII digits and a final newline; so the pattern
is compiled with ``re.ASCII`` and matched whole.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

#: Every price on the site shows as this symbol and the amount with two decimals.
CURRENCY = "€"
CENT = Decimal("0.01")

#: The documented pattern (ECMA-262 regex, as OpenAPI means it: \d is [0-9]).
PRICE_PATTERN = r"^\d{1,4}(\.\d{1,2})?$"
#: Prices are below this (the Numeric(10, 2) column could hold far more).
PRICE_LIMIT = Decimal("10000")

_PRICE = re.compile(PRICE_PATTERN, re.ASCII)
# What the messages look into: a plain decimal number of any size, to say what is
# wrong with it. Longer text is not worth reading.
_NUMBER = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?", re.ASCII)

ENTER_A_PRICE = "Enter a price such as 3.20."
NEGATIVE = "The price cannot be negative."
TOO_LARGE = f"The price must be below {PRICE_LIMIT}."
TOO_PRECISE = "A price has at most two decimal places."


class InvalidPrice(ValueError):
    """Text that is not a price; the message says what to fix."""


def parse_price(text: str) -> Decimal:
    """The price ``text`` writes, with two decimal places.

    :raise InvalidPrice: ``text`` does not match PRICE_PATTERN.
    """
    if _PRICE.fullmatch(text):
        return Decimal(text).quantize(CENT)
    raise InvalidPrice(_what_is_wrong(text))


def _what_is_wrong(text: str) -> str:
    if not _NUMBER.fullmatch(text):
        return ENTER_A_PRICE
    value = Decimal(text)
    if value < 0:
        return NEGATIVE
    if value >= PRICE_LIMIT:
        return TOO_LARGE
    if value != value.quantize(CENT):
        return TOO_PRECISE
    return ENTER_A_PRICE  # "-0", "00001": the right number, not written as a price


def money(value: Decimal | int | str | None) -> str:
    """A price as the site shows it, ``€3.20`` (``€1,250.00``); nothing for None."""
    if value is None:
        return ""
    return f"{CURRENCY}{Decimal(value).quantize(CENT, ROUND_HALF_UP):,.2f}"
