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
# DB_LOCK_TIMEOUT = 2             # seconds a statement waits for a lock, then 503
#                                 # (PostgreSQL lock_timeout, MySQL innodb_lock_wait_timeout
#                                 # and lock_wait_timeout)
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
# LOG_FLUSH_SECONDS = 1.0         # lines below WARNING written within this many seconds

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

# --- Public menu cache ------------------------------------------------------------
# Anonymous GET /api/v1/items answers are kept CACHE_DEFAULT_TIMEOUT seconds. A change
# made through mypack empties the cache of the process that made it at once; other
# processes show it within those seconds. "RedisCache" (with CACHE_REDIS_URL =
# "redis://127.0.0.1:6379/1", pip install redis) is shared by every process and
# emptied for all; "NullCache" turns the cache off.
# CACHE_TYPE = "SimpleCache"
# CACHE_DEFAULT_TIMEOUT = 10
# CACHE_THRESHOLD = 200           # answers a SimpleCache keeps per process
# CACHE_KEY_PREFIX = "mypack:"    # prefix of the keys in a shared store

# --- HTTPS, proxies and security headers ----------------------------------------
# Plain-HTTP page requests are redirected to HTTPS (301; 308 for POST and the like);
# the API refuses plain HTTP with 403; /healthz and /readyz answer over either.
# FORCE_HTTPS = False             # True in production
# Strict-Transport-Security, sent on HTTPS responses: browsers use only HTTPS for
# this site for that many seconds. 0 sends none; production: 31536000 (a year, the
# least `mypack check --deploy` accepts).
# HSTS_SECONDS = 0
# HSTS_INCLUDE_SUBDOMAINS = True  # ... and for its subdomains
# Sent with every response; "" sends none. Keep object-src 'none' (check --deploy).
# CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
#                            "base-uri 'self'; form-action 'self'")
# REFERRER_POLICY = "strict-origin-when-cross-origin"
# Behind reverse proxies (Werkzeug's ProxyFix): how many proxies in front set each
# X-Forwarded-* header. 0 trusts none, right when clients reach this server directly;
# never more than there are proxies, or clients can forge the value.
# PROXY_FIX_X_FOR = 0             # the client's address (per-client rate limits)
# PROXY_FIX_X_PROTO = 0           # http or https (FORCE_HTTPS, HSTS)
# PROXY_FIX_X_HOST = 0            # the Host asked for (checked against TRUSTED_HOSTS)
# PROXY_FIX_X_PORT = 0
# PROXY_FIX_X_PREFIX = 0          # the path the site is mounted under

# --- mypack check ---------------------------------------------------------------
# Warning ids `mypack check` does not report, e.g. ["mypack.W052"] (also
# `mypack check --silence ID`). Errors cannot be silenced. The README lists every id.
# SILENCED_CHECKS = []

# --- Accounts ---------------------------------------------------------------------
# Password hashes: pbkdf2-sha256, 600,000 iterations (OWASP ASVS 5.0). Hashes made
# with other parameters are upgraded at the user's next login.
# PASSWORD_HASH_METHOD = "pbkdf2:sha256:600000"
# PASSWORD_MIN_LENGTH = 8         # common passwords are refused as well
# Per-email lockout, kept in the database so it holds across processes and nodes:
# LOCKOUT_THRESHOLD failures within LOCKOUT_WINDOW seconds lock the email for
# LOCKOUT_DURATION seconds (the right password included; `mypack user unlock`).
# LOCKOUT_THRESHOLD = 5
# LOCKOUT_WINDOW = 900
# LOCKOUT_DURATION = 900
# Per-client limit on login and registration posts (Flask-Limiter syntax).
# AUTH_RATE_LIMIT = "10 per minute"
# Password reset by mail ("Forgot your password?"): a link works once, for
# PASSWORD_RESET_SECONDS; one client may ask PASSWORD_RESET_RATE_LIMIT times (setting
# the new password counts against AUTH_RATE_LIMIT), and one address is mailed at
# most PASSWORD_RESET_MAILS_PER_HOUR links an hour, whoever asks.
# PASSWORD_RESET_SECONDS = 3600
# PASSWORD_RESET_RATE_LIMIT = "10 per hour"
# PASSWORD_RESET_MAILS_PER_HOUR = 3
# Email confirmation: a new account is mailed a link and may order once it is used;
# a changed address replaces the old one only when the link mailed to it is used. A
# link works for EMAIL_CONFIRMATION_SECONDS (3 days); one client may ask for another
# link, or a change, EMAIL_CONFIRMATION_RATE_LIMIT times, and one address is mailed
# at most EMAIL_CONFIRMATION_MAILS_PER_HOUR links an hour.
# EMAIL_CONFIRMATION_SECONDS = 259200
# EMAIL_CONFIRMATION_RATE_LIMIT = "10 per hour"
# EMAIL_CONFIRMATION_MAILS_PER_HOUR = 3
# Where those counters live: "memory://" counts per process; with several processes
# (mod_wsgi daemons, gunicorn workers, nodes) use a shared store such as
# "redis://127.0.0.1:6379" (pip install redis).
# RATELIMIT_STORAGE_URI = "memory://"
# RATELIMIT_HEADERS_ENABLED = True
# RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # store down: count per process meanwhile
# A limit on every view besides, e.g. "600 per minute"; unset, only the login and
# registration forms are limited and no other request pays for a limit check.
# RATELIMIT_DEFAULT = None
# SESSION_PROTECTION = "basic"    # Flask-Login: "basic", "strong" or None
# SESSION_IDLE_TIMEOUT = 1800     # seconds idle before a login ends; 0 for never
# REMEMBER_COOKIE_DURATION = 2592000  # "remember me": 30 days at most
# REMEMBER_COOKIE_HTTPONLY = True
# REMEMBER_COOKIE_SAMESITE = "Lax"
# REMEMBER_COOKIE_SECURE = False  # True in production (HTTPS only)
# WTF_CSRF_ENABLED = True         # CSRF tokens on every form

