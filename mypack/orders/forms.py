"""The order forms (Flask-WTF: every form carries a CSRF token).

The quantities are one ``qty-<item id>`` field per item, as many as the menu has, so
they are read by :func:`read_quantities` rather than declared as WTForms fields.
Whatever the form says, the service checks the items, their availability and the
quantities again and reads the prices from the database.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp

from mypack.orders.models import MAX_QUANTITY, STATUSES

#: The name of an item's quantity field: ``qty-12``.
QUANTITY_PREFIX = "qty-"
# Item ids fit a 32-bit integer on every backend; quantities have at most two digits.
_ITEM_ID = re.compile(r"[1-9][0-9]{0,8}")
_QUANTITY = re.compile(r"[0-9]{1,2}")
QUANTITY_MESSAGE = f"Quantities are whole numbers from 0 to {MAX_QUANTITY}."


class QuantityError(ValueError):
    """Quantity fields that are not whole numbers from 0 to 50; ``fields`` names them."""

    def __init__(self, message: str, fields: set[str]):
        super().__init__(message)
        self.fields = fields


def quantity_field(item_id: int) -> str:
    return f"{QUANTITY_PREFIX}{item_id}"


def read_quantities(formdata: MultiDict) -> dict[int, int]:
    """``{item id: quantity}`` from the ``qty-<id>`` fields, zeros left out; an empty
    field counts as 0.

    :raise QuantityError: a field that is not a number from 0 to 50, is sent twice,
        or names no possible item id.
    """
    quantities: dict[int, int] = {}
    bad: set[str] = set()
    for name, values in formdata.lists():
        if not name.startswith(QUANTITY_PREFIX):
            continue
        item_id, text = name[len(QUANTITY_PREFIX):], values[0].strip()
        if (len(values) != 1 or not _ITEM_ID.fullmatch(item_id)
                or not (text == "" or _QUANTITY.fullmatch(text))):
            bad.add(name)
            continue
        quantity = int(text or 0)
        if quantity > MAX_QUANTITY:
            bad.add(name)
        elif quantity:
            quantities[int(item_id)] = quantity
    if bad:
        raise QuantityError(QUANTITY_MESSAGE, bad)
    return quantities


class OrderForm(FlaskForm):
    """The order and review pages: the quantities are read by :func:`read_quantities`."""


class ConfirmForm(FlaskForm):
    """The review page's "Confirm": the quantities as hidden fields, and the one-time key
    that makes a resubmitted confirmation find its order instead of placing another."""

    submission_key = HiddenField(validators=[
        DataRequired(), Length(min=16, max=64), Regexp(r"^[A-Za-z0-9_-]+$")])


class CancelForm(FlaskForm):
    """The customer's "Cancel this order" button."""


class MoveForm(FlaskForm):
    """A queue button: the status the staff member saw and the one to move to."""

    seen = HiddenField(validators=[DataRequired(), AnyOf(STATUSES)])
    status = HiddenField(validators=[DataRequired(), AnyOf(STATUSES)])
