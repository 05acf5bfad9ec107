"""The fields API requests are read with: each accepts only what its column stores.

A value the database would refuse (too long, out of range, the wrong type) is a 422
from validation, before any statement runs: a refused statement would otherwise
reach the client as a 500, or as a 503 where the driver calls it an OperationalError
(MariaDB's strict mode). So every text field's ``Length`` comes from its column
(:func:`fits`), and every whole number has a ``Range`` within its column's type.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from mypack.database import MAX_ID
from mypack.menu.prices import PRICE_PATTERN, InvalidPrice, parse_price
from mypack.text import SEARCH_LENGTH, control_characters, printable_pattern

#: The pattern of a string without NUL (every JSON body's strings: mypack.bodies),
#: for string fields with no pattern of their own.
NO_NUL = "^[^\\x00]*$"


def column_length(attribute) -> int:
    """The length of a model attribute's text column: ``MenuItem.name`` is 100.

    :raise ValueError: the column has no length (TEXT): give the limit yourself.
    """
    length = getattr(attribute.expression.type, "length", None)
    if not length:
        raise ValueError(f"{attribute} has no length; give a Length of its own")
    return length


def fits(attribute, min: int | None = None) -> validate.Length:
    """A ``Length`` validator as long as ``attribute``'s column allows."""
    return validate.Length(min=min, max=column_length(attribute))


class Money(fields.Decimal):
    """A price: a string with at most two decimals ("3.20"), dumped with two. Loaded
    only from a string that matches the documented pattern (mypack.menu.prices, the
    staff forms' rule too): a JSON number is refused, since binary floats cannot say
    every price exactly (0.07 is 0.07000000000000000666), and an OpenAPI document
    cannot say which of them would be taken."""

    default_error_messages = {"invalid": 'Send the price as a string, such as "3.20".'}

    def __init__(self, **kwargs):
        metadata = {"type": "string", "pattern": PRICE_PATTERN, "example": "3.20",
                    "description": "A price in a string with at most two decimals. "
                                   "0 <= price < 10000.",
                    **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, allow_nan=False, metadata=metadata,
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_price(value)
        except InvalidPrice as error:  # its message says what to fix
            raise ValidationError(str(error)) from None


class Id(fields.Integer):
    """An id sent in JSON: a whole number (not a string) within the databases' range."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Flag(fields.Boolean):
    """Yes or no in a JSON body: ``true`` or ``false`` and nothing else, as documented
    (marshmallow's Boolean also takes 0, 1, "yes", "on" and more)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class QueryFlag(fields.Boolean):
    """Yes or no in a query string: ``true`` or ``false``, as OpenAPI writes a boolean
    there; any other text is refused, not read as yes or no."""

    def __init__(self, **kwargs):
        super().__init__(truthy={"true"}, falsy={"false"}, **kwargs)


class Text(fields.String):
    """A string without surrounding white space, control characters (PostgreSQL refuses
    NUL outright; ``multiline`` text may have line breaks and tabs) or lone surrogates
    (no database stores them): the rule of mypack.text, documented as its pattern."""

    default_error_messages = {"control": "Remove the control characters."}

    def __init__(self, multiline: bool = False, blank: bool = True, **kwargs):
        self._multiline = multiline
        metadata = {"pattern": printable_pattern(multiline, blank),
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if control_characters(text, self._multiline):
            raise self.make_error("control")
        return text.strip(" \t\r\n")


class Search(Text):
    """A query's search text: one line, as the menu's and the console's searches."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(max=SEARCH_LENGTH), metadata={
            "description": "Part of the name, any case."}, **kwargs)


def sort_field(allowed: dict) -> fields.String:
    """The ``sort`` parameter of a list sortable on ``allowed``, documented with its
    fields (anything else is a 400 from mypack.api.pagination.sort_clauses)."""
    names = "|".join(sorted(allowed))
    return fields.String(validate=validate.Length(max=200), metadata={
        "description": f"Comma-separated fields of {', '.join(sorted(allowed))}; "
                       "'-' for descending: -price,name.",
        "pattern": f"^-?({names})(,-?({names}))*$"})
