"""Email confirmation pages (mypack.auth.confirmation): use a mailed link
(``/auth/confirm/<token>``), ask for another (``/auth/confirm``), change one's
address (``/auth/email``), and the page an unconfirmed account gets where an order
needs a confirmed address."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from mypack.auth import confirmation, service
from mypack.auth.forms import EmailForm
from mypack.auth.redirects import safe_next
from mypack.auth.reset_views import secret_page
from mypack.auth.roles import role_required
from mypack.auth.views import auth_rate_limit, bp, profile_page
from mypack.errors import handle_domain_error, wants_json
from mypack.extensions import limiter


def _confirmation_rate_limit() -> str:
    return current_app.config["EMAIL_CONFIRMATION_RATE_LIMIT"]


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def confirm_email(token: str):
    """Use a confirmation link: the page says what it confirms, and its button (a POST,
    so that a mail scanner opening links confirms nothing) does it.

    :raise 400: the link was used or is not valid (a page that says so).
    :raise 409: another account took the new address meanwhile.
    :raise 410: the link has expired (a page that says so).
    """
    try:
        if request.method == "POST":
            user, changed = confirmation.confirm(token)
            flash(f"Your email address {user.email} is confirmed." if changed
                  else f"{user.email} was confirmed already.", "success")
            target = "menu.index" if current_user.is_authenticated else "auth.login"
            return redirect(url_for(target))
        user, address = confirmation.link_for(token)
        page = render_template("auth/confirm_email.html", user=user, address=address)
        status = 200
    except (confirmation.LinkExpired, confirmation.LinkInvalid) as refused:
        page = render_template(
            "auth/link.html", heading="Email confirmation link", message=refused.message,
            again="Ask for a new link on your profile page", again_url=url_for("auth.profile"))
        status = 410 if isinstance(refused, confirmation.LinkExpired) else 400
    return secret_page(page, status)


@bp.post("/confirm")
@limiter.limit(_confirmation_rate_limit)
@role_required()
def send_confirmation():
    """Mail another confirmation link to the account's address.

    :raise 409: the address is confirmed already.
    :raise 429: EMAIL_CONFIRMATION_MAILS_PER_HOUR links went to it within the hour,
        or this client posted EMAIL_CONFIRMATION_RATE_LIMIT times.
    """
    confirmation.send_again(current_user._get_current_object())
    flash(f"A new confirmation link is on its way to {current_user.email}.", "info")
    return redirect(safe_next(request.form.get("next")) or url_for("auth.profile"))


@bp.post("/email")
@limiter.limit(_confirmation_rate_limit)
@role_required()
def change_email():
    """Ask to change the account's address: a link goes to the new one, and the address
    changes when it is followed (the old one stays until then).

    :raise 429: as for ``/auth/confirm``.
    """
    form = EmailForm()
    if form.validate_on_submit():
        try:
            address = confirmation.request_change(current_user._get_current_object(),
                                                  form.email.data, form.password.data)
        except service.AccountError as error:
            form.form_errors.append(error.message)
        else:
            flash(f"A confirmation link is on its way to {address}. Your address changes when "
                  "you follow it; until then it stays as it is.", "info")
            return redirect(url_for("auth.profile"))
    return profile_page(email_form=form), 400


@bp.app_errorhandler(confirmation.EmailUnconfirmed)
def unconfirmed(error: confirmation.EmailUnconfirmed):
    """An order needs a confirmed address: the reason, and a button to send the link
    again (a page), or the JSON error with its code ``email_unconfirmed``."""
    if wants_json():
        return handle_domain_error(error)
    return render_template("auth/unconfirmed.html", message=error.message), 403
