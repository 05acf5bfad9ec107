"""Register, log in, log out, profile: server-rendered pages that work without JavaScript."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from mypack import audit
from mypack.auth import service
from mypack.auth.forms import (
    EmailForm,
    LoginForm,
    MailForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
)
from mypack.auth.redirects import safe_next
from mypack.auth.roles import role_required
from mypack.auth.sessions import end_session, is_remembered, start_session
from mypack.extensions import db, limiter

bp = Blueprint("auth", __name__, url_prefix="/auth")

INVALID_LOGIN = "Invalid email or password."


def auth_rate_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def register():
    """Create a customer account.

    Whether the email was free or taken, the answer is the same redirect and message:
    the page must not tell which emails have accounts.
    """
    form = RegisterForm()
    if form.validate_on_submit():
        service.register(form.email.data, form.display_name.data, form.password.data)
        # The same words whether the email was free or taken (the owner of a taken one
        # gets no link, and knows their account).
        flash("Thank you for registering. You can log in now; to place orders, follow the "
              "link we are mailing to your address.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def login():
    """Log in; honours a ``next`` that stays on this site.

    :raise 429: too many failures for this email (with Retry-After), even with the
        right password.
    """
    target = safe_next(request.args.get("next")) or url_for("menu.index")
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    status = 200
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
    else:
        # A locked email is the service's AccountLocked: 429 with Retry-After.
        try:
            user = service.authenticate(form.email.data, form.password.data)
        except service.AccountInactive as inactive:
            form.form_errors.append(inactive.message)
        else:
            if user is not None:
                start_session(user, remember=form.remember.data)
                flash(f"Welcome, {user.display_name}.", "success")
                return redirect(target)
            # The same words whether the email or the password was wrong.
            form.form_errors.append(INVALID_LOGIN)
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@role_required()
def logout():
    """Log out: this session, every other one and all remember cookies end, and this
    browser's remember cookie is deleted."""
    user = current_user._get_current_object()
    user.end_sessions()
    audit.record("logout", user)
    db.session.commit()
    end_session()
    flash("You are logged out.", "info")
    return redirect(url_for("menu.index"))


@bp.route("/profile", methods=["GET", "POST"])
@role_required()
def profile():
    """Show the profile; change the display name."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        service.change_name(current_user._get_current_object(), form.display_name.data)
        flash("Your name is changed.", "success")
        return redirect(url_for("auth.profile"))
    status = 400 if form.errors else 200
    return profile_page(form=form), status


def profile_page(**forms) -> str:
    """The profile page with its forms: those given (with what was posted), the others
    empty."""
    forms.setdefault("form", ProfileForm(formdata=None, obj=current_user))
    forms.setdefault("password_form", PasswordForm(formdata=None))
    forms.setdefault("email_form", EmailForm(formdata=None))
    forms.setdefault("mail_form", MailForm(
        formdata=None, order_updates=current_user.mail_order_updates))
    return render_template("auth/profile.html", **forms)


@bp.post("/mail")
@role_required()
def mail_preferences():
    """Which mail of order updates the user wants (a receipt is always sent)."""
    form = MailForm()
    if form.validate_on_submit():
        service.set_mail_order_updates(current_user._get_current_object(),
                                       form.order_updates.data)
        flash("Your mail settings are saved.", "success")
        return redirect(url_for("auth.profile"))
    return profile_page(mail_form=form), 400


@bp.post("/password")
@role_required()
def change_password():
    """Change the password with the current one; other sessions end, this one stays."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        remembered = is_remembered()  # asked before the change revokes the cookie
        try:
            service.change_password(user, form.current.data, form.password.data)
        except service.AccountError as error:
            form.current.errors.append(str(error))
        else:
            start_session(user, remember=remembered)
            flash("Your password is changed. Other sessions are logged out.", "success")
            return redirect(url_for("auth.profile"))
    return profile_page(password_form=form), 400
