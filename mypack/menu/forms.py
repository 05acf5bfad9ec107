"""The staff forms for items and suppliers (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from mypack.auth.forms import EMAIL
from mypack.forms import Printable, strip
from mypack.menu import service
from mypack.menu.models import CATEGORIES, MenuItem, Supplier
from mypack.menu.prices import InvalidPrice, parse_price
from mypack.text import (
    EMAIL_LENGTH,
    NAME_LENGTH,
    PHONE_LENGTH,
    TEXT_LENGTH,
)


def optional_id(value) -> int | None:
    """A select's value as a row id, or None for the empty choice."""
    return None if value in ("", None) else int(value)


class PriceField(StringField):
    """A price in the form's text, as mypack.menu.prices reads it (the API's rule):
    a Decimal with two places as ``data``; anything else is the field's error."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0]
        self.data = None
        if not text.strip():
            raise ValueError("Enter a price.")
        try:
            self.data = parse_price(text)
        except InvalidPrice as error:
            raise ValueError(str(error)) from None

    def pre_validate(self, form):
        if self.data is None and not self.process_errors:
            raise StopValidation("Enter a price.")  # the field was not sent at all

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"


class ItemForm(FlaskForm):
    name = StringField("Name", filters=[strip],
                       validators=[DataRequired(), Length(max=NAME_LENGTH), Printable()])
    category = SelectField("Category",
                           choices=[SelectChoice(c, c.capitalize()) for c in CATEGORIES])
    price = PriceField("Price")
    description = TextAreaField("Description", filters=[strip],
                                validators=[Length(max=TEXT_LENGTH), Printable(multiline=True)])
    supplier_id = SelectField("Supplier", coerce=optional_id)
    available = BooleanField("Available", default=True)

    def __init__(self, *args, suppliers: Sequence[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        # Only existing suppliers validate: a tampered id is "Not a valid choice".
        self.supplier_id.choices = [SelectChoice("", "(none)"), *(
            SelectChoice(str(supplier_id), name) for supplier_id, name in suppliers)]

    def apply_to(self, item: MenuItem) -> None:
        """Copy the validated fields onto ``item``."""
        item.name = self.name.data
        item.category = self.category.data
        item.price = cast(Decimal, self.price.data)  # validated: a price is required
        item.description = self.description.data or ""
        item.supplier_id = self.supplier_id.data
        item.available = self.available.data


class SupplierForm(FlaskForm):
    name = StringField("Name", filters=[strip],
                       validators=[DataRequired(), Length(max=NAME_LENGTH), Printable()])
    email = StringField("Email", filters=[strip],
                        validators=[Optional(), Length(max=EMAIL_LENGTH), EMAIL, Printable()])
    phone = StringField("Phone", filters=[strip],
                        validators=[Length(max=PHONE_LENGTH), Printable()])
    notes = TextAreaField("Notes", filters=[strip],
                          validators=[Length(max=TEXT_LENGTH), Printable(multiline=True)])

    def __init__(self, *args, supplier: Supplier | None = None, **kwargs):
        super().__init__(*args, obj=supplier, **kwargs)
        self.supplier = supplier

    def validate_name(self, field):
        if field.errors:
            return  # only a name that may be saved is looked up
        if service.supplier_name_taken(field.data, self.supplier):
            raise ValidationError(service.NAME_TAKEN)

    def apply_to(self, supplier: Supplier) -> None:
        """Copy the validated fields onto ``supplier``."""
        supplier.name = self.name.data
        supplier.email = self.email.data or ""
        supplier.phone = self.phone.data or ""
        supplier.notes = self.notes.data or ""


class ConfirmForm(FlaskForm):
    """A confirmation button: the form is only its CSRF token."""


class DeleteSupplierForm(FlaskForm):
    #: Also leave the supplier's items on the menu without a supplier.
    detach = BooleanField("Leave its items without a supplier")
