"""``mypack check``: every reason this installation cannot serve, each with an id.

Checks read only: they create no file and change no table, so running them as root
cannot leave root-owned logs behind. Run them as the service user to test its rights.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mypack.exceptions import ConfigError


@dataclass(frozen=True)
class Finding:
    """One problem: an id such as ``mypack.E020`` and a sentence saying what to fix."""

    id: str
    message: str

    @property
    def is_error(self) -> bool:
        return ".E" in self.id

    def __str__(self) -> str:
        return f"{self.id}: {self.message}"


def run_checks() -> list[Finding]:
    """Load the configuration as the app would and check it, the database and the logs."""
    from mypack.config import load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        return [Finding("mypack.E001", str(exc))]
    findings = [Finding("mypack.E010", problem) for problem in settings.problems()]
    findings += check_secret_key_file(settings.instance_path)
    if settings.values.get("SQLALCHEMY_DATABASE_URI"):
        findings += check_database(settings.values)
    findings += check_log_dir(settings.values.get("LOG_DIR") or "")
    return findings


def check_secret_key_file(instance_path: Path) -> list[Finding]:
    """The secret key file must not be readable by group or others."""
    from mypack.instance import secret_key_path

    key_file = secret_key_path(instance_path)
    try:
        mode = key_file.stat().st_mode
    except OSError:
        return []
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [Finding("mypack.W011", f"{key_file} has mode {stat.S_IMODE(mode):04o}; "
                                       f"make it 0600 (chmod 600 {key_file})")]
    return []


def check_database(values) -> list[Finding]:
    """The database answers, is at the migration head, and keeps connections long enough."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    from mypack.database import describe_error, migration_problem

    engine = create_engine(values["SQLALCHEMY_DATABASE_URI"],
                           **values["SQLALCHEMY_ENGINE_OPTIONS"])
    findings = []
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            problem = migration_problem(connection)
            if problem:
                findings.append(Finding("mypack.E021", problem))
            if engine.dialect.name == "mysql":
                wait = int(connection.execute(text("SELECT @@wait_timeout")).scalar())
                recycle = values["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_recycle", -1)
                if recycle < 0 or recycle >= wait:
                    findings.append(Finding(
                        "mypack.W022", f"pool_recycle ({recycle}) is not below the server's "
                                       f"wait_timeout ({wait}); lower DB_POOL_RECYCLE"))
    except SQLAlchemyError as exc:
        findings.append(Finding("mypack.E020", f"database unreachable: {describe_error(exc)}"))
    finally:
        engine.dispose()
    return findings


def check_log_dir(log_dir: str) -> list[Finding]:
    """The log directory (or the folder that will hold it) is writable by this user."""
    if not log_dir:
        return []
    path = Path(log_dir)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return [Finding("mypack.E030", f"log directory {path} cannot be created: "
                                       f"{existing} is not a directory")]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [Finding("mypack.E030", f"log directory {path} is not writable by this user")]
    from mypack.logs import LOG_FILE

    log_file = path / LOG_FILE
    if log_file.exists() and not os.access(log_file, os.W_OK):
        return [Finding("mypack.E030", f"log file {log_file} is not writable by this user")]
    return []
