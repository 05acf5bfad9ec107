"""The database layer on SQLite, PostgreSQL and MySQL: migrations build the schema,
models and migrations agree, and each backend's session settings are in force."""

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade
from flask_migrate import upgrade as upgrade_to
from sqlalchemy import inspect, text
from sqlalchemy.exc import DataError, OperationalError

from mypack.auth.models import User
from mypack.database import (
    MIGRATIONS_DIR,
    current_revisions,
    head_revisions,
    init_migrations,
    migration_problem,
    utcnow,
)
from mypack.extensions import db
from tests.factories import upgrade
from tests.support.system import run_mypack


def test_db_upgrade_builds_an_empty_database(db_app, database_url, instance_path):
    result = run_mypack("--instance", str(instance_path), "--config", "testing", "db", "upgrade",
                        env={"MYPACK_SQLALCHEMY_DATABASE_URI": database_url})
    assert result.returncode == 0, result.stderr
    with db_app.app_context(), db.engine.connect() as connection:
        assert current_revisions(connection) == head_revisions()
        assert migration_problem(connection) is None
        tables = set(inspect(connection).get_table_names())
    assert "alembic_version" in tables
    assert set(db.metadata.tables) <= tables


def test_the_head_is_alembics_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revisions() == tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def test_a_serving_process_does_not_load_alembic(instance_path):
    """Only the ``db`` commands need Alembic and Mako (about 11 MB per process)."""
    script = ("import sys; from mypack import create_app; "
              "app = create_app('testing', sys.argv[1]); "
              "client = app.test_client(); assert client.get('/readyz').status_code == 503; "
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako', "
              "'flask_migrate'}))")
    result = subprocess.run([sys.executable, "-c", script, str(instance_path)],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_models_and_migrations_agree(db_app):
    upgrade(db_app)
    with db_app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models differ from migrations: {differences}"


#: Rows of revision 0004's schema, each table referencing another by ON DELETE CASCADE.
ROWS_AT_0004 = [
    "INSERT INTO users (id, email, display_name, password_hash, role, active, session_token,"
    " created_at) VALUES (1, 'ada@example.com', 'Ada', 'x', 'customer', :yes, 't', :now)",
    "INSERT INTO api_tokens (user_id, name, digest, prefix, created_at)"
    " VALUES (1, 'till', 'digest', 'prefix', :now)",
    "INSERT INTO menu_items (id, name, category, description, price, available, created_at,"
    " updated_at) VALUES (1, 'Espresso', 'coffee', '', 2.50, :yes, :now, :now)",
    "INSERT INTO orders (id, user_id, status, total, submission_key, created_at, updated_at)"
    " VALUES (1, 1, 'placed', 2.50, 'key', :now, :now)",
    "INSERT INTO order_lines (order_id, item_id, quantity, unit_price) VALUES (1, 1, 1, 2.50)",
]


def test_migrations_keep_every_row_that_references_a_table_they_alter(db_app):
    # SQLite rebuilds a table to alter it; with foreign keys enforced that would delete
    # the rows referencing it by ON DELETE CASCADE (the env turns them off meanwhile).
    init_migrations(db_app)
    with db_app.app_context():
        upgrade_to(revision="0004")
        for statement in ROWS_AT_0004:
            db.session.execute(text(statement), {"yes": True, "now": utcnow()})
        db.session.commit()
        upgrade_to()
        counts = {table: db.session.scalar(text(f"SELECT COUNT(*) FROM {table}"))
                  for table in ("users", "api_tokens", "menu_items", "orders", "order_lines")}
    assert counts == dict.fromkeys(counts, 1)


def test_existing_accounts_are_migrated_as_confirmed(db_app):
    # Migration 0010: accounts made before confirmation was asked for may go on ordering.
    init_migrations(db_app)
    created = utcnow().replace(microsecond=0)
    with db_app.app_context():
        upgrade_to(revision="0009")
        db.session.execute(text(ROWS_AT_0004[0]), {"yes": True, "now": created})
        db.session.commit()
        upgrade_to()
        assert db.session.get(User, 1).email_confirmed_at == created


def test_migrations_downgrade_to_empty_and_back(db_app):
    upgrade(db_app)
    with db_app.app_context():
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert current_revisions(connection) == ()
            assert "no schema yet" in migration_problem(connection)
        upgrade(db_app)
        with db.engine.connect() as connection:
            assert migration_problem(connection) is None


@pytest.mark.parametrize("backend", ["postgres"])
def test_postgres_session_settings(make_app, server):
    app = make_app(SQLALCHEMY_DATABASE_URI=server.url, DB_STATEMENT_TIMEOUT=7)
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "7s"
        assert connection.execute(text("SHOW application_name")).scalar() == "mypack"
        # The timeout really cuts a slow statement off.
        connection.execute(text("SET statement_timeout = 100"))
        with pytest.raises(OperationalError, match="statement timeout"):
            connection.execute(text("SELECT pg_sleep(2)"))
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("backend", ["mysql"])
def test_mysql_session_settings(make_app, server):
    app = make_app(SQLALCHEMY_DATABASE_URI=server.url)
    with app.app_context(), db.engine.connect() as connection:
        modes = connection.execute(text("SELECT @@SESSION.sql_mode")).scalar().split(",")
        assert {"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES", "NO_ZERO_DATE"} <= set(modes)
        assert connection.execute(text("SELECT @@character_set_client")).scalar() == "utf8mb4"
        # Strict mode refuses to truncate instead of silently storing less.
        connection.execute(text("CREATE TEMPORARY TABLE t (name VARCHAR(3))"))
        with pytest.raises(DataError, match="Data too long"):
            connection.execute(text("INSERT INTO t VALUES ('espresso')"))
        wait_timeout = int(connection.execute(text("SELECT @@wait_timeout")).scalar())
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] < wait_timeout
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_pool_pre_ping_survives_a_killed_connection(make_app, server):
    app = make_app(SQLALCHEMY_DATABASE_URI=server.url, DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0)
    with app.app_context():
        with db.engine.connect() as connection:
            if server.backend == "postgres":
                backend_id = connection.execute(text("SELECT pg_backend_pid()")).scalar()
                kill = f"SELECT pg_terminate_backend({backend_id})"
            else:
                backend_id = connection.execute(text("SELECT CONNECTION_ID()")).scalar()
                kill = f"KILL {backend_id}"
        with server.admin.connect() as admin:
            admin.execute(text(kill))
        # The pooled connection is dead; pre-ping replaces it without an error.
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        db.engine.dispose()
