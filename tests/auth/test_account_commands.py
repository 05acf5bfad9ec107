"""Account commands: ``mypack create-admin`` and ``mypack user ...`` on every backend.

They apply the service's rules, audit every change, take passwords only from a hidden
prompt or stdin, and report a broken rule as one line on stderr.
"""

import getpass
import os
import subprocess

import pytest
from sqlalchemy import select

from mypack.audit import AuditEvent
from mypack.auth import service
from mypack.auth.models import User
from mypack.auth.passwords import verify_password
from mypack.extensions import db
from tests.support.system import MYPACK

PASSWORD = "Flat-White-42"
NEW_PASSWORD = "Cortado-Twice-7"


@pytest.fixture
def cli_app(migrated_app):
    """``migrated_app``, on each backend."""
    return migrated_app


@pytest.fixture
def cli(cli_app):
    """Run a command against ``cli_app``: ``cli("user", "list", input=...)``."""
    runner = cli_app.test_cli_runner()

    def invoke(*args, input=None):
        return runner.invoke(args=list(args), input=input)
    return invoke


def add_user(app, email, role="customer", name="Ada"):
    with app.app_context():
        assert service.register(email, name, PASSWORD, role=role) is not None


def user(app, email) -> User:
    """A detached copy of the user's row as it is now."""
    with app.app_context():
        found = service.find_user(email)
        db.session.expunge(found)
        return found


CLI_ACTOR = f"command line, as {getpass.getuser()}"


def events(app, email) -> list[tuple[str, str]]:
    """The audit trail of an email, oldest first: (event, detail without the actor).

    Every command-line event names who ran it; that is checked here once for all.
    """
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.email == email)
                                  .order_by(AuditEvent.id))
        trail = [(row.event, row.detail) for row in rows]
    assert all(detail.endswith(CLI_ACTOR) for _, detail in trail), trail
    return [(event, detail.removesuffix(CLI_ACTOR).rstrip("; ")) for event, detail in trail]


def assert_ok(result, *fragments):
    assert result.exit_code == 0, (result.output, result.exception)
    for fragment in fragments:
        assert fragment in result.stdout


def assert_one_line_error(result, *fragments, exit_code=1):
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def assert_usage_error(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr


# --- help -----------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["create-admin", "user", "user list", "user set-role",
                                     "user activate", "user deactivate", "user unlock",
                                     "user reset-password"])
