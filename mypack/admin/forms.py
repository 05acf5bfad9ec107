"""The console's own forms (Flask-WTF: every form carries a CSRF token). Items and
suppliers use the staff pages' forms from ``mypack.menu.forms``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from mypack.auth import names
from mypack.auth.forms import EMAIL, DisplayName, NewPassword
from mypack.auth.models import ROLES
from mypack.auth.passwords import MAX_LENGTH
from mypack.database import MAX_ID
from mypack.forms import Printable, strip
from mypack.orders.models import MAX_QUANTITY, MIN_QUANTITY, STATUSES
from mypack.text import EMAIL_LENGTH

STALE = "This form is out of date: reload the page and fill it in again."
#: The most rows one bulk action may touch (a page of the longest list).
MAX_BULK = 200


class BulkForm(FlaskForm):
    """An action on the ticked rows of a list; ``next`` is the list to go back to."""

    action = SelectField("With the ticked rows")
    ids = SelectMultipleField("Rows", coerce=int, validate_choice=False)
    next = HiddenField()

    def __init__(self, *args, actions: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [SelectChoice(*pair) for pair in actions.items()]

    def validate_ids(self, field):
        if not field.data:
            raise ValidationError("Tick at least one row.")
        if len(field.data) > MAX_BULK:
            raise ValidationError(f"At most {MAX_BULK} rows at a time.")
        if any(not 1 <= row_id <= MAX_ID for row_id in field.data):
            raise ValidationError("Those are not rows of this list.")


class UserForm(FlaskForm):
    """An account as an admin sets it. A new account needs a password; when editing,
    an empty password keeps the current one."""

    email = StringField("Email", filters=[strip],
                        validators=[DataRequired(), Length(max=EMAIL_LENGTH), EMAIL, Printable()])
    display_name = StringField("Name", filters=[strip], validators=[
        DataRequired(), Length(max=names.MAX_LENGTH), DisplayName()])
    role = SelectField("Role", choices=[SelectChoice(role, role) for role in ROLES],
                       default="customer")
    active = BooleanField("Active (can log in)", default=True)
    password = PasswordField("Password", validators=[Optional(), Length(max=MAX_LENGTH),
                                                     NewPassword()])
    confirm = PasswordField("Repeat the password", validators=[
        EqualTo("password", message="The passwords differ.")])

    def __init__(self, *args, new: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if new:
            self.password.validators = [DataRequired("A new account needs a password."),
                                        *self.password.validators[1:]]
        else:
            self.password.label.text = "New password (empty: keep the current one)"


class OrderMoveForm(FlaskForm):
    """Move an order on; ``seen`` is the status the admin saw, so a change made
    meanwhile by someone else is reported instead of overwritten."""

    status = SelectField("Move to")
    seen = HiddenField(validators=[DataRequired()])

    def __init__(self, *args, allowed: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(status, status) for status in allowed]

    def validate_seen(self, field):
        if field.data not in STATUSES:
            raise ValidationError("Reload the order and try again.")


class LineForm(FlaskForm):
    """One line of a new order: an item and how many (both empty: no line)."""

    class Meta:
        csrf = False  # a part of NewOrderForm, which carries the token

    item_id = SelectField("Item", coerce=lambda value: int(value) if value else None,
                          validate_choice=False)
    quantity = IntegerField("Quantity", validators=[
        Optional(), NumberRange(MIN_QUANTITY, MAX_QUANTITY,
                                message=f"From {MIN_QUANTITY} to {MAX_QUANTITY}.")])


class NewOrderForm(FlaskForm):
    """An order placed by an admin for a customer (a telephone order, a correction)."""

    email = StringField("Customer's email", filters=[strip],
                        validators=[DataRequired(), Length(max=EMAIL_LENGTH), Printable()])
    lines = FieldList(FormField(LineForm), min_entries=5, max_entries=5)
    #: A one-time key: submitting the same form twice places one order.
    key = HiddenField(validators=[DataRequired(STALE), Length(min=16, max=64, message=STALE)])

    def __init__(self, *args, items: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.item_ids = {item_id for item_id, _ in items}
        for line in self.lines:
            line.item_id.choices = [SelectChoice("", "(none)"), *(
                SelectChoice(str(item_id), name) for item_id, name in items)]

    def quantities(self) -> dict[int, int]:
        """{item id: quantity} of the filled lines."""
        wanted: dict[int, int] = {}
        for line in self.lines:
            if line.item_id.data and line.quantity.data:
                wanted[line.item_id.data] = wanted.get(line.item_id.data, 0) \
                    + line.quantity.data
        return wanted

    def validate_lines(self, field):
        for line in field:
            item_id, quantity = line.item_id.data, line.quantity.data
            if item_id is not None and item_id not in self.item_ids:
                line.item_id.errors.append("Choose an item of the list.")
            elif bool(item_id) != bool(quantity) and not line.quantity.errors:
                line.quantity.errors.append("Give an item and a quantity, or neither.")
        if any(line.errors for line in field):
            raise ValidationError("Some lines need fixing.")
        if not self.quantities():
            raise ValidationError("Give at least one item and its quantity.")
