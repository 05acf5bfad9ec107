"""Checks that talk to the database: reachable, migrated, connections recycled in time."""

from __future__ import annotations

from mypack.checks.findings import Finding


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
                wait = int(connection.execute(text("SELECT @@wait_timeout")).scalar_one())
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
