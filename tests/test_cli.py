"""The mypack command line: every command documented, operator errors as one line."""

import os
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.support.servers import as_service_user
from tests.support.system import MYPACK, run_mypack

STRONG_KEY = "Qm8dT2xLw9Pz-" * 5


def commands():
    listing = run_mypack("--help").stdout.split("Commands:")[1]
    return [line.split()[0] for line in listing.strip().splitlines()]


def test_the_expected_commands_exist():
    assert {"run", "shell", "routes", "db", "init", "config", "check"} <= set(commands())


@pytest.mark.parametrize("command", ["run", "shell", "routes", "db", "init", "config", "check",
                                     "db upgrade", "db downgrade", "db current", "db migrate"])
def test_every_command_has_help(command):
    result = run_mypack(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: mypack" in result.stdout
    # A sentence of its own, not just the usage line.
    assert len(result.stdout.split("Options:")[0].strip().splitlines()) >= 3


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1  # click's exit for an error the user can fix
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", ["routes", "db upgrade", "config", "check", "shell"])
def test_unknown_config_name(command, instance_path):
    result = run_mypack("--instance", str(instance_path), "--config", "staging", *command.split())
    if command == "check":
        assert result.returncode == 1 and "mypack.E001" in result.stdout
    else:
        assert_one_line_error(result, "unknown configuration 'staging'", "postgres, mysql")


def test_unknown_config_name_in_help_listing(instance_path):
    result = run_mypack("--instance", str(instance_path), "--config", "staging", "--help")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "unknown configuration 'staging'" in result.stderr
    assert "init" in result.stdout and "check" in result.stdout


def test_unreachable_database(instance_path):
    result = run_mypack("--instance", str(instance_path), "--config", "testing", "db", "upgrade",
                        env={"MYPACK_SQLALCHEMY_DATABASE_URI":
                             "postgresql+psycopg2://nobody@127.0.0.1:1/none"})
    assert_one_line_error(result, "database error", "127.0.0.1", "port 1", "refused")


def test_missing_instance_folder(tmp_path):
    result = run_mypack("--instance", str(tmp_path / "missing"), "--config", "postgres", "routes")
    assert_one_line_error(result, f"instance folder {tmp_path / 'missing'} does not exist",
                          "mypack --instance")


def test_instance_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    result = run_mypack("--instance", str(tmp_path / "file"), "routes")
    assert_one_line_error(result, "is not a directory")


def test_unreadable_instance_folder(public_tmp, service_venv):
    folder = public_tmp / "instance"
    folder.mkdir(mode=0o700)
    # Run as an unprivileged user, who cannot enter root's 0700 folder.
    result = subprocess.run([*as_service_user("nobody"), service_venv / "bin" / "mypack",
                             "--instance", folder, "routes"],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert_one_line_error(result, f"instance folder {folder} is not readable")


# --- mypack config ----------------------------------------------------------------------

def test_config_masks_secrets_and_names_sources(instance_path):
    (instance_path / "secret_key").write_text(STRONG_KEY)
    (instance_path / "config.py").write_text("CONFIG = 'postgres'\nDB_PASSWORD = 'hunter2'\n"
                                             "SECRET_KEY_FALLBACKS = ['old-key-123']\n")
    result = run_mypack("--instance", str(instance_path), "config",
                        env={"MYPACK_DB_HOST": "db.internal"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert STRONG_KEY not in out and "hunter2" not in out and "old-key-123" not in out
    assert "# configuration: postgres" in out
    lines = {line.split()[0]: line for line in out.splitlines() if not line.startswith("#")}
    assert "'********'" in lines["SECRET_KEY"]
    assert str(instance_path / "secret_key") in lines["SECRET_KEY"]
    assert "'********'" in lines["DB_PASSWORD"] and "config.py" in lines["DB_PASSWORD"]
    assert "db.internal" in lines["DB_HOST"] and "environment" in lines["DB_HOST"]
    assert "mypack:***@db.internal:5432/mypack" in lines["SQLALCHEMY_DATABASE_URI"]
    assert "PostgresConfig default" in lines["DB_POOL_SIZE"]


def test_config_shows_problems_without_failing(instance_path):
    result = run_mypack("--instance", str(instance_path), "--config", "production", "config")
    assert result.returncode == 0
    assert "# PROBLEM: no SECRET_KEY" in result.stdout


# --- mypack check -----------------------------------------------------------------------

def test_check_passes_a_healthy_development_install(instance_path):
    assert run_mypack("--instance", str(instance_path), "db", "upgrade").returncode == 0
    result = run_mypack("--instance", str(instance_path), "check")
    assert result.returncode == 0, result.stderr
    assert "no problems found" in result.stdout


def test_check_lists_every_problem(public_tmp):
    folder = public_tmp / "instance"
    folder.mkdir()
    (folder / "secret_key").write_text("changeme")
    (folder / "secret_key").chmod(0o644)
    blocker = public_tmp / "file"
    blocker.write_text("")
    result = run_mypack("--instance", str(folder), "--config", "production", "check",
                        env={"MYPACK_DEBUG": "true", "MYPACK_LOG_DIR": str(blocker / "logs"),
                             "MYPACK_SQLALCHEMY_DATABASE_URI":
                                 "postgresql+psycopg2://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for expected in ("mypack.E010: DEBUG must be off",
                     "mypack.E016: SECRET_KEY is a well-known default",
                     "mypack.W011:", "mypack.E020: database unreachable",
                     "mypack.E030: log directory"):
        assert expected in result.stdout, expected
    assert result.stderr == "4 error(s), 1 warning(s) found\n"


def test_check_reports_a_database_behind_the_migrations(instance_path):
    result = run_mypack("--instance", str(instance_path), "check")
    assert result.returncode == 1
    assert "mypack.E021: database has no schema yet; run: mypack db upgrade" in result.stdout


# --- commands that need the app ----------------------------------------------------------

def test_routes(instance_path):
    result = run_mypack("--instance", str(instance_path), "routes")
    assert result.returncode == 0, result.stderr
    for rule in ("/healthz", "/readyz", "/static/<path:filename>"):
        assert rule in result.stdout


def test_shell_runs_in_the_app_context(instance_path, tmp_path):
    # HOME of the test's: the interactive shell writes its history to ~/.python_history.
    result = subprocess.run([str(MYPACK), "--instance", str(instance_path), "shell"],
                            input="print('instance', app.instance_path)\n",
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert f"instance {instance_path}" in result.stdout


def test_init_through_the_cli_runner(runner, tmp_path):
    result = runner.invoke(args=["init"], env={"MYPACK_INSTANCE": str(tmp_path / "new")})
    assert result.exit_code == 0, result.output
    assert f"created {tmp_path / 'new'}" in result.output
    assert (tmp_path / "new" / "secret_key").is_file()


def test_config_command_through_plain_flask_cli(runner, instance_path):
    # The commands are also on app.cli, so `flask --app mypack` has them.
    result = runner.invoke(args=["config"], env={"MYPACK_INSTANCE": str(instance_path),
                                                 "MYPACK_CONFIG": "testing"})
    assert result.exit_code == 0
    assert "# configuration: testing" in result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_serves_the_development_site(instance_path):
    # The home page is the menu, which needs the schema (`make run` upgrades too).
    assert run_mypack("--instance", str(instance_path), "db", "upgrade").returncode == 0
    port = free_port()
    server = subprocess.Popen([str(MYPACK), "--instance", str(instance_path), "run",
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert body is not None, "the development server did not answer"
        assert "Welcome to the café" in body
    finally:
        server.terminate()
        server.wait(timeout=10)
