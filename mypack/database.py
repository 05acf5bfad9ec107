"""The database layer: the declarative base, the engine's per-backend hooks and the
migration state that /readyz and ``mypack check`` report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import MetaData, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
#: The largest id an INTEGER primary key holds on every backend (32-bit signed).
MAX_ID = 2**31 - 1

# Explicit constraint names make migrations portable: each backend otherwise invents
# its own, and a later migration cannot drop a constraint it cannot name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now in UTC, without tzinfo: stored alike on SQLite, PostgreSQL and MySQL
    (MySQL's DATETIME keeps no zone), and always meaning UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Base class of every model (SQLAlchemy 2 typed declarative)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, connection_record) -> None:
    # SQLite ignores foreign keys unless asked on every connection; the other
    # backends always enforce them, and the code must behave the same on all three.
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@lru_cache(maxsize=1)
def head_revisions() -> tuple[str, ...]:
    """The revisions the shipped migrations end at (read once per process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the connected database is at (empty if never migrated).

    Read straight from Alembic's table: a MigrationContext would log two INFO lines
    on every /readyz probe.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    return tuple(sorted(rows))


def migration_problem(connection: Connection) -> str | None:
    """None when the database is at the migration head, else why not, in a sentence."""
    current, head = current_revisions(connection), head_revisions()
    if current == head:
        return None
    if not current:
        return "database has no schema yet; run: mypack db upgrade"
    return (f"database is at revision {', '.join(current)}, the code expects "
            f"{', '.join(head)}; run: mypack db upgrade")


def describe_error(exc: BaseException) -> str:
    """A database error as one line (the driver's first line, no SQLAlchemy link)."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return f"{type(original).__name__}: {first}" if first else type(original).__name__
