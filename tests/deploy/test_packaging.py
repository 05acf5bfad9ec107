"""`pip install .` gives the package with its data files and the mypack console script."""

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def wheel(mypack_wheel) -> Path:
    return mypack_wheel


def test_wheel_holds_templates_static_migrations_and_example(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("mypack/templates/base.html", "mypack/templates/errors/error.html",
                     "mypack/static/css/site.css", "mypack/migrations/env.py",
                     "mypack/migrations/alembic.ini", "mypack/migrations/script.py.mako",
                     "mypack/migrations/versions/0001_baseline.py",
                     "mypack/resources/config.example.py"):
        assert expected in names, expected
    data = "mypack-0.1.0.data/data/share/mypack/"
    for kit in ("start.wsgi", "gunicorn.conf.py", "deploy.sh", "production.config.py",
                "systemd/mypack.service", "systemd/mypack-health.service",
                "systemd/mypack-reload.path",
                "systemd/mypack-reload.service", "logrotate/mypack"):
        assert data + kit in names, kit
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", "instance/"))]


def test_wheel_declares_the_console_script_and_extras(wheel):
    archive = zipfile.ZipFile(wheel)
    info = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
    assert "mypack = mypack.cli:main" in archive.read(info).decode()
    metadata = archive.read(info.replace("entry_points.txt", "METADATA")).decode()
    for line in ("Provides-Extra: test", "Provides-Extra: dev", "Requires-Dist: psycopg2",
                 "Requires-Dist: mysqlclient", "Requires-Dist: flask-migrate",
                 "Requires-Dist: gunicorn", "Provides-Extra: apache"):
        assert line in metadata, line
    assert "psycopg2-binary" not in metadata


def test_installed_into_a_fresh_venv_it_runs(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True)
    # The dependencies come from this test environment; mypack itself from the new venv.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": sysconfig.get_paths()["purelib"]
           + os.pathsep + sysconfig.get_paths()["platlib"]}
    instance = tmp_path / "instance"
    for command in (["init"], ["db", "upgrade"], ["check"]):
        result = subprocess.run([str(venv / "bin" / "mypack"), "--instance", str(instance),
                                 *command], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import mypack, pathlib; print(pathlib.Path(mypack.__file__).parent)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path,
                           check=True).stdout.strip()
    assert where.startswith(str(venv))
    assert (Path(where) / "templates" / "base.html").is_file()
    assert "config.py" in {p.name for p in instance.iterdir()}
