"""Fixtures: apps, clients, CLI runners and real databases on SQLite, PostgreSQL, MySQL.

The PostgreSQL and MariaDB/MySQL servers are the local ones. The suite connects as
an administrator (``MYPACK_TEST_POSTGRES_ADMIN``, ``MYPACK_TEST_MYSQL_ADMIN``;
defaults below), creates its own user and database idempotently, and drops both at
the end. A server that is not running skips its tests with a loud reason, except
under ``CI=true``, where it fails them.

The schema is migrated once per backend per run. ``site`` and ``migrated_app`` (and
``migrated_url``, ``migrated_sqlite``) hand each test a database at the migration head
with no rows: on SQLite a copy of one migrated file; on PostgreSQL and MariaDB one
migrated database, emptied after each test (its connections ended, every table
truncated, ids restarting at 1) and migrated again if a test left its schema changed.
Tests commit for real, as the application does; none sees another's rows. Only the
tests of migrations themselves take an empty database (``database_url``, ``db_app``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from mypack import create_app
from tests.factories import dispose, upgrade
from tests.support.system import command, require_root, unavailable

# Named per test run, so two runs on one machine (a developer and CI) never share.
TEST_USER = TEST_DATABASE = f"mypack_test_{os.getpid()}"
TEST_PASSWORD = "mypack-test-password"
# Tried in order; MariaDB's root may be allowed only through the socket (error 1698).
ADMIN_URLS = {
    "postgres": [os.environ.get("MYPACK_TEST_POSTGRES_ADMIN",
                                "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")],
    "mysql": [os.environ.get("MYPACK_TEST_MYSQL_ADMIN",
                             "mysql+mysqldb://root@127.0.0.1:3306/mysql"),
              "mysql+mysqldb://root@localhost/mysql?unix_socket=/run/mysqld/mysqld.sock"],
}
BACKENDS = ("sqlite", "postgres", "mysql")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No MYPACK_* or FLASK_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if (name.startswith(("MYPACK_", "FLASK_")) and not name.startswith("MYPACK_TEST_")):
            monkeypatch.delenv(name)


@pytest.fixture
def instance_path(tmp_path) -> Path:
    """An empty instance folder of the test's own."""
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def public_tmp():
    """A temporary folder other users can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="mypack-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_app(instance_path):
    """Build a testing app with overrides, in the test's instance folder."""
    def make(config_name="testing", **overrides):
        return create_app(config_name, instance_path=instance_path, **overrides)
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- the package as built and deployed ------------------------------------------------

