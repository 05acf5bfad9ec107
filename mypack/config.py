"""Configuration classes and the one place where settings are loaded.

A configuration is chosen by name (``development``, ``testing``, ``production``,
``postgres``, ``mysql``) and then filled in layers, each overriding the one before:

1. the class defaults below;
2. ``<instance>/config.py``;
3. ``<instance>/secret_key`` (the ``SECRET_KEY``);
4. ``MYPACK_*`` environment variables (values parsed as JSON, else kept as text);
5. keyword ``overrides`` given to :func:`mypack.create_app`.

Settings derived from others (the database URL from ``DB_*``, the engine options, the
log directory) are computed after all layers, so a ``DB_HOST`` from the environment
reaches the URL. Every value remembers the layer it came from, which is what
``mypack config`` prints. Class bodies hold constants only: nothing here reads
``os.environ`` at import time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from flask import Config as FlaskConfig

from mypack import instance
from mypack.exceptions import ConfigError

ENV_PREFIX = "MYPACK"
#: Words that make a setting's value a secret: masked by ``mypack config``, flagged
#: by ``mypack check --deploy`` in a readable config.py.
SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN", "PRIVATE")


def is_secret_setting(name: str) -> bool:
    """Whether a setting's value is a secret (SECRET_KEY, DB_PASSWORD, ...)."""
    return any(word in name for word in SECRET_WORDS)


