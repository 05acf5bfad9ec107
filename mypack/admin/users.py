"""The users admin: accounts listed, created, edited, deleted; bulk activate,
deactivate and set role. Every change goes through ``mypack.auth.service``: passwords
follow the policy and are hashed there, the last active admin cannot lose the role
or be deactivated or deleted, and every change is audited (naming the admin)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import flash, redirect, render_template, url_for
from sqlalchemy import func, select

from mypack.admin.console import bp
from mypack.admin.forms import UserForm
from mypack.admin.lists import YES_NO, Column, Filter, ModelList, contains_any
from mypack.admin.views import bulk_action, confirm_delete, csv_export, form_status, list_page
from mypack.auth import service
from mypack.auth.models import ROLES, User
from mypack.extensions import db

USERS = ModelList(
    statement=lambda: select(User),
    columns=[Column("email", "Email", func.lower(User.email)),
             Column("name", "Name", func.lower(User.display_name)),
             Column("role", "Role", User.role),
             Column("active", "Active", User.active),
             Column("created", "Joined", User.created_at),
             Column("last_login", "Last login", User.last_login_at)],
    default_sort="email", tiebreak=User.id,
    search=contains_any(User.email, User.display_name),
    filters=[Filter("role", "Role", lambda: [(role, role) for role in ROLES],
                    lambda role: User.role == role),
             Filter("active", "Active", lambda: YES_NO,
                    lambda value: User.active.is_(value == "yes"))],
    export=[("id", lambda u: u.id), ("email", lambda u: u.email),
            ("name", lambda u: u.display_name), ("role", lambda u: u.role),
            ("active", lambda u: u.active), ("joined", lambda u: u.created_at),
            ("last_login", lambda u: u.last_login_at)],
)

ACTIONS = {"activate": "Activate", "deactivate": "Deactivate",
           **{f"role:{role}": f"Make {role}" for role in ROLES}}


@bp.get("/users")
def users():
    """Accounts, with search, role and active filters."""
    return list_page(USERS, "admin/users.html", "Users", actions=ACTIONS)


@bp.get("/users.csv")
def users_csv():
    """The filtered list of accounts as CSV (no password hashes)."""
    return csv_export(USERS, "users")


@bp.post("/users/bulk")
def users_bulk():
    """Activate, deactivate or set the role of the ticked accounts."""
    return bulk_action(ACTIONS, "admin.users", _apply)


def _apply(action: str, ids: list[int]) -> Iterator[str]:
    for user in db.session.scalars(select(User).where(User.id.in_(ids))):
        try:
            if action.startswith("role:"):
                service.set_role(user.email, action.removeprefix("role:"))
            else:
                service.set_active(user.email, action == "activate")
        except service.AccountError as refused:
            yield str(refused)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Create an account with a role and a password."""
    form = UserForm(new=True)
    if form.validate_on_submit():
        try:
            user = service.register(form.email.data, form.display_name.data,
                                    form.password.data, role=form.role.data, confirmed=True)
            if user is not None and not form.active.data:
                service.set_active(user.email, False)
        except service.AccountError as refused:
            form.form_errors.append(str(refused))
        else:
            if user is None:
                form.email.errors.append(service.EMAIL_TAKEN)
            else:
                flash(f"Account created: {user.email}.", "success")
                return redirect(url_for("admin.users"))
    return _form_page(form, "New account"), form_status(form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    """Change an account: email, name, role, active, a new password.

    :raise 404: no such account.
    """
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user, new=False)
    if form.validate_on_submit():
        try:
            service.update_user(user, email=form.email.data, display_name=form.display_name.data,
                                role=form.role.data, active=form.active.data,
                                password=form.password.data or None)
        except service.AccountError as refused:
            form.form_errors.append(str(refused))
        else:
            flash(f"Account saved: {user.email}.", "success")
            return redirect(url_for("admin.users"))
    return _form_page(form, f"Account {user.email}", user), form_status(form)


def _form_page(form: UserForm, heading: str, user: User | None = None) -> str:
    return render_template(
        "admin/form.html", form=form, heading=heading, back_url=url_for("admin.users"),
        delete_url=url_for("admin.user_delete", user_id=user.id) if user else None)


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
def user_delete(user_id: int):
    """Confirm, then delete an account. The last admin, and accounts with orders
    (deactivate those instead), are refused with 409.

    :raise 404: no such account.
    """
    user = db.get_or_404(User, user_id)
    email = user.email

    def delete(form) -> str:
        service.delete_user(user)
        return f"Account deleted: {email}."

    return confirm_delete(
        email, delete, service.AccountError, list_endpoint="admin.users",
        back_url=url_for("admin.user_edit", user_id=user_id),
        consequence="The account and its API tokens go for good; its audit trail stays. "
                    "An account with orders cannot be deleted: deactivate it instead.")
