"""What every form shares: the text rule (mypack.text) as a WTForms validator, and the
filter that trims what was typed. The forms themselves live with their pages."""

from __future__ import annotations

from wtforms.validators import ValidationError

from mypack.text import control_characters


class Printable:
    """No control characters (mypack.text's rule): PostgreSQL refuses NUL outright,
    and none belongs in a name. ``multiline`` text may have line breaks and tabs."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field):
        if field.data and control_characters(field.data, self.multiline):
            raise ValidationError("Remove the control characters.")


def strip(value):
    return value.strip() if isinstance(value, str) else value