def test_every_account_command_has_help(runner, command):
    result = runner.invoke(args=[*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    # A sentence of its own, not just the usage line.
    assert len(result.output.split("Options:")[0].strip().splitlines()) >= 3


@pytest.mark.parametrize("command", ["create-admin --email a@example.com",
                                     "user reset-password a@example.com"])
def test_no_password_option_exists(runner, command):
    assert "--password " not in runner.invoke(args=[*command.split()[:2], "--help"]).output
    assert_usage_error(runner.invoke(args=[*command.split(), "--password", PASSWORD]),
                       "No such option '--password'")
    assert_usage_error(runner.invoke(args=[*command.split(), PASSWORD]),
                       "unexpected extra argument")


# --- create-admin ---------------------------------------------------------------------

def test_create_admin_asks_the_password_twice(cli, cli_app):
    result = cli("create-admin", "--email", "Boss@Example.com", "--name", "Bo",
                 input=f"{PASSWORD}\n{PASSWORD}\n")
    assert_ok(result, "created admin boss@example.com")
    assert PASSWORD not in result.output  # the prompt does not echo
    admin = user(cli_app, "boss@example.com")
    assert (admin.role, admin.display_name, admin.active) == ("admin", "Bo", True)
    assert admin.email_confirmed  # an operator's account: no confirmation mail
    assert PASSWORD not in admin.password_hash
    assert verify_password(admin.password_hash, PASSWORD)
    assert events(cli_app, "boss@example.com") == [("register", "email confirmed")]


def test_create_admin_reads_the_first_line_of_stdin(cli, cli_app):
    result = cli("create-admin", "--email", "boss@example.com", "--password-stdin",
                 input=f"{PASSWORD}\nignored\n")
    assert_ok(result, "created admin boss@example.com")
    admin = user(cli_app, "boss@example.com")
    assert admin.display_name == "Administrator"
    assert verify_password(admin.password_hash, PASSWORD)


def test_create_admin_refuses_a_taken_email(cli, cli_app):
    add_user(cli_app, "ada@example.com")
    result = cli("create-admin", "--email", " ADA@example.com", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert_one_line_error(result, "a user with this email already exists")
    assert "Password" not in result.output  # refused before asking
    assert user(cli_app, "ada@example.com").role == "customer"


@pytest.mark.parametrize(("password", "message"), [
    ("Sh0rt!", "Use at least 8 characters."),
    ("password", "This password is too common"),
    ("boss@example.com", "This password is too common"),
    ("abababababab", "too easy to guess"),
])
def test_create_admin_refuses_a_weak_password(cli, cli_app, password, message):
    result = cli("create-admin", "--email", "boss@example.com", "--password-stdin",
                 input=f"{password}\n")
    assert_one_line_error(result, message)
    assert user_count(cli_app) == 0


@pytest.mark.parametrize(("arguments", "answers", "message"), [
    ([], f"{PASSWORD}\n{PASSWORD}x\n", "the two passwords differ; nothing was changed"),
    (["--password-stdin"], "", "no password on standard input"),
    (["--password-stdin"], "\n", "no password on standard input"),
])
def test_create_admin_without_a_confirmed_password(cli, cli_app, arguments, answers, message):
    result = cli("create-admin", "--email", "boss@example.com", *arguments, input=answers)
    assert_one_line_error(result, message)
    assert user_count(cli_app) == 0


@pytest.mark.parametrize(("name", "message"), [
    ("Bo\x1b[2J", "Remove the control character U+001B from the name."),
    ("Bo\u202essob", "Remove the control character U+202E from the name."),
    ("Bo\nss", "Remove the control character U+000A from the name."),
    ("", "Enter a name."),
    ("x" * 101, "Use at most 100 characters."),
])
def test_create_admin_refuses_a_bad_name(cli, cli_app, name, message):
    result = cli("create-admin", "--email", "boss@example.com", "--name", name,
                 input=f"{PASSWORD}\n{PASSWORD}\n")
    assert_one_line_error(result, f"--name: {message}")
    assert "Password" not in result.output  # refused before asking
    assert user_count(cli_app) == 0


def test_create_admin_refuses_what_is_not_an_email(cli, cli_app):
    assert_usage_error(cli("create-admin", "--email", "boss", "--password-stdin",
                           input=f"{PASSWORD}\n"), "'boss' is not an email address")
    assert user_count(cli_app) == 0


def user_count(app) -> int:
    with app.app_context():
        return len(service.list_users())


# --- user list --------------------------------------------------------------------------

def test_user_list_is_a_table(cli, cli_app):
    assert_ok(cli("user", "list"), "no users")
    add_user(cli_app, "zoe@example.com", role="admin", name="Zoë")
    add_user(cli_app, "ada@example.com", name="Ada Lovelace")
    with cli_app.app_context():
        service.authenticate("zoe@example.com", PASSWORD)
        last_login = service.find_user("zoe@example.com").last_login_at
    assert_ok(cli("user", "deactivate", "ada@example.com"))
    assert_ok(cli("user", "confirm", "ZOE@example.com"), "zoe@example.com confirmed")

    result = cli("user", "list")
    assert_ok(result)
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["EMAIL", "NAME", "ROLE", "ACTIVE", "CONFIRMED", "LAST", "LOGIN",
                              "(UTC)"]
    assert rows[0].split() == ["ada@example.com", "Ada", "Lovelace", "customer", "no", "no",
                               "never"]
    assert rows[1].split() == ["zoe@example.com", "Zoë", "admin", "yes", "yes",
                               *f"{last_login:%Y-%m-%d %H:%M}".split()]
    assert header.index("ROLE") == rows[0].index("customer") == rows[1].index("admin")

    assert_ok(cli("user", "list", "--role", "admin"), "zoe@example.com")
    assert "ada@" not in cli("user", "list", "--role", "admin").stdout
    assert_ok(cli("user", "list", "--role", "staff"), "no users with role staff")
    assert_usage_error(cli("user", "list", "--role", "barista"), "'barista' is not one of")


def test_user_list_shows_names_that_break_the_rule_escaped(cli, cli_app):
    # Stored before the rule, or straight into the database: as they are, they would
    # clear the operator's screen, fake a row, and show another name backwards.
    stored = {"clear@example.com": "Eve\x1b[2J\x1b]0;owned\x07",
              "rows@example.com": "Mallory\nzoe@example.com  Zoe  admin  yes  never",
              "bidi@example.com": "Trudy\u202enimda",
              "slash@example.com": "back\\x1b slash"}
    with cli_app.app_context():
        db.session.add_all(User(email=email, display_name=name, password_hash="-")
                           for email, name in stored.items())
        db.session.commit()
    result = cli("user", "list")
    assert_ok(result)
    assert not any(char in result.stdout for char in "\x1b\x07\u202e\r")
    header, *rows = result.stdout.splitlines()
    assert [row.split()[0] for row in rows] == sorted(stored)
    shown = dict(row.split(maxsplit=1) for row in rows)
    assert shown["clear@example.com"].startswith(r"Eve\x1b[2J\x1b]0;owned\x07 ")
    assert shown["rows@example.com"].startswith(r"Mallory\nzoe@example.com  Zoe  admin")
    assert shown["bidi@example.com"].startswith(r"Trudy\u202enimda ")
    assert shown["slash@example.com"].startswith(r"back\\x1b slash ")  # not an escape
    assert all(row.index("customer") == header.index("ROLE") for row in rows)


# --- set-role ---------------------------------------------------------------------------

def test_set_role_changes_role_ends_sessions_and_audits(cli, cli_app):
    add_user(cli_app, "ada@example.com")
    token = user(cli_app, "ada@example.com").session_token
    assert_ok(cli("user", "set-role", "Ada@Example.com", "staff"),
              "ada@example.com: customer -> staff")
    ada = user(cli_app, "ada@example.com")
    assert ada.role == "staff"
    assert ada.session_token != token
    assert events(cli_app, "ada@example.com")[-1] == ("role_change", "customer -> staff")

    assert_ok(cli("user", "set-role", "ada@example.com", "staff"), "is already staff")
    assert len(events(cli_app, "ada@example.com")) == 2  # register, one role_change


def test_set_role_refuses_an_unknown_role(cli, cli_app):
    add_user(cli_app, "ada@example.com")
    assert_usage_error(cli("user", "set-role", "ada@example.com", "barista"),
                       "Invalid value for 'ROLE'", "'barista' is not one of")
    assert user(cli_app, "ada@example.com").role == "customer"


def test_the_last_admin_cannot_be_demoted(cli, cli_app):
    add_user(cli_app, "boss@example.com", role="admin")
    add_user(cli_app, "ada@example.com", role="admin")
    assert_ok(cli("user", "set-role", "ada@example.com", "customer"))
    assert_one_line_error(cli("user", "set-role", "boss@example.com", "staff"),
                          "boss@example.com is the last active admin")
    assert user(cli_app, "boss@example.com").role == "admin"
    assert [event for event, _ in events(cli_app, "boss@example.com")] == ["register"]


# --- activate, deactivate -----------------------------------------------------------------

def test_deactivate_and_activate(cli, cli_app):
    add_user(cli_app, "ada@example.com")
    token = user(cli_app, "ada@example.com").session_token
    assert_ok(cli("user", "deactivate", "ada@example.com"), "ada@example.com is now inactive")
    ada = user(cli_app, "ada@example.com")
    assert not ada.active and ada.session_token != token
    assert_ok(cli("user", "deactivate", "ada@example.com"), "is already inactive")
    assert_ok(cli("user", "activate", "ada@example.com"), "ada@example.com is now active")
    assert user(cli_app, "ada@example.com").active
    assert_ok(cli("user", "activate", "ada@example.com"), "is already active")
    assert [event for event, _ in events(cli_app, "ada@example.com")] == [
        "register", "deactivate", "activate"]


def test_the_last_admin_cannot_be_deactivated(cli, cli_app):
    add_user(cli_app, "boss@example.com", role="admin")
    assert_one_line_error(cli("user", "deactivate", "boss@example.com"),
                          "boss@example.com is the last active admin")
    assert user(cli_app, "boss@example.com").active


# --- unlock -----------------------------------------------------------------------------

def test_unlock_lifts_a_lockout(cli, cli_app):
    add_user(cli_app, "ada@example.com")
    with cli_app.app_context():
        for _ in range(cli_app.config["LOCKOUT_THRESHOLD"]):
            assert service.authenticate("ada@example.com", "wrong-password") is None
        with pytest.raises(service.AccountLocked):
            service.authenticate("ada@example.com", PASSWORD)
    assert_ok(cli("user", "unlock", "ADA@example.com"), "ada@example.com unlocked")
    with cli_app.app_context():
        assert service.authenticate("ada@example.com", PASSWORD) is not None
    assert "unlock" in [event for event, _ in events(cli_app, "ada@example.com")]


# --- reset-password ------------------------------------------------------------------------

@pytest.mark.parametrize(("arguments", "answers"), [
    ([], f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"),
    (["--password-stdin"], f"{NEW_PASSWORD}\r\n"),
])
def test_reset_password_sets_it_and_ends_sessions(cli, cli_app, arguments, answers):
    add_user(cli_app, "ada@example.com")
    token = user(cli_app, "ada@example.com").session_token
    result = cli("user", "reset-password", "ada@example.com", *arguments, input=answers)
    assert_ok(result, "password of ada@example.com reset; their sessions were ended")
    assert NEW_PASSWORD not in result.output
    ada = user(cli_app, "ada@example.com")
    assert ada.session_token != token
    assert NEW_PASSWORD not in ada.password_hash
    assert verify_password(ada.password_hash, NEW_PASSWORD)
    assert not verify_password(ada.password_hash, PASSWORD)
    assert events(cli_app, "ada@example.com")[-1] == ("password_reset", "")


@pytest.mark.parametrize(("answers", "message"), [
    ("Sh0rt!\nSh0rt!\n", "Use at least 8 characters."),
    (f"{NEW_PASSWORD}\n{PASSWORD}\n", "the two passwords differ"),
])
def test_reset_password_refused_keeps_the_old_one(cli, cli_app, answers, message):
    add_user(cli_app, "ada@example.com")
    before = user(cli_app, "ada@example.com")
    assert_one_line_error(cli("user", "reset-password", "ada@example.com", input=answers),
                          message)
    after = user(cli_app, "ada@example.com")
    assert (after.password_hash, after.session_token) == (before.password_hash,
                                                           before.session_token)
    assert [event for event, _ in events(cli_app, "ada@example.com")] == ["register"]


# --- unknown users ------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["set-role {} staff", "activate {}", "deactivate {}",
                                     "unlock {}", "reset-password {}"])
def test_unknown_user(cli, command):
    result = cli("user", *command.format("Nobody@Example.com").split(),
                 input=f"{PASSWORD}\n{PASSWORD}\n")
    assert_one_line_error(result, "no user with email nobody@example.com")
    assert "Password" not in result.output  # reset-password fails before asking


# --- the real console script --------------------------------------------------------------

def test_through_the_mypack_console_script(instance_path, tmp_path):
    # As conftest.run_mypack, which has no way to feed stdin.
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("MYPACK_", "FLASK_"))}
    environment["MYPACK_SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'cli.sqlite'}"

    def mypack(*args, input=""):
        return subprocess.run([str(MYPACK), "--instance", str(instance_path), "--config",
                               "testing", *args], input=input, capture_output=True, text=True,
                              env=environment, timeout=60)

    assert mypack("db", "upgrade").returncode == 0
    result = mypack("create-admin", "--email", "boss@example.com", "--password-stdin",
                    input=f"{PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    assert "created admin boss@example.com" in result.stdout

    taken = mypack("create-admin", "--email", "boss@example.com", "--password-stdin",
                   input=f"{PASSWORD}\n")
    assert taken.returncode == 1
    assert taken.stderr == "Error: a user with this email already exists\n"

    listing = mypack("user", "list")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[1].split() == [
        "boss@example.com", "Administrator", "admin", "yes", "yes", "never"]

    last_admin = mypack("user", "deactivate", "boss@example.com")
    assert last_admin.returncode == 1
    assert last_admin.stderr == ("Error: boss@example.com is the last active admin; "
                                 "make another admin first\n")

    reset = mypack("user", "reset-password", "boss@example.com", "--password-stdin",
                   input=f"{NEW_PASSWORD}\n")
    assert reset.returncode == 0, reset.stderr
    assert NEW_PASSWORD not in reset.stdout + reset.stderr
