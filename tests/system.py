"""What the suite needs from the machine, and one way to say that something is missing.

Every system command the suite calls is named in ``scripts/system-packages`` beside the
Debian package that brings it; ``make test`` runs ``scripts/bootstrap test``, which
installs those packages and starts the local servers. ``tests/test_bootstrap.py`` keeps
the list and the suite in step.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_LIST = ROOT / "scripts" / "system-packages"
BOOTSTRAP = ROOT / "scripts" / "bootstrap"
IN_CI = os.environ.get("CI", "").lower() == "true"


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
