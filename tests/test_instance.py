"""The instance folder: where it is, what `mypack init` writes, secrets kept out of git."""

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mypack import create_app
from mypack.exceptions import ConfigError
from mypack.instance import CONFIG_EXAMPLE, resolve_instance_path
from tests.support.system import ROOT, run_mypack


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- where the folder is --------------------------------------------------------------

def test_argument_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("MYPACK_INSTANCE", str(tmp_path / "from-env"))
    assert resolve_instance_path(tmp_path / "given") == tmp_path / "given"


def test_environment_is_next(tmp_path, monkeypatch):
    monkeypatch.setenv("MYPACK_INSTANCE", str(tmp_path / "from-env"))
    assert resolve_instance_path() == tmp_path / "from-env"


def test_checkout_uses_its_instance_folder():
    assert resolve_instance_path() == ROOT / "instance"


def test_installed_package_uses_flasks_default(tmp_path):
    # Outside a checkout (no setup.py beside the package) Flask's default applies.
    script = ("import sys, mypack.instance as i, pathlib;"
              "i.PACKAGE_DIR = pathlib.Path(sys.argv[1]) / 'site-packages' / 'mypack';"
              "print(i.resolve_instance_path(environ={}))")
    output = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True,
                            capture_output=True, text=True).stdout.strip()
    assert output == str(Path(sys.prefix) / "var" / "mypack-instance")


def test_app_uses_the_resolved_folder(instance_path):
    assert create_app("testing", instance_path).instance_path == str(instance_path)


# --- mypack init ----------------------------------------------------------------------

def test_init_creates_folder_secret_and_config(tmp_path):
    folder = tmp_path / "deploy" / "instance"
    result = run_mypack("--instance", str(folder), "init")
    assert result.returncode == 0, result.stderr
    assert mode(folder) == 0o750
    key_file = folder / "secret_key"
    assert mode(key_file) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 86  # 64 random bytes, URL-safe base64
    assert (folder / "config.py").read_text() == CONFIG_EXAMPLE.read_text()
    assert f"created {folder} (mode 0750)" in result.stdout
    assert f"wrote {key_file}" in result.stdout
    assert f"wrote {folder / 'config.py'}" in result.stdout


def test_init_keeps_existing_files(tmp_path):
    folder = tmp_path / "instance"
    run_mypack("--instance", str(folder), "init")
    (folder / "config.py").write_text("CONFIG = 'postgres'\n")
    key = (folder / "secret_key").read_text()

    result = run_mypack("--instance", str(folder), "init")
    assert result.returncode == 0
    assert (folder / "secret_key").read_text() == key
    assert (folder / "config.py").read_text() == "CONFIG = 'postgres'\n"
    assert "kept" in result.stdout and "use --force" in result.stdout


def test_init_force_replaces(tmp_path):
    folder = tmp_path / "instance"
    run_mypack("--instance", str(folder), "init")
    key = (folder / "secret_key").read_text()
    (folder / "config.py").write_text("# mine\n")
    result = run_mypack("--instance", str(folder), "init", "--force")
    assert result.returncode == 0
    assert (folder / "secret_key").read_text() != key
    assert mode(folder / "secret_key") == 0o600
    assert (folder / "config.py").read_text() == CONFIG_EXAMPLE.read_text()


def test_new_secret_key_keeps_the_config(tmp_path):
    folder = tmp_path / "instance"
    run_mypack("--instance", str(folder), "init")
    key = (folder / "secret_key").read_text()
    (folder / "config.py").write_text(f"SECRET_KEY_FALLBACKS = [{key.strip()!r}]\n")
    result = run_mypack("--instance", str(folder), "init", "--new-secret-key")
    assert result.returncode == 0
    assert (folder / "secret_key").read_text() != key
    assert mode(folder / "secret_key") == 0o600
    assert (folder / "config.py").read_text().startswith("SECRET_KEY_FALLBACKS")
    assert "SECRET_KEY_FALLBACKS" in result.stdout


