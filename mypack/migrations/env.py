"""Alembic environment for mypack, run by Flask-Migrate inside the app context.

Unlike Flask-Migrate's template it does not call ``fileConfig``: that would replace
the log handlers mypack installed at start-up. It uses the app's own engine, so a
migration gets the same connect and statement timeouts as the app.
"""

import logging

from alembic import context
from flask import current_app

config = context.config
logger = logging.getLogger("alembic.env")
target_db = current_app.extensions["migrate"].db


def run_migrations_offline():
    """Write the SQL to stdout (``mypack db upgrade --sql``) instead of running it."""
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations on a connection of the app's engine."""

    def process_revision_directives(context, revision, directives):
        # 'mypack db migrate' with no model change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False):
            if directives[0].upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    configure_args = current_app.extensions["migrate"].configure_args
    configure_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        # SQLite alters a table by building a new one and dropping the old (Alembic's
        # batch mode); with foreign keys enforced, that drop would delete every row
        # that references the old table by ON DELETE CASCADE (a user's API tokens, an
        # order's lines). So they are off while migrating, as SQLite's documentation
        # says, and checked after.
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=target_db.metadata,
                              **configure_args)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
        if sqlite and broken:
            raise RuntimeError(f"the migration left rows whose references are gone: {broken}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