# --- The site, as mail names it ----------------------------------------------------
# Links in mail are absolute and built from SITE_URL, never from a request's Host
# header. `mypack check --deploy` wants the public https:// address.
# SITE_URL = "http://127.0.0.1:5000"
# SITE_NAME = "mypack café"

# --- Background jobs (Celery) -------------------------------------------------------
# Every CELERY_* setting is Celery's own (CELERY_BROKER_URL is broker_url). Production
# hands jobs to RabbitMQ ("amqp://user:password@host:5672/vhost") or Redis
# ("redis://host:6379/1") and runs them in `mypack worker`; development and the tests
# run them in-process (CELERY_TASK_ALWAYS_EAGER = True) and need no broker.
# CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
# CELERY_RESULT_BACKEND = None    # mypack reads no task results
# CELERY_TASK_IGNORE_RESULT = True
# CELERY_TASK_DEFAULT_QUEUE = "mypack"  # one per deployment where sites share a broker
# CELERY_TASK_ALWAYS_EAGER = False  # True in development and testing
# A task leaves the queue once it has run; one whose worker died runs again elsewhere.
# CELERY_TASK_ACKS_LATE = True
# CELERY_TASK_REJECT_ON_WORKER_LOST = True
# CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# CELERY_TASK_TIME_LIMIT = 120    # seconds; the task is killed after this
# CELERY_TASK_SOFT_TIME_LIMIT = 100
# CELERY_BROKER_CONNECTION_TIMEOUT = 2
# CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep mypack's log file and format
# CELERY_BEAT_SCHEDULE_FILENAME = None  # `mypack beat` state: <instance>/celerybeat-schedule

# --- The outbox ---------------------------------------------------------------------
# Mail is written in the same transaction as the change that causes it, and handed to
# the workers after the commit; rows never handed over (the broker was down) are
# handed over by the sweep, a periodic job of `mypack beat`.
# Who hands committed mail to the broker: "sweep" (beat's sweep, every
# OUTBOX_SWEEP_SECONDS: web processes never talk to the broker nor load Celery) or
# "commit" (a thread of the web process, at once: mail leaves sooner, and an API order
# costs a fifth to a third more; README, Performance).
# OUTBOX_HAND_OVER = "sweep"
# OUTBOX_SWEEP_SECONDS = 2        # 0 turns the sweep off (only with "commit")
# OUTBOX_SWEEP_GRACE_SECONDS = 30
# OUTBOX_CLAIM_SECONDS = 180      # above CELERY_TASK_TIME_LIMIT
# OUTBOX_MAX_ATTEMPTS = 8         # tries of a mail server that fails, then given up
# OUTBOX_RETRY_SECONDS = 30       # first pause between tries, doubled each time
# OUTBOX_RETRY_MAX_SECONDS = 900  # keep below RabbitMQ's consumer_timeout (30 min)

# --- Periodic jobs (sent by `mypack beat`; hours in UTC) ----------------------------
# Each runs once per period, however many schedulers were started by mistake.
# PRUNE_SECONDS = 3600            # delete spent login throttles, old tokens and outbox rows
# TOKEN_KEEP_DAYS = 7             # API tokens expired or revoked longer ago are deleted
# OUTBOX_KEEP_DAYS = 30           # outbox rows sent or given up on longer ago are deleted
# READY_REMINDER_MINUTES = 30     # ready this long and not collected: one reminder mail
# READY_REMINDER_CHECK_SECONDS = 300  # 0 turns reminders off
# DAILY_SUMMARY_HOUR = 6          # yesterday's numbers to staff; None turns it off
# WEEKLY_DIGEST_HOUR = 6          # last week's to admins, on Mondays; None turns it off

# --- Mail (Flask-Mailman) -----------------------------------------------------------
# MAIL_BACKEND = "smtp"           # "console" in development; "file" with MAIL_FILE_PATH
# MAIL_SERVER = "localhost"
# MAIL_PORT = 25
# MAIL_USE_TLS = False            # STARTTLS (port 587)
# MAIL_USE_SSL = False            # SMTP over TLS (port 465)
# MAIL_USERNAME = None
# MAIL_PASSWORD = None
# MAIL_TIMEOUT = 10               # seconds per SMTP operation
# MAIL_DEFAULT_SENDER = "mypack café <noreply@localhost>"
# MAIL_REPLY_TO = None
# MAIL_FILE_PATH = None
