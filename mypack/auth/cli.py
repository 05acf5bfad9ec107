"""Account commands: ``mypack create-admin`` and ``mypack user ...``.

They are the service's rules (mypack.auth.service) at the command line, and every
change is audited there. Passwords are read from a hidden prompt or, with
``--password-stdin``, from standard input; never from an argument, which would land
in the shell history and in every process listing.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext

from mypack.auth import confirmation, service
from mypack.auth.forms import EMAIL
from mypack.auth.models import ROLES, normalize_email
from mypack.auth.names import name_problem, shown
from mypack.auth.service import AccountError

PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from the first line of standard input instead of asking "
         "(for scripts: printf '%s\\n' \"$PW\" | mypack ...).")


class AccountCommand(click.Command):
    """A command whose broken account rules end it with one line, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None


class AccountGroup(AppGroup):
    """``mypack user``: every subcommand runs in the app context as an AccountCommand."""

    command_class = AccountCommand


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or asked twice without echo.

    :raise click.ClickException: stdin is empty, or the two answers differ.
    """
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    password = click.prompt("Password", hide_input=True)
    # Click would ask again on a mismatch; like passwd, stop instead, so a script
    # feeding the prompt fails at once rather than reading its input out of step.
    if click.prompt("Repeat for confirmation", hide_input=True) != password:
        raise click.ClickException("the two passwords differ; nothing was changed")
    return password


@click.command("create-admin", cls=AccountCommand)
@click.option("--email", required=True, help="The admin's email, used to log in.")
@click.option("--name", default="Administrator", show_default=True,
              help="The name shown on the site.")
@PASSWORD_STDIN
@with_appcontext
def create_admin_command(email, name, password_stdin):
    """Create an admin account, e.g. the first one.

    The password is asked for twice without echo, or read with --password-stdin;
    it is never an argument. Fails when the email is taken, the name has control
    characters or the password breaks the policy (too short, too common). Promote
    existing users with 'mypack user set-role EMAIL admin'.
    """
    if not EMAIL.regex.match(email.strip()):
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="'--email'")
    problem = name_problem(name)
    if problem:  # the service would refuse it too, but only after the password
        raise click.ClickException(f"--name: {problem}")
    if service.find_user(email) is not None:
        raise click.ClickException("a user with this email already exists")
    user = service.register(email, name, read_password(password_stdin), role="admin",
                            confirmed=True)
    if user is None:  # registered by someone else since the check above
        raise click.ClickException("a user with this email already exists")
    click.echo(f"created admin {user.email}")


@click.group("user", cls=AccountGroup)
def user_group():
    """List accounts and change their role, state and password.

    EMAIL is matched in any spelling. Each change is written to the audit log; a
    change of role, deactivation and a password reset also end the user's sessions.
    The last active admin can be neither demoted nor deactivated.
    """


@user_group.command("list")
@click.option("--role", type=click.Choice(ROLES), help="Only users with this role.")
def list_command(role):
    r"""List users by email: name, role, whether active and confirmed (their email
    address), and last login (UTC).

    Control characters and backslashes in emails and names are shown escaped
    (\x1b, \n, \u202e, \\): text stored before today's rules, or straight into
    the database, cannot drive the terminal or fake a row.
    """
    users = [user for user in service.list_users() if role is None or user.role == role]
    if not users:
        click.echo(f"no users with role {role}" if role else "no users")
        return
    rows = [("EMAIL", "NAME", "ROLE", "ACTIVE", "CONFIRMED", "LAST LOGIN (UTC)")]
    rows += [(shown(user.email), shown(user.display_name), user.role,
              "yes" if user.active else "no", "yes" if user.email_confirmed else "no",
              f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never")
             for user in users]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        click.echo("  ".join([*cells, row[-1]]))


@user_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES), metavar="ROLE")
def set_role_command(email, role):
    """Give the user with EMAIL another ROLE: customer, staff or admin.

    Their sessions end, so the new rights apply from their next login.
    """
    before = service.get_user(email).role
    user = service.set_role(email, role)
    if before == role:
        click.echo(f"{user.email} is already {role}")
    else:
        click.echo(f"{user.email}: {before} -> {role}")


@user_group.command("activate")
@click.argument("email")
def activate_command(email):
    """Let the user with EMAIL log in again."""
    _set_active(email, True)


@user_group.command("deactivate")
@click.argument("email")
def deactivate_command(email):
    """Stop the user with EMAIL from logging in and end their sessions.

    The account and its history stay; ``mypack user activate`` undoes it.
    """
    _set_active(email, False)


def _set_active(email: str, active: bool) -> None:
    was_active = service.get_user(email).active
    user = service.set_active(email, active)
    state = "active" if active else "inactive"
    click.echo(f"{user.email} is already {state}" if was_active == active
               else f"{user.email} is now {state}")


@user_group.command("confirm")
@click.argument("email")
def confirm_command(email):
    """Confirm the address of the user with EMAIL, who may then order.

    For when the confirmation mail never arrives and the owner has shown the address
    is theirs another way; audited as email_confirm "by an operator".
    """
    user, changed = confirmation.confirm_by_operator(email)
    click.echo(f"{user.email} confirmed" if changed else f"{user.email} is already confirmed")


@user_group.command("unlock")
@click.argument("email")
def unlock_command(email):
    """Lift the lockout of EMAIL after too many failed logins, and reset its count."""
    service.unlock(email)
    click.echo(f"{normalize_email(email)} unlocked")


@user_group.command("reset-password")
@click.argument("email")
@PASSWORD_STDIN
def reset_password_command(email, password_stdin):
    """Set a new password for the user with EMAIL; their sessions end.

    The password is asked for twice without echo, or read with --password-stdin.
    """
    service.get_user(email)  # an unknown email fails before the password is asked
    user = service.reset_password(email, read_password(password_stdin))
    click.echo(f"password of {user.email} reset; their sessions were ended")


#: Added to ``app.cli`` by ``mypack.register_commands``.
ACCOUNT_COMMANDS = (create_admin_command, user_group)