class Config:
    """Defaults shared by every configuration.

    Every upper-case attribute is a setting; ``instance/config.example.py`` and the
    README's configuration reference document each one.
    """

    # Lower-case attributes describe the class; they are not settings.
    #: The name that selects this class (also the CONFIG setting once chosen).
    name: ClassVar[str] = "base"
    #: A production configuration: stricter validation.
    production: ClassVar[bool] = False
    #: When the instance folder is missing: "create" it, "require" it, or "ignore" it.
    instance_folder: ClassVar[str] = "require"
    #: Write a new ``instance/secret_key`` when no secret key is configured.
    auto_secret_key: ClassVar[bool] = False

    DEBUG = False
    TESTING = False
    SECRET_KEY: str | bytes | None = None
    SECRET_KEY_FALLBACKS: list[str] = []
    MAX_CONTENT_LENGTH = 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Seconds a permanent session lasts (Flask converts the number to a timedelta);
    # 12 h is the longest `mypack check --deploy` accepts.
    PERMANENT_SESSION_LIFETIME = 12 * 60 * 60
    # Host names the site answers to (Flask >= 3.1); other Host headers get 400.
    # None accepts any host, which `mypack check --deploy` refuses.
    TRUSTED_HOSTS: list[str] | None = None

    #: Warning ids `mypack check` keeps quiet about, e.g. ["mypack.W052"].
    SILENCED_CHECKS: list[str] = []

    # Database. A full SQLALCHEMY_DATABASE_URI wins over the DB_* parts.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    ALLOW_SQLITE_IN_PRODUCTION = False
    DB_DRIVER: str | None = None
    DB_HOST = "127.0.0.1"
    DB_PORT: int | None = None
    DB_NAME = "mypack"
    DB_USER = "mypack"
    DB_PASSWORD = ""
    # A pool is per process: size it for the threads of one process (mod_wsgi
    # threads=5, gunicorn gthread threads) so no thread waits for a connection.
    DB_POOL_SIZE = 5
    DB_MAX_OVERFLOW = 2
    DB_POOL_TIMEOUT = 10
    # MySQL drops idle connections after wait_timeout (8 h by default); recycle well
    # before that.
    DB_POOL_RECYCLE = 3600
    DB_CONNECT_TIMEOUT = 5
    # Seconds a statement may run: below the servers' request timeouts, so a slow
    # query ends as a clean error rather than a killed worker.
    DB_STATEMENT_TIMEOUT = 15
    # Seconds a statement waits for a lock (a locked table, a row another transaction
    # holds): mypack's own transactions hold theirs for milliseconds, so a longer wait
    # means something is stuck, and the request is answered 503 instead of holding a
    # server thread (and /healthz behind it) for the whole statement timeout. Above
    # PostgreSQL's deadlock_timeout (1 s): a deadlock is detected, and run again
    # (database.commit_retrying_deadlocks), before the wait ends.
    DB_LOCK_TIMEOUT = 2
    DB_MYSQL_SQL_MODE = "TRADITIONAL"

    # Logging (see mypack/logs.py). LOG_DIR None means <instance>/logs; "" disables
    # the file.
    LOG_DIR: str | None = None
    LOG_LEVEL = "INFO"
    LOG_MAX_BYTES = 10 * 1024 * 1024
    LOG_BACKUP_COUNT = 10
    LOG_FORMAT = "text"
    LOG_TO_STDERR = False
    LOG_REQUESTS = True
    #: Lines below WARNING reach the file at most this many seconds after they were
    #: logged (sooner when 64 KiB wait, at once before a warning or error, and when
    #: the process exits); 0 writes each at once (mypack/logs.py: BatchWriter).
    LOG_FLUSH_SECONDS = 1.0

    # Anonymous reads of the public menu (GET /api/v1/items) come from a cache
    # (Flask-Caching; mypack/menu/cache.py). "SimpleCache" is per process, so a change
    # reaches the other processes within CACHE_DEFAULT_TIMEOUT seconds; "RedisCache"
    # (with CACHE_REDIS_URL) is shared; "NullCache" turns it off.
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 10
    #: Answers kept per process (one per distinct query string).
    CACHE_THRESHOLD = 200
    CACHE_KEY_PREFIX = "mypack:"

    #: Seconds /readyz waits for the database before answering 503.
    READYZ_TIMEOUT = 2.0

    # Response hardening (mypack/security.py).
    #: Strict-Transport-Security max-age; 0 sends no HSTS header (production: 1 year).
    HSTS_SECONDS = 0
    HSTS_INCLUDE_SUBDOMAINS = True
    CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                               "base-uri 'self'; form-action 'self'")
    REFERRER_POLICY = "strict-origin-when-cross-origin"
    #: Redirect plain-HTTP page requests to HTTPS (the API refuses them instead).
    FORCE_HTTPS = False
    # Behind a reverse proxy: how many proxies set each X-Forwarded-* header
    # (Werkzeug's ProxyFix); 0 trusts none of them.
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0

    # Accounts (mypack/auth). Password hashes meet OWASP ASVS 5.0: pbkdf2-sha256 with
    # 600,000 iterations (scrypt at N=2^17 would need 128 MiB per login per thread).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:600000"
    PASSWORD_MIN_LENGTH = 8
    #: Failed logins for one email within LOCKOUT_WINDOW seconds that lock it for
    #: LOCKOUT_DURATION seconds (kept in the database: holds across processes).
    LOCKOUT_THRESHOLD = 5
    LOCKOUT_WINDOW = 15 * 60
    LOCKOUT_DURATION = 15 * 60
    #: Per-client limit on login and registration attempts (Flask-Limiter syntax).
    AUTH_RATE_LIMIT = "10 per minute"
    #: Password reset by mail: how long a link works (seconds), how many reset
    #: requests one client may post, and how many mails one address gets per hour.
    PASSWORD_RESET_SECONDS = 60 * 60
    PASSWORD_RESET_RATE_LIMIT = "10 per hour"
    PASSWORD_RESET_MAILS_PER_HOUR = 3
    #: Email confirmation (and change) by mail: how long a link works (seconds), how
    #: many "send again" and change requests one client may post, and how many links
    #: one address gets per hour.
    EMAIL_CONFIRMATION_SECONDS = 3 * 24 * 60 * 60
    EMAIL_CONFIRMATION_RATE_LIMIT = "10 per hour"
    EMAIL_CONFIRMATION_MAILS_PER_HOUR = 3
    #: Where the per-client counters live: "memory://" for one process, a shared
    #: store such as "redis://127.0.0.1:6379" when several processes serve.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    #: While that store is down (Redis stopped), count per process instead of failing
    #: every login: Flask-Limiter's fallback, with one WARNING when it goes down and
    #: one INFO when it is back. The lockout in the database holds either way.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    #: Flask-Login: "basic" marks a session non-fresh when the client changes.
    SESSION_PROTECTION = "basic"
    #: Seconds without a request after which a login ends; 0 for none.
    SESSION_IDLE_TIMEOUT = 30 * 60
    REMEMBER_COOKIE_DURATION = 30 * 24 * 60 * 60
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = True

    # The site as mail links name it: absolute URLs in mail are built from this, never
    # from a request's Host header (a worker has no request; the Host is the client's).
    SITE_URL = "http://127.0.0.1:5000"
    SITE_NAME = "mypack café"

    # Background jobs (mypack/jobs.py): Celery reads every CELERY_* setting, named as
    # Celery's own setting in capitals (CELERY_BROKER_URL is broker_url).
    CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
    CELERY_RESULT_BACKEND: str | None = None  # mypack reads no task results
    CELERY_TASK_IGNORE_RESULT = True
    # The queue of mypack's jobs: give each deployment its own where sites share a broker.
    CELERY_TASK_DEFAULT_QUEUE = "mypack"
    # Run every job in the calling process at once: development and tests, no broker.
    CELERY_TASK_ALWAYS_EAGER = False
    # A task leaves the queue once it has run, and one whose worker died (SIGKILL, OOM)
    # goes back to the queue: tasks are written to be safe to run twice.
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    CELERY_TASK_TIME_LIMIT = 120
    CELERY_TASK_SOFT_TIME_LIMIT = 100
    CELERY_BROKER_CONNECTION_TIMEOUT = 2
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    # mypack's logging (the rotating file, the escaped format) stays as create_app set it.
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False
    # Where `mypack beat` keeps its schedule's state; None: <instance>/celerybeat-schedule.
    CELERY_BEAT_SCHEDULE_FILENAME: str | None = None

    # The outbox (mypack/outbox/): mail written with the change that causes it.
    # Who hands committed rows to the broker: "sweep", beat's sweep every
    # OUTBOX_SWEEP_SECONDS, so web processes never talk to the broker nor load Celery;
    # or "commit", a thread of the process that committed them, at once, which costs an
    # API order a fifth to a third of its throughput (README, Performance). Where jobs
    # run in-process (development, tests), rows are handed over at commit.
    OUTBOX_HAND_OVER = "sweep"
    OUTBOX_SWEEP_SECONDS = 2  # how often the sweep hands rows over; 0: never
    # ... once this old (their own process had its chance; no wait with "sweep").
    OUTBOX_SWEEP_GRACE_SECONDS = 30
    # A claim older than this belongs to a task that died: above CELERY_TASK_TIME_LIMIT.
    OUTBOX_CLAIM_SECONDS = 180
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_RETRY_SECONDS = 30  # the first pause after a mail server failed; doubled each try
    # The longest pause: below RabbitMQ's consumer_timeout (30 min), which closes the
    # channel of a worker holding an unacknowledged (delayed) task longer.
    OUTBOX_RETRY_MAX_SECONDS = 900

    # Periodic jobs (mypack/periodic/), sent by `mypack beat`; times are UTC.
    PRUNE_SECONDS = 3600  # how often spent throttles, old tokens and outbox rows go; 0: never
    TOKEN_KEEP_DAYS = 7  # API tokens expired or revoked longer ago are deleted
    OUTBOX_KEEP_DAYS = 30  # outbox rows sent or given up on longer ago are deleted
    READY_REMINDER_MINUTES = 30  # an order ready this long and not collected: one reminder
    READY_REMINDER_CHECK_SECONDS = 300  # how often to look for them; 0: never
    DAILY_SUMMARY_HOUR: int | None = 6  # yesterday's numbers to staff at this hour; None: off
    WEEKLY_DIGEST_HOUR: int | None = 6  # last week's to admins, Mondays at this hour; None: off

    # Mail (Flask-Mailman, mypack/mail.py).
    MAIL_BACKEND = "smtp"  # "console" or "file" (MAIL_FILE_PATH) to look at; "locmem" in tests
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS
    MAIL_USE_SSL = False  # SMTP over TLS (port 465)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_TIMEOUT = 10
    MAIL_DEFAULT_SENDER = "mypack café <noreply@localhost>"
    MAIL_REPLY_TO: str | None = None
    MAIL_FILE_PATH: str | None = None

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Return the class's settings as a fresh dict (lists and dicts copied)."""
        values = {}
        for name in dir(cls):
            if name.isupper():
                value = getattr(cls, name)
                values[name] = value.copy() if isinstance(value, (list, dict)) else value
        return values

    @classmethod
    def default_database_uri(cls, values: Mapping[str, Any], instance_path: Path) -> str | None:
        """The database URL to use when SQLALCHEMY_DATABASE_URI is not given."""
        return None


