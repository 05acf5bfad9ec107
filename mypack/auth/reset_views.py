"""Forgot your password? The pages of a reset by mail (mypack.auth.reset): ask for a
link (``/auth/reset``), then choose a new password with it (``/auth/reset/<token>``)."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from mypack.auth import reset, service
from mypack.auth.forms import EMAIL, NewPassword
from mypack.auth.sessions import end_session
from mypack.auth.views import auth_rate_limit, bp
from mypack.extensions import limiter
from mypack.text import EMAIL_LENGTH

#: The answer to every request, whether or not an account has the email.
ASKED = ("If an account has this email address, a link to choose a new password is on "
         "its way to it. The link works for {minutes} minutes, once.")


class ResetRequestForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=EMAIL_LENGTH), EMAIL])


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), NewPassword()])
    confirm = PasswordField("Repeat the new password", validators=[
        DataRequired(), EqualTo("password", message="The passwords differ.")])


def _reset_rate_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_reset_rate_limit, methods=["POST"])
def request_reset():
    """Ask for a reset link by mail.

    The answer is the same redirect and message whether or not an account has the
    email, after the same statements (mypack.auth.reset.request_link).

    :raise 429: the client asked PASSWORD_RESET_RATE_LIMIT times already.
    """
    form = ResetRequestForm()
    if form.validate_on_submit():
        reset.request_link(form.email.data)
        minutes = max(1, current_app.config["PASSWORD_RESET_SECONDS"] // 60)
        flash(ASKED.format(minutes=minutes), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def reset_password(token: str):
    """Choose a new password with a reset link; every session of the account ends,
    this browser's too, and the user logs in with the new password.

    :raise 400: the link was used or is not valid (a page that says so).
    :raise 410: the link has expired (a page that says so).
    :raise 429: the client posted AUTH_RATE_LIMIT times already (each costs a hash).
    """
    try:
        user = reset.user_for(token)
        form = NewPasswordForm()
        if form.validate_on_submit():
            try:
                reset.set_password(token, form.password.data)
            except service.AccountError as error:  # the policy: the email as password
                form.password.errors.append(error.message)
            else:
                end_session()
                flash("Your password is changed, and every session of your account has "
                      "ended. Log in with the new password.", "success")
                return redirect(url_for("auth.login"))
        page = render_template("auth/reset_password.html", form=form, email=user.email)
        status = 400 if form.errors else 200
    except (reset.LinkExpired, reset.LinkInvalid) as refused:
        page = render_template("auth/link.html", heading="Password reset link",
                               message=refused.message, again="Ask for a new link",
                               again_url=url_for("auth.request_reset"))
        status = 410 if isinstance(refused, reset.LinkExpired) else 400
    return secret_page(page, status)


def secret_page(page: str, status: int):
    """A page whose address holds a secret: never sent on as a Referer (to this site's
    own files either), nor kept by any cache."""
    response = make_response(page, status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
