"""The account forms (Flask-WTF: every form carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from mypack.auth import names
from mypack.auth.passwords import MAX_LENGTH, password_problem
from mypack.text import EMAIL_LENGTH, EMAIL_PATTERN

# An account's or a supplier's email (mypack.text): no white space and no control
# characters (an ESC would reach the operator's terminal).
EMAIL = Regexp(EMAIL_PATTERN, message="Enter an email address.")


class NewPassword:
    """The password policy as a form validator."""

    def __call__(self, form, field):
        email = form.email.data if hasattr(form, "email") else ""
        problem = password_problem(field.data or "", email or "")
        if problem:
            raise ValidationError(problem)


class DisplayName:
    """The name rule (mypack.auth.names) as a form validator.

    Put it after DataRequired and Length(max=names.MAX_LENGTH), which give the
    browser its required and maxlength hints: it speaks only when they found nothing.
    """

    def __call__(self, form, field):
        problem = names.name_problem(field.data or "")
        if problem and not field.errors:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=EMAIL_LENGTH)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField("Remember me for 30 days")


class RegisterForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=EMAIL_LENGTH), EMAIL])
    display_name = StringField("Name", validators=[
        DataRequired(), Length(max=names.MAX_LENGTH), DisplayName()])
    password = PasswordField("Password", validators=[DataRequired(), NewPassword()])
    confirm = PasswordField("Repeat the password", validators=[
        DataRequired(), EqualTo("password", message="The passwords differ.")])
    accept_terms = BooleanField("I accept the terms of use", validators=[
        DataRequired(message="Please accept the terms to register.")])


class ProfileForm(FlaskForm):
    display_name = StringField("Name", validators=[
        DataRequired(), Length(max=names.MAX_LENGTH), DisplayName()])


class MailForm(FlaskForm):
    order_updates = BooleanField("Mail me when an order is ready for collection or cancelled")


class PasswordForm(FlaskForm):
    current = PasswordField("Current password",
                            validators=[DataRequired(), Length(max=MAX_LENGTH)])
    password = PasswordField("New password", validators=[DataRequired(), NewPassword()])
    confirm = PasswordField("Repeat the new password", validators=[
        DataRequired(), EqualTo("password", message="The passwords differ.")])


class EmailForm(FlaskForm):
    email = StringField("New email address", validators=[
        DataRequired(), Length(max=EMAIL_LENGTH), EMAIL])
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
