# mypack instance configuration.
#
# `mypack init` copies this file to <instance>/config.py. It is plain Python: every
# UPPER_CASE name set here overrides the class default. Settings are applied in this
# order, each layer winning over the one before:
#
#   class defaults -> instance/config.py -> instance/secret_key
#   -> MYPACK_* environment variables -> create_app(**overrides)
#
# Under Apache mod_wsgi, SetEnv never reaches the environment: configure such a
# deployment here. `mypack config` shows every effective value and where it came
# from; `mypack check` tells what is wrong.
#
# Every setting below is commented out and shows its default.

# --- Which configuration --------------------------------------------------------
# development | testing | production | postgres | mysql
# ("postgres" and "mysql" are production plus that backend's driver.)
# Also chosen by `mypack --config NAME` or the MYPACK_CONFIG environment variable.
# CONFIG = "development"

# --- Secrets --------------------------------------------------------------------
# Prefer the file <instance>/secret_key (written by `mypack init`, mode 0600) to
# setting the key here. Production refuses a key shorter than 50 characters, with
# fewer than 5 distinct characters, or a well-known default.
# SECRET_KEY = None
# Key rotation: put the previous key here when you replace secret_key; sessions
# signed with it stay valid until they expire. Remove it after a session lifetime.
# SECRET_KEY_FALLBACKS = []

# --- Database -------------------------------------------------------------------
# A full URL wins over the DB_* parts below. Development defaults to
# sqlite:///<instance>/mypack.sqlite; production requires this or the parts.
# SQLALCHEMY_DATABASE_URI = None
# The "postgres" and "mysql" configurations build the URL from these
# (also settable as MYPACK_DB_HOST, MYPACK_DB_PASSWORD, ...):
# DB_HOST = "127.0.0.1"
# DB_PORT = None                  # 5432 for postgres, 3306 for mysql
# DB_NAME = "mypack"
# DB_USER = "mypack"
# DB_PASSWORD = ""
# DB_DRIVER = None                # "postgresql+psycopg2" / "mysql+mysqldb" by class;
#                                 # with "production", setting it builds the URL too
#
# Connection pool, per process: size it for the threads of one process.
# DB_POOL_SIZE = 5
# DB_MAX_OVERFLOW = 2
# DB_POOL_TIMEOUT = 10            # seconds a thread waits for a free connection
# DB_POOL_RECYCLE = 3600          # seconds; keep below MySQL's wait_timeout
# DB_CONNECT_TIMEOUT = 5          # seconds to establish a connection
# DB_STATEMENT_TIMEOUT = 15       # seconds per statement (PostgreSQL statement_timeout,
#                                 # MySQL client read/write timeout)
# DB_MYSQL_SQL_MODE = "TRADITIONAL"  # strict mode: no silent truncation
#
# Extra SQLAlchemy engine options, merged over the ones computed from the settings
# above (connect_args key by key), e.g. {"pool_size": 10, "echo": False}.
# SQLALCHEMY_ENGINE_OPTIONS = {}
# SQLite in production is refused unless you say so.
# ALLOW_SQLITE_IN_PRODUCTION = False

# --- Logging --------------------------------------------------------------------
# Directory of mypack.log (rotated safely across processes). None means
# <instance>/logs; "" writes no file.
# LOG_DIR = None
# LOG_LEVEL = "INFO"              # DEBUG, INFO, WARNING, ERROR, CRITICAL
# LOG_MAX_BYTES = 10485760        # rotate at 10 MiB
# LOG_BACKUP_COUNT = 10           # rotated files kept: mypack.log.1 ... .10
# LOG_FORMAT = "text"             # "text" or "json" (one object per line)
# LOG_TO_STDERR = False           # True in development; the server's error log
# LOG_REQUESTS = True             # one INFO line per request

# --- Web ------------------------------------------------------------------------
# DEBUG = False                   # True in development; refused in production
# TESTING = False                 # True only in the testing configuration
# MAX_CONTENT_LENGTH = 1048576    # request bodies above this get 413
# SESSION_COOKIE_SECURE = False   # True in production (HTTPS only)
# SESSION_COOKIE_HTTPONLY = True
# SESSION_COOKIE_SAMESITE = "Lax"
# PERMANENT_SESSION_LIFETIME = 43200  # seconds a permanent session lasts (12 h, the
#                                 # most `mypack check --deploy` accepts)
# Host names this site answers to (Flask 3.1); a request for any other Host gets 400.
# None accepts every host, which `mypack check --deploy` refuses in production.
# TRUSTED_HOSTS = None            # e.g. ["cafe.example.com", "www.cafe.example.com"]
# READYZ_TIMEOUT = 2.0            # seconds /readyz waits for the database

# --- mypack check ---------------------------------------------------------------
# Warning ids `mypack check` does not report, e.g. ["mypack.W052"] (also
# `mypack check --silence ID`). Errors cannot be silenced. The README lists every id.
# SILENCED_CHECKS = []
