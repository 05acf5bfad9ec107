"""API tokens on the profile page: list, make (the token is shown once), revoke.

The list and the form are part of ``auth/profile.html``; this module gives the
template what it needs (``api_tokens()``, ``new_token_form()``) and handles the posts.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from mypack.auth import tokens
from mypack.auth.roles import role_required
from mypack.auth.views import bp, profile_page
from mypack.database import utcnow
from mypack.forms import Printable
from mypack.text import NAME_LENGTH

#: How the pages name each scope.
SCOPE_LABELS = {tokens.READ: "read only", tokens.WRITE: "read and write"}


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=NAME_LENGTH),
                                                 Printable()])
    expires_in_days = IntegerField("Expires after (days, empty for never)", validators=[
        Optional(), NumberRange(min=1, max=365)])
    scope = SelectField("Scope", default=tokens.DEFAULT_SCOPE,
                        choices=[SelectChoice(scope, SCOPE_LABELS[scope])
                                 for scope in tokens.SCOPES])


@bp.context_processor
def _token_helpers():
    def api_tokens():
        if not current_user.is_authenticated:
            return []
        return tokens.list_for(current_user)

    return {"api_tokens": api_tokens, "new_token_form": lambda: TokenForm(formdata=None),
            "token_now": utcnow, "token_scope_label": SCOPE_LABELS.get}


@bp.post("/tokens")
@role_required()
def create_token():
    """Make a token and show it, this once, on a page of its own (never in a cookie)."""
    form = TokenForm()
    if not form.validate_on_submit():
        return profile_page(token_form=form), 400
    token, record = tokens.create(current_user, form.name.data, form.expires_in_days.data,
                                  form.scope.data)
    response = make_response(render_template("auth/token_created.html", token=token,
                                             record=record))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tokens/<int:token_id>/revoke")
@role_required()
def revoke_token(token_id: int):
    """Revoke one of your tokens; another user's is not found."""
    record = tokens.revoke(current_user, token_id)
    if record is None:
        abort(404)
    flash(f"The token {record.name} ({record.prefix}…) is revoked.", "success")
    return redirect(url_for("auth.profile"))