class DevelopmentConfig(Config):
    """Local development: debug on, SQLite file in the instance folder."""

    name = "development"
    instance_folder = "create"
    auto_secret_key = True
    DEBUG = True
    LOG_TO_STDERR = True
    # No broker and no mail server: jobs run in-process, mail is printed.
    CELERY_TASK_ALWAYS_EAGER = True
    MAIL_BACKEND = "console"

    @classmethod
    def default_database_uri(cls, values, instance_path):
        return f"sqlite:///{instance_path / 'mypack.sqlite'}"


class TestingConfig(Config):
    """The test suite: in-memory SQLite unless a test says otherwise, no log file."""

    name = "testing"
    instance_folder = "ignore"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    LOG_DIR = ""
    # Fast hashing keeps the suite quick; tests of the real cost set it back.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Tests read what they just wrote, often behind the services' backs; the cache's
    # own tests turn it on, and so do the log batching's.
    CACHE_TYPE = "NullCache"
    LOG_FLUSH_SECONDS = 0
    # Jobs in-process, mail kept in memory (flask_mailman's outbox); the tests of the
    # real worker and mail server set these back.
    CELERY_TASK_ALWAYS_EAGER = True
    MAIL_BACKEND = "locmem"


class ProductionConfig(Config):
    """Production with any database: SQLALCHEMY_DATABASE_URI, or DB_DRIVER and DB_*."""

    name = "production"
    production = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS_SECONDS = 365 * 24 * 60 * 60
    FORCE_HTTPS = True

    @classmethod
    def default_database_uri(cls, values, instance_path):
        return database_url_from_parts(values) if values.get("DB_DRIVER") else None