@pytest.fixture(scope="session")
def mypack_wheel(tmp_path_factory) -> Path:
    """The working tree as a wheel."""
    from tests.support.servers import build_wheel

    return build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def deployment(mypack_wheel):
    """A deploy root outside root's home: venv from Debian's Python with mypack, mod_wsgi
    and gunicorn installed, start.wsgi, and an instance folder owned by www-data."""
    from tests.support import servers

    require_root("for the deployment: Apache's daemons run as www-data")
    for tool in ("apache2", "apxs", "setpriv"):
        command(tool)
    root = Path(tempfile.mkdtemp(prefix="mypack-deploy-", dir="/tmp"))
    try:
        yield servers.build_deployment(root, mypack_wheel)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def service_venv(mypack_wheel) -> Path:
    """A venv with mypack that any user can run, wherever the checkout lives: made from
    Debian's Python in a folder of /tmp open to all, as a deploy root's is. For the
    tests that run mypack as another user, who cannot enter root's 0700 home (nor a
    checkout inside it, nor its .venv)."""
    from tests.support import servers

    require_root("to run mypack as another user")
    command("setpriv")
    root = Path(tempfile.mkdtemp(prefix="mypack-venv-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield servers.make_venv(root / "venv", mypack_wheel)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def deployed(deployment, server):
    """The deployment configured for the test's database server, migrated, at version 1."""
    server.recreate()
    deployment.settings = dict(
        CONFIG=server.backend, DB_HOST="127.0.0.1", DB_PORT=server.port,
        DB_NAME=TEST_DATABASE, DB_USER=TEST_USER, DB_PASSWORD=TEST_PASSWORD,
        TRUSTED_HOSTS=["127.0.0.1"], READYZ_TIMEOUT=20,
        SITE_URL="https://cafe.example.com", MAIL_DEFAULT_SENDER="orders@cafe.example.com",
        # As behind a TLS-terminating proxy: the tests' requests say X-Forwarded-Proto:
        # https (tests/support/servers.py), else production redirects them to https://.
        PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1,
        # Per-process rate-limit counters, as the shipped production example accepts.
        SILENCED_CHECKS=["mypack.W093"],
        # Receipts of the orders the tests place go to a queue of the test's own on the
        # local RabbitMQ, removed after it, never to a queue some worker of the machine
        # reads.
        CELERY_TASK_DEFAULT_QUEUE=f"mypack-test-{uuid.uuid4().hex[:12]}",
    )
    deployment.configure(**deployment.settings)
    deployment.mypack("db", "upgrade")
    deployment.set_version("1.0.0")
    yield deployment
    deployment.set_version("1.0.0")
    from tests.support.jobs import BROKERS, broker_reachable, delete_queue

    if broker_reachable(BROKERS["amqp"]) is None:
        delete_queue(BROKERS["amqp"], deployment.settings["CELERY_TASK_DEFAULT_QUEUE"])


# --- real database servers ---------------------------------------------------------

def _unavailable(backend: str, reason: str):
    unavailable(f"{backend} server not available ({reason}); its tests did not run")


@pytest.fixture
def redis_url() -> str:
    """The local Redis, where several processes share rate-limit counters or the menu
    cache (unavailable: skipped loudly, failed with CI=true)."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("Redis", str(exc))
    return url


@pytest.fixture
def smtp_server():
    """A real SMTP server of the test's own (tests/support/smtp.py), stopped at the end."""
    from tests.support.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


class RedisServer:
    """A Redis of the test's own on a free port, to stop and start as an outage would,
    leaving the machine's Redis alone."""

    def __init__(self, folder: Path):
        from tests.support.servers import free_port

        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [command("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path):
    """A running Redis of the test's own (``.stop()``, ``.start()``), stopped at the end."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _admin_engine(backend: str):
    errors = []
    for url in ADMIN_URLS[backend]:
        engine = create_engine(url, isolation_level="AUTOCOMMIT",
                               connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return engine
        except OperationalError as exc:
            engine.dispose()
            errors.append(str(exc.orig).strip().splitlines()[0])
    _unavailable(backend, "; ".join(errors))


def _create_postgres(admin, database: str) -> None:
    with admin.connect() as c:
        exists = c.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :u"),
                           {"u": TEST_USER}).scalar()
        verb = "ALTER" if exists else "CREATE"
        c.execute(text(f"{verb} ROLE {TEST_USER} LOGIN PASSWORD '{TEST_PASSWORD}'"))
        c.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        c.execute(text(f"CREATE DATABASE {database} OWNER {TEST_USER}"))


def _drop_postgres(admin, databases) -> None:
    with admin.connect() as c:
        for database in databases:
            c.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        c.execute(text(f"DROP ROLE IF EXISTS {TEST_USER}"))


def _empty_postgres(admin, database: str, tables: list[str]) -> None:
    # The head database's own connection: TRUNCATE acts on the database connected to.
    engine = create_engine(admin.url.set(database=database), isolation_level="AUTOCOMMIT",
                           poolclass=NullPool)
    try:
        with engine.connect() as c:
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database})
            c.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def _create_mysql(admin, database: str) -> None:
    with admin.connect() as c:
        for host in ("localhost", "127.0.0.1"):
            c.execute(text(f"CREATE USER IF NOT EXISTS '{TEST_USER}'@'{host}' "
                           f"IDENTIFIED BY '{TEST_PASSWORD}'"))
            c.execute(text(f"GRANT ALL ON {database}.* TO '{TEST_USER}'@'{host}'"))
        c.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        c.execute(text(f"CREATE DATABASE {database} "
                       "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))


def _drop_mysql(admin, databases) -> None:
    with admin.connect() as c:
        for database in databases:
            c.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        for host in ("localhost", "127.0.0.1"):
            c.execute(text(f"DROP USER IF EXISTS '{TEST_USER}'@'{host}'"))


def _empty_mysql(admin, database: str, tables: list[str]) -> None:
    with admin.connect() as c:
        rows = c.execute(text("SELECT id FROM information_schema.processlist "
                              "WHERE db = :d AND id <> CONNECTION_ID()"), {"d": database})
        for (connection,) in rows.all():
            with contextlib.suppress(OperationalError):  # ended meanwhile
                c.execute(text(f"KILL {int(connection)}"))
        # TRUNCATE, not DELETE: it also restarts the AUTO_INCREMENT counters, as
        # PostgreSQL's RESTART IDENTITY does, so every test sees ids from 1.
        c.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        try:
            for table in tables:
                c.execute(text(f"TRUNCATE TABLE {database}.{table}"))
        finally:
            c.execute(text("SET FOREIGN_KEY_CHECKS = 1"))


SERVERS = {
    "postgres": (_create_postgres, _drop_postgres, _empty_postgres, "postgresql+psycopg2", 5432),
    "mysql": (_create_mysql, _drop_mysql, _empty_mysql, "mysql+mysqldb", 3306),
}


class Server:
    """A real database server with the suite's own user and two databases on it: one
    recreated empty for each test that asks (``recreate``), for the tests of migrations
    and deployment; and one migrated once per run (``head``), emptied of rows after
    each test that used it, for everything else."""

    def __init__(self, backend: str, admin):
        self.backend = backend
        self.admin = admin
        self._create, self._drop, self._empty, driver, self.port = SERVERS[backend]
        base = f"{driver}://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:{self.port}/"
        # The app connects over TCP, as in production.
        self.url = base + TEST_DATABASE
        self.head_database = f"{TEST_DATABASE}_head"
        self.head_url = base + self.head_database
        self._schema: tuple[set[str], str] | None = None  # (tables, revision) once migrated

    def recreate(self) -> None:
        """Give the test an empty database."""
        self._create(self.admin, TEST_DATABASE)

    def head(self) -> str:
        """The URL of the migrated database, without rows; migrated on first use, and
        again if a test changed its schema."""
        if self._schema is None:
            self._create(self.admin, self.head_database)
            app = create_app("testing", instance_path=tempfile.mkdtemp(prefix="mypack-head-"),
                             SQLALCHEMY_DATABASE_URI=self.head_url)
            upgrade(app)
            dispose(app)
            self._schema = self._read_schema()
        return self.head_url

    def empty_head(self) -> None:
        """Delete every row a test left in the head database (its connections are ended
        first); a schema no longer at the head is rebuilt by the next ``head()``."""
        if self._schema is None:
            return
        tables, revision = self._schema
        try:
            self._empty(self.admin, self.head_database, sorted(tables - {"alembic_version"}))
            intact = self._read_schema() == self._schema
        except DBAPIError:
            intact = False
        if not intact:
            self._schema = None

    def _read_schema(self) -> tuple[set[str], str]:
        engine = create_engine(self.head_url, poolclass=NullPool)
        try:
            with engine.connect() as c:
                revision = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
                return set(inspect(c).get_table_names()), revision
        finally:
            engine.dispose()

    def drop(self) -> None:
        self._drop(self.admin, [TEST_DATABASE, self.head_database])
        self.admin.dispose()


@pytest.fixture(scope="session")
def servers():
    """The database servers started so far this session, dropped at its end."""
    started: dict[str, Server] = {}
    yield started
    for server in started.values():
        server.drop()


def _server(servers, backend: str) -> Server:
    if backend not in servers:
        server = Server(backend, _admin_engine(backend))
        server.recreate()
        servers[backend] = server
    return servers[backend]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Run the test once per backend: sqlite, postgres, mysql."""
    return request.param


@pytest.fixture
def database_url(backend, servers, tmp_path) -> str:
    """The URL of an empty database on the test's backend, owned by the test user: for
    the tests of migrations themselves. Others take ``migrated_url``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    server = _server(servers, backend)
    server.recreate()
    return server.url


@pytest.fixture(scope="session")
def sqlite_head(tmp_path_factory) -> Path:
    """A SQLite file migrated to the head once per run; tests get copies of it."""
    folder = tmp_path_factory.mktemp("head")
    path = folder / "head.sqlite"
    app = create_app("testing", instance_path=folder, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    upgrade(app)
    dispose(app)
    return path


@pytest.fixture
def migrated_sqlite(sqlite_head, tmp_path):
    """``migrated_sqlite(name)``: the URL of a fresh copy of the migrated SQLite file."""
    def copy(name: str = "test.sqlite") -> str:
        path = tmp_path / name
        shutil.copyfile(sqlite_head, path)
        return f"sqlite:///{path}"
    return copy


@pytest.fixture
def migrated_url(backend, servers, migrated_sqlite):
    """The URL of a database at the migration head with no rows, on the test's backend.

    The schema is migrated once per backend per run: SQLite tests get a copy of a
    migrated file, and on PostgreSQL and MariaDB every test shares one migrated
    database, emptied of its rows (TRUNCATE, ids restarting at 1) after each test."""
    if backend == "sqlite":
        yield migrated_sqlite()
        return
    server = _server(servers, backend)
    yield server.head()
    server.empty_head()


@pytest.fixture
def server(backend, servers) -> Server:
    """The real server of the test's backend (not for sqlite)."""
    if backend == "sqlite":
        pytest.skip("needs a database server")
    return _server(servers, backend)


@pytest.fixture
def site(make_app, migrated_sqlite):
    """A testing app on a migrated SQLite file: for tests where the backend does not matter."""
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_sqlite("site.sqlite"))
    yield app
    dispose(app)


@pytest.fixture
def migrated_app(make_app, migrated_url):
    """A testing app on a migrated database without rows, on each backend."""
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_url)
    yield app
    dispose(app)


@pytest.fixture
def db_app(make_app, database_url):
    """A testing app on an empty database of the test's backend."""
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url)
    yield app
    dispose(app)
