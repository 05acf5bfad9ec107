# mypack production configuration: an instance config.py for PostgreSQL.
#
# Install it into the deployment's instance folder, fill in the database and host
# names, and let `mypack check --deploy` confirm it:
#
#   mypack --instance /srv/mypack/instance init         # folder 0750, secret_key 0600
#   install -m 0640 /srv/mypack/venv/share/mypack/production.config.py \
#       /srv/mypack/instance/config.py
#   $EDITOR /srv/mypack/instance/config.py              # DB_*, TRUSTED_HOSTS, LOG_DIR
#   mypack --instance /srv/mypack/instance db upgrade
#   mypack --instance /srv/mypack/instance check --deploy \
#       --vhost /etc/apache2/sites-enabled/mypack.conf    # or --gunicorn-conf FILE
#
# No secret belongs in this file as shipped, nor in git. The secret key stays in
# <instance>/secret_key (written by `mypack init`, mode 0600; `check --deploy`
# refuses a key from anywhere else). The database password is written on the server
# only: below, in the installed copy (mode 0640, outside the package), or as
# MYPACK_DB_PASSWORD for gunicorn under systemd. Under Apache mod_wsgi, SetEnv never
# reaches mypack, so there it goes below.
#
# Every setting is explained in config.example.py and the README's reference; the
# ones left out keep their production defaults.

# "postgres" (psycopg2) or "mysql" (MySQL/MariaDB through mysqlclient).
CONFIG = "postgres"

# --- Database --------------------------------------------------------------------
# The URL is built from these. DB_HOST = "" connects through the local socket
# (PostgreSQL peer authentication: no password at all).
DB_HOST = "127.0.0.1"
# DB_PORT = 5432                  # the class default: 5432 postgres, 3306 mysql
DB_NAME = "mypack"
DB_USER = "mypack"
DB_PASSWORD = ""                  # set it in the installed copy only
# A pool per server process: match the threads of one process (mod_wsgi threads=5,
# gunicorn threads = 5). processes x (size + overflow) must stay below the server's
# max_connections.
DB_POOL_SIZE = 5
DB_MAX_OVERFLOW = 2
# A slow statement ends as a clean error before the server's own timeout kills the
# request (mod_wsgi request-timeout=60, gunicorn timeout = 30).
DB_STATEMENT_TIMEOUT = 15
# MySQL only: below the server's wait_timeout (`mypack check` compares them).
DB_POOL_RECYCLE = 3600

# --- Web -------------------------------------------------------------------------
# The names the site is reached by; a request for any other Host gets 400.
TRUSTED_HOSTS = ["cafe.example.com"]
# The session cookie: HTTPS only, hidden from scripts, not sent by other sites' forms.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A permanent session lasts at most 12 hours (seconds).
PERMANENT_SESSION_LIFETIME = 43200
# Request bodies above 1 MiB get 413.
MAX_CONTENT_LENGTH = 1048576

# --- HTTPS and proxies -----------------------------------------------------------
# Plain-HTTP page requests are redirected to HTTPS and the API refuses plain HTTP
# (/healthz and /readyz answer either way). Serve HTTPS: a *:443 vhost with mod_ssl,
# or a TLS-terminating proxy in front.
FORCE_HTTPS = True
# Browsers use only HTTPS for the site and its subdomains for a year (HSTS).
HSTS_SECONDS = 31536000
HSTS_INCLUDE_SUBDOMAINS = True
# How many reverse proxies in front set X-Forwarded-For / X-Forwarded-Proto.
# 0 when clients reach this server directly (Apache with mod_ssl); 1 behind one
# proxy such as nginx in front of gunicorn, which must then set both headers.
# Never more than there are: clients could forge their address and HTTPS.
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_PROTO = 0

# --- Logging ---------------------------------------------------------------------
# mypack.log, rotated by mypack itself (safe across processes). Create the folder for
# the service user: install -d -o mypack -g mypack -m 0750 /var/log/mypack
# (the systemd unit allows writing there). Leave LOG_DIR out to log to <instance>/logs.
LOG_DIR = "/var/log/mypack"
LOG_LEVEL = "INFO"
LOG_FORMAT = "text"               # "json" for a log collector
LOG_TO_STDERR = False             # True: also the Apache error log / the journal

# --- Accounts --------------------------------------------------------------------
# Per-client login limits count per process with memory:// (several daemons or
# workers each count alone); the per-email lockout in the database is the hard
# limit either way. With several processes or nodes, use a shared store, e.g.
# "redis://127.0.0.1:6379/0" (pip install redis), and drop mypack.W093 below.
RATELIMIT_STORAGE_URI = "memory://"

# --- mypack check ----------------------------------------------------------------
# Warnings this deployment accepts, by id (errors cannot be silenced).
SILENCED_CHECKS = ["mypack.W093"]

# --- Mail and background jobs -------------------------------------------------------
# Links in mail are built from SITE_URL (never from a request's Host header).
SITE_URL = "https://cafe.example.com"
MAIL_DEFAULT_SENDER = "mypack café <orders@cafe.example.com>"
MAIL_SERVER = "localhost"         # the machine's own MTA relays it; else MAIL_USE_TLS
MAIL_PORT = 25
# RabbitMQ on this machine; elsewhere, a user of mypack's own:
# "amqp://mypack:PASSWORD@mq.internal:5672/mypack" (check --deploy refuses guest there).
CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