def test_two_inits_make_different_keys(tmp_path):
    keys = set()
    for name in ("one", "two"):
        run_mypack("--instance", str(tmp_path / name), "init")
        keys.add((tmp_path / name / "secret_key").read_text())
    assert len(keys) == 2


def test_an_initialised_folder_runs_production(tmp_path):
    folder = tmp_path / "instance"
    run_mypack("--instance", str(folder), "init")
    app = create_app("production", folder, SQLALCHEMY_DATABASE_URI="postgresql://u@h/d")
    assert app.secret_key == (folder / "secret_key").read_text().strip()


def test_raw_byte_secret_key_file_works(instance_path):
    # The seed guide's habit: head -c 64 /dev/urandom > secret_key
    raw = bytes(range(256))[128:192]
    (instance_path / "secret_key").write_bytes(raw)
    app = create_app("production", instance_path, SQLALCHEMY_DATABASE_URI="postgresql://u@h/d")
    assert app.secret_key == raw


# --- missing secrets and folders ---------------------------------------------------------

def test_production_without_secret_names_file_and_command(instance_path):
    with pytest.raises(ConfigError) as error:
        create_app("production", instance_path, SQLALCHEMY_DATABASE_URI="postgresql://u@h/d")
    message = str(error.value)
    assert str(instance_path / "secret_key") in message
    assert f"mypack --instance {instance_path} init" in message


def test_production_without_secret_from_the_cli_is_one_line(instance_path):
    result = run_mypack("--instance", str(instance_path), "--config", "production", "routes",
                        env={"MYPACK_SQLALCHEMY_DATABASE_URI": "postgresql://u@h/d"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(instance_path / "secret_key") in line and "init" in line


def test_development_creates_its_secret(instance_path):
    app = create_app("development", instance_path)
    key_file = instance_path / "secret_key"
    assert mode(key_file) == 0o600
    assert app.secret_key == key_file.read_text().strip()
    # ... once: the next start reads the same key.
    assert create_app("development", instance_path).secret_key == app.secret_key


def test_development_creates_a_missing_folder(tmp_path):
    folder = tmp_path / "new"
    create_app("development", folder)
    assert mode(folder) == 0o750 and (folder / "secret_key").is_file()


def test_production_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match="does not exist; create it with: mypack --instance"):
        create_app("production", tmp_path / "missing")


def test_a_file_is_not_an_instance_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is not a directory"):
        create_app("testing", tmp_path / "file")


# --- git -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, ignored", [
    ("secret_key", True), ("config.py", True), ("mypack.sqlite", True), ("logs/mypack.log", True),
    ("config.example.py", False), (".gitignore", False), ("README.md", False),
])
def test_git_ignores_all_but_the_examples(name, ignored):
    result = subprocess.run(["git", "check-ignore", "-q", f"instance/{name}"], cwd=ROOT)
    assert (result.returncode == 0) is ignored


def test_example_config_documents_every_setting():
    from mypack.config import Config

    documented = CONFIG_EXAMPLE.read_text()
    readme = (ROOT / "README.md").read_text()
    for name in Config.defaults():
        assert f"# {name} = " in documented, f"{name} missing from config.example.py"
        assert f"`{name}`" in readme, f"{name} missing from the README's reference"


def test_a_servers_application_leaves_start_up_objects_to_no_collector(instance_path):
    # What start.wsgi and gunicorn load: everything built at start-up is frozen, so the
    # garbage collector's full passes no longer walk it while every thread waits.
    script = ("import gc, sys\n"
              "from mypack.startup import make_application\n"
              "application = make_application(sys.argv[1])\n"
              "print(type(application).__name__, gc.get_freeze_count())\n")
    result = subprocess.run([sys.executable, "-c", script, str(instance_path)],
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "MYPACK_CONFIG": "testing"})
    assert result.returncode == 0, result.stderr
    name, frozen = result.stdout.split()
    assert name == "Mypack" and int(frozen) > 10_000
