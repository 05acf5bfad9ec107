"""Fixtures: apps, clients, CLI runners and real databases on SQLite, PostgreSQL, MySQL.

The PostgreSQL and MariaDB/MySQL servers are the local ones. The suite connects as
an administrator (``MYPACK_TEST_POSTGRES_ADMIN``, ``MYPACK_TEST_MYSQL_ADMIN``;
defaults below), creates its own user and database idempotently, and drops both at
the end. A server that is not running skips its tests with a loud reason, except
under ``CI=true``, where it fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from mypack import create_app
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
    deployment.configure(
        CONFIG=server.backend, DB_HOST="127.0.0.1", DB_PORT=server.port,
        DB_NAME=TEST_DATABASE, DB_USER=TEST_USER, DB_PASSWORD=TEST_PASSWORD,
        TRUSTED_HOSTS=["127.0.0.1"], READYZ_TIMEOUT=20,
        # As behind a TLS-terminating proxy: the tests' requests say X-Forwarded-Proto:
        # https (tests/support/servers.py), else production redirects them to https://.
        PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1,
        # Per-process rate-limit counters, as the shipped production example accepts.
        SILENCED_CHECKS=["mypack.W093"],
    )
    deployment.mypack("db", "upgrade")
    deployment.set_version("1.0.0")
    yield deployment
    deployment.set_version("1.0.0")


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


def _create_postgres(admin) -> None:
    with admin.connect() as c:
        exists = c.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :u"),
                           {"u": TEST_USER}).scalar()
        verb = "ALTER" if exists else "CREATE"
        c.execute(text(f"{verb} ROLE {TEST_USER} LOGIN PASSWORD '{TEST_PASSWORD}'"))
        c.execute(text(f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)"))
        c.execute(text(f"CREATE DATABASE {TEST_DATABASE} OWNER {TEST_USER}"))


def _drop_postgres(admin) -> None:
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)"))
        c.execute(text(f"DROP ROLE IF EXISTS {TEST_USER}"))


def _create_mysql(admin) -> None:
    with admin.connect() as c:
        for host in ("localhost", "127.0.0.1"):
            c.execute(text(f"CREATE USER IF NOT EXISTS '{TEST_USER}'@'{host}' "
                           f"IDENTIFIED BY '{TEST_PASSWORD}'"))
            c.execute(text(f"GRANT ALL ON {TEST_DATABASE}.* TO '{TEST_USER}'@'{host}'"))
        c.execute(text(f"DROP DATABASE IF EXISTS {TEST_DATABASE}"))
        c.execute(text(f"CREATE DATABASE {TEST_DATABASE} "
                       "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))


def _drop_mysql(admin) -> None:
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {TEST_DATABASE}"))
        for host in ("localhost", "127.0.0.1"):
            c.execute(text(f"DROP USER IF EXISTS '{TEST_USER}'@'{host}'"))


SERVERS = {
    "postgres": (_create_postgres, _drop_postgres, "postgresql+psycopg2", 5432),
    "mysql": (_create_mysql, _drop_mysql, "mysql+mysqldb", 3306),
}


class Server:
    """A real database server with the suite's own user and database on it."""

    def __init__(self, backend: str, admin):
        self.backend = backend
        self.admin = admin
        create, self._drop, driver, port = SERVERS[backend]
        self._create = create
        self.port = port
        # The app connects over TCP, as in production.
        self.url = f"{driver}://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:{port}/{TEST_DATABASE}"

    def recreate(self) -> None:
        """Give the test an empty database."""
        self._create(self.admin)

    def drop(self) -> None:
        self._drop(self.admin)
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
    """The URL of an empty database on the test's backend, owned by the test user."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    server = _server(servers, backend)
    server.recreate()
    return server.url


@pytest.fixture
def server(backend, servers) -> Server:
    """The real server of the test's backend (not for sqlite)."""
    if backend == "sqlite":
        pytest.skip("needs a database server")
    return _server(servers, backend)


@pytest.fixture
def site(make_app, tmp_path):
    """A testing app on a migrated SQLite file: for tests where the backend does not matter."""
    from tests.factories import upgrade

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.sqlite'}")
    upgrade(app)
    return app


@pytest.fixture
def migrated_app(db_app):
    """``db_app`` (each backend) with the schema at the migration head."""
    from tests.factories import upgrade

    upgrade(db_app)
    return db_app


@pytest.fixture
def db_app(make_app, database_url):
    """A testing app on an empty database of the test's backend."""
    from mypack.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=database_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