class PostgresConfig(ProductionConfig):
    """Production on PostgreSQL through psycopg2; the URL is built from DB_*."""

    name = "postgres"
    DB_DRIVER = "postgresql+psycopg2"
    DB_PORT = 5432


class MySQLConfig(ProductionConfig):
    """Production on MySQL or MariaDB through mysqlclient; the URL is built from DB_*."""

    name = "mysql"
    DB_DRIVER = "mysql+mysqldb"
    DB_PORT = 3306


CONFIGS: dict[str, type[Config]] = {
    cls.name: cls
    for cls in (DevelopmentConfig, TestingConfig, ProductionConfig, PostgresConfig, MySQLConfig)
}


#: The drivers mypack installs, used when a URL names only the backend.
DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg2", "postgres": "postgresql+psycopg2",
                   "mysql": "mysql+mysqldb", "mariadb": "mysql+mysqldb"}


def with_shipped_driver(uri: str) -> str:
    """The URL with mypack's driver when it names only the backend.

    A bare ``postgresql://`` means psycopg2, which mypack installs, whatever
    SQLAlchemy's own default is (2.1 switched it to psycopg 3).

    :raise ConfigError: the value is not a database URL.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(uri)
    except ArgumentError:
        raise ConfigError("SQLALCHEMY_DATABASE_URI is not a database URL") from None
    if url.drivername not in DEFAULT_DRIVERS:
        return uri
    return url.set(drivername=DEFAULT_DRIVERS[url.drivername]).render_as_string(hide_password=False)


def database_url_from_parts(values: Mapping[str, Any]) -> str:
    """Build a SQLAlchemy URL from DB_DRIVER, DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD."""
    from sqlalchemy.engine import URL

    return URL.create(
        values["DB_DRIVER"],
        username=str(values["DB_USER"]) or None,
        password=str(values["DB_PASSWORD"]) or None,
        host=str(values["DB_HOST"]) or None,
        port=int(values["DB_PORT"]) if values["DB_PORT"] else None,
        database=str(values["DB_NAME"]),
    ).render_as_string(hide_password=False)


def engine_options(values: Mapping[str, Any]) -> dict[str, Any]:
    """Engine options for the configured database's backend.

    ``SQLALCHEMY_ENGINE_OPTIONS`` from any layer is merged over these (its
    ``connect_args`` key by key), so each option can be overridden.
    """
    from sqlalchemy.engine import make_url

    backend = make_url(values["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    timeout = int(values["DB_CONNECT_TIMEOUT"])
    # pre-ping replaces connections the server closed (restarts, idle kills).
    options: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "sqlite":
        # sqlite3's timeout is how long a writer waits for a lock, not a connect timeout.
        options["connect_args"] = {"timeout": timeout}
    else:
        options.update(
            pool_size=int(values["DB_POOL_SIZE"]),
            max_overflow=int(values["DB_MAX_OVERFLOW"]),
            pool_timeout=int(values["DB_POOL_TIMEOUT"]),
            pool_recycle=int(values["DB_POOL_RECYCLE"]),
        )
    statement_seconds = int(values["DB_STATEMENT_TIMEOUT"])
    lock_seconds = int(values["DB_LOCK_TIMEOUT"])
    if backend == "postgresql":
        options["connect_args"] = {
            "connect_timeout": timeout,
            "options": f"-c statement_timeout={statement_seconds * 1000} "
                       f"-c lock_timeout={lock_seconds * 1000}",
            "application_name": "mypack",
        }
    elif backend == "mysql":
        options["connect_args"] = {
            "connect_timeout": timeout,
            "charset": "utf8mb4",
            # Strict mode turns silent truncation and bad dates into errors. Row locks
            # (InnoDB) and table locks (metadata) have a wait limit each.
            "init_command": f"SET SESSION sql_mode='{values['DB_MYSQL_SQL_MODE']}', "
                            f"innodb_lock_wait_timeout={lock_seconds}, "
                            f"lock_wait_timeout={lock_seconds}",
            # MySQL and MariaDB name their statement limits differently; a client-side
            # read timeout bounds a slow statement on both.
            "read_timeout": statement_seconds,
            "write_timeout": statement_seconds,
        }
    given = dict(values.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = {**options.get("connect_args", {}), **given.pop("connect_args", {})}
    options.update(given)
    if connect_args:
        options["connect_args"] = connect_args
    return options


@dataclass
class Settings:
    """The loaded configuration: the class, the values and where each came from."""

    config_class: type[Config]
    instance_path: Path
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def set(self, layer: str, mapping: Mapping[str, Any]) -> None:
        """Apply one layer of settings, remembering it as their source."""
        for key, value in mapping.items():
            if key.isupper():
                self.values[key] = value
                self.sources[key] = layer

    def problems(self) -> list[str]:
        """Every reason this configuration must not start, as readable sentences."""
        return config_problems(self)

    def findings(self) -> list[tuple[str, str]]:
        """The same problems as ``(check id, sentence)`` pairs, for ``mypack check``."""
        return config_findings(self)


def select_config(config_name: str | None, instance_values: Mapping[str, Any],
                  environ: Mapping[str, str]) -> type[Config]:
    """Choose the class: argument, MYPACK_CONFIG, the instance CONFIG, else development."""
    name = config_name or _chosen_name(instance_values, environ)
    name = (name or "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"unknown configuration {name!r}; valid names are: {', '.join(CONFIGS)}"
        ) from None


def _chosen_name(instance_values: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    return environ.get(f"{ENV_PREFIX}_CONFIG") or instance_values.get("CONFIG")


def configured_name(instance_path: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """The configuration a deployment chose (MYPACK_CONFIG, else its CONFIG), or None."""
    environ = os.environ if environ is None else environ
    exists = instance.check_instance_folder(instance_path)
    return _chosen_name(read_instance_config(instance_path) if exists else {}, environ)


def read_instance_config(instance_path: Path) -> dict[str, Any]:
    """Load ``<instance>/config.py`` if it exists, as a dict of its upper-case names."""
    path = instance_path / "config.py"
    if not path.is_file():
        return {}
    config = FlaskConfig(str(instance_path))
    try:
        config.from_pyfile(str(path))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except Exception as exc:
        # A syntax or name error in an operator's file: say where, without a traceback.
        raise ConfigError(f"error in {path}: {type(exc).__name__}: {exc}") from None
    return dict(config)


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``MYPACK_*`` variables without their prefix, values parsed as JSON if they can be.

    ``MYPACK_LOG_TO_STDERR=true`` gives True and ``MYPACK_DB_PORT=5433`` an int, as
    Flask's ``from_prefixed_env`` does; anything else stays text.
    """
    values: dict[str, Any] = {}
    for key in sorted(environ):
        # MYPACK_INSTANCE chooses the folder; it is not a setting.
        if key.startswith(f"{ENV_PREFIX}_") and key != f"{ENV_PREFIX}_INSTANCE":
            try:
                values[key[len(ENV_PREFIX) + 1:]] = json.loads(environ[key])
            except ValueError:
                values[key[len(ENV_PREFIX) + 1:]] = environ[key]
    return values


