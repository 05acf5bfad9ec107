"""What the suite needs from the machine, and one way to say that something is missing.

Every system command the suite calls is named in ``scripts/system-packages`` beside the
Debian package that brings it; ``make test`` runs ``scripts/bootstrap test``, which
installs those packages and starts the local servers. ``tests/deploy/test_bootstrap.py`` keeps
the list and the suite in step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_LIST = ROOT / "scripts" / "system-packages"
BOOTSTRAP = ROOT / "scripts" / "bootstrap"
IN_CI = os.environ.get("CI", "").lower() == "true"
#: The installed console script, beside the running Python.
MYPACK = Path(sys.executable).with_name("mypack")


@dataclass(frozen=True)
class Listed:
    """One line of scripts/system-packages."""

    target: str
    package: str
    commands: tuple[str, ...]


def package_list(path: Path = PACKAGE_LIST) -> list[Listed]:
    lines = (line.split() for line in path.read_text().splitlines())
    return [Listed(words[0], words[1], tuple(words[2:]))
            for words in lines if words and not words[0].startswith("#")]


def listed_commands() -> dict[str, str]:
    """Each command named in the list, with its package."""
    return {name: line.package for line in package_list() for name in line.commands}


def unavailable(message: str) -> NoReturn:
    """Skip with a loud reason; with CI=true, where nothing may skip for lack of a
    server or a package, fail instead."""
    if IN_CI:
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(f"!!! {message} !!!")


def command(name: str) -> str:
    """The path of a system command the suite calls.

    A name missing from scripts/system-packages is the suite's own mistake and fails at
    once, wherever it runs; a listed command missing from this machine is unavailable
    (``make test`` would have installed it).
    """
    package = listed_commands().get(name)
    if package is None:
        pytest.fail(f"the suite calls {name!r}, which {PACKAGE_LIST} does not name",
                    pytrace=False)
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (Debian package {package}; "
                    "`make test` installs it)")
    return path


def require_root(why: str) -> None:
    if os.geteuid() != 0:
        unavailable(f"needs root {why}")


def run_mypack(*args: str, env: dict | None = None, cwd: Path | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the installed ``mypack`` console script as an operator would, without the
    MYPACK_* and FLASK_* variables of the developer's shell (MYPACK_TEST_* are kept)."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("MYPACK_", "FLASK_")) or k.startswith("MYPACK_TEST_")}
    environment.update(env or {})
    return subprocess.run([str(MYPACK), *args], capture_output=True, text=True,
                          env=environment, cwd=cwd or ROOT, timeout=timeout)