def load_settings(config_name: str | None = None, instance_path: str | os.PathLike | None = None,
                  overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Load the configuration in the documented order; raise ConfigError if unusable.

    :raise ConfigError: unknown name, unreadable instance folder or config file.
    Validation (weak secret, DEBUG in production ...) is separate: see
    :func:`config_problems`, which :func:`mypack.create_app` enforces.
    """
    environ = os.environ if environ is None else environ
    path = instance.resolve_instance_path(instance_path, environ)
    exists = instance.check_instance_folder(path)
    instance_values = read_instance_config(path) if exists else {}
    env_values = read_environment(environ)
    cls = select_config(config_name, instance_values, environ)
    if not exists:
        if cls.instance_folder == "require":
            raise ConfigError(
                f"instance folder {path} does not exist; create it with: "
                f"mypack --instance {path} init"
            )
        if cls.instance_folder == "create":
            instance.create_instance_folder(path)

    settings = Settings(cls, path)
    settings.set(f"{cls.__name__} default", cls.defaults())
    settings.set(str(path / "config.py"), instance_values)
    key = instance.read_secret_key(path)
    if key is None and cls.auto_secret_key and not (
        settings.values.get("SECRET_KEY") or env_values.get("SECRET_KEY")
        or (overrides or {}).get("SECRET_KEY")
    ):
        instance.write_secret_key(path)
        key = instance.read_secret_key(path)
    if key is not None:
        settings.set(str(instance.secret_key_path(path)), {"SECRET_KEY": key})
    settings.set("environment (MYPACK_*)", env_values)
    settings.set("create_app overrides", dict(overrides or {}))
    settings.values["CONFIG"] = cls.name
    settings.sources["CONFIG"] = _selection_source(config_name, instance_values, environ, path)
    _derive(settings)
    return settings


def _selection_source(config_name, instance_values, environ, path) -> str:
    if config_name:
        return "create_app argument"
    if environ.get(f"{ENV_PREFIX}_CONFIG"):
        return "environment (MYPACK_*)"
    if instance_values.get("CONFIG"):
        return str(path / "config.py")
    return "default"


def _derive(settings: Settings) -> None:
    """Compute the settings that depend on others, after every layer is in."""
    values, cls = settings.values, settings.config_class
    derived = {}
    if not values.get("SQLALCHEMY_DATABASE_URI"):
        uri = cls.default_database_uri(values, settings.instance_path)
        if uri:
            derived["SQLALCHEMY_DATABASE_URI"] = uri
    if values.get("LOG_DIR") is None:
        derived["LOG_DIR"] = str(settings.instance_path / "logs")
    settings.set("derived", derived)
    if values.get("SQLALCHEMY_DATABASE_URI"):
        values["SQLALCHEMY_DATABASE_URI"] = with_shipped_driver(values["SQLALCHEMY_DATABASE_URI"])
        source = settings.sources.get("SQLALCHEMY_ENGINE_OPTIONS", "")
        settings.values["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(values)
        settings.sources["SQLALCHEMY_ENGINE_OPTIONS"] = (
            "derived from DB_* settings"
            + ("" if source.endswith(" default") else f", merged with {source}")
        )


def config_problems(settings: Settings) -> list[str]:
    """Every reason the loaded configuration must not start, as readable sentences."""
    return [message for _, message in config_findings(settings)]


def config_findings(settings: Settings) -> list[tuple[str, str]]:
    """Every reason the loaded configuration must not start, as (check id, sentence) pairs.

    The ids are the ones ``mypack check`` prints and the README lists.
    """
    values, cls = settings.values, settings.config_class
    problems = []
    if values.get("LOG_FORMAT") not in ("text", "json"):
        problems.append(("mypack.E031", f"LOG_FORMAT must be 'text' or 'json', "
                                        f"not {values.get('LOG_FORMAT')!r}"))
    if str(values.get("LOG_LEVEL", "")).upper() not in (
        "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"
    ):
        problems.append(("mypack.E032",
                         f"LOG_LEVEL {values.get('LOG_LEVEL')!r} is not a logging level"))
    flush = values.get("LOG_FLUSH_SECONDS")
    if isinstance(flush, bool) or not isinstance(flush, int | float) or not 0 <= flush <= 60:
        problems.append(("mypack.E033", f"LOG_FLUSH_SECONDS must be a number of seconds "
                                        f"from 0 to 60, not {flush!r}"))
    if not values.get("SQLALCHEMY_DATABASE_URI"):
        problems.append(("mypack.E023", (
            "no database configured: set SQLALCHEMY_DATABASE_URI, or choose the "
            "'postgres' or 'mysql' configuration and set DB_HOST, DB_NAME, DB_USER, DB_PASSWORD"
        )))
    if not cls.production:
        return problems
    if values.get("DEBUG"):
        problems.append(("mypack.E010", "DEBUG must be off in production"))
    uri = str(values.get("SQLALCHEMY_DATABASE_URI") or "")
    if uri.startswith("sqlite") and not values.get("ALLOW_SQLITE_IN_PRODUCTION"):
        problems.append(("mypack.E024", (
            "SQLite is not a production database; use 'postgres' or 'mysql', "
            "or set ALLOW_SQLITE_IN_PRODUCTION = True"
        )))
    problems.extend(instance.secret_key_problems(values, settings.instance_path))
    return problems
