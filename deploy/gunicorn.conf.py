"""gunicorn settings for mypack: ``gunicorn -c deploy/gunicorn.conf.py``.

gunicorn re-reads this file on every start and HUP. Paths come from the deploy root:
``MYPACK_DEPLOY_ROOT``, else the working directory (the systemd unit sets both).
Every value can be overridden with ``MYPACK_GUNICORN_<NAME>`` (e.g. ``..._BIND``).
"""

import multiprocessing
import os

_root = os.path.abspath(os.environ.get("MYPACK_DEPLOY_ROOT", os.getcwd()))
_instance = os.environ.get("MYPACK_INSTANCE", os.path.join(_root, "instance"))


def _setting(name, default, kind=str):
    return kind(os.environ.get(f"MYPACK_GUNICORN_{name.upper()}", default))


# The app: a module in the package, since gunicorn cannot load start.wsgi by module path.
wsgi_app = "mypack.wsgi:application"
# Behind a reverse proxy on the same host; never exposed directly.
bind = _setting("bind", "127.0.0.1:8000")
# One worker per core; threads carry the concurrency (gthread), like mod_wsgi's daemons.
workers = _setting("workers", max(2, multiprocessing.cpu_count()), int)
threads = _setting("threads", 5, int)
worker_class = "gthread"
# At most this many clients per worker (busy plus kept alive); more wait in the listen
# backlog for a worker with room. Without a cap one worker can take every keep-alive
# connection of the proxy in front and leave the others idle: seen here with 20
# clients on 2 workers, half the time all 20 on one, and half the throughput. Not
# much lower: while a worker restarts, the others take its clients up to their cap,
# and kept-alive clients above cap - threads are closed after their answer.
worker_connections = _setting("worker_connections", 3 * threads, int)
# A worker silent for 30 s is killed: above the 15 s database statement timeout.
timeout = _setting("timeout", 30, int)
# Workers finishing requests at a HUP or stop get as long as the longest normal request.
graceful_timeout = _setting("graceful_timeout", 30, int)
# Keep-alive to the proxy in front; short: an idle kept-alive connection holds one
# of its worker's worker_connections places.
keepalive = _setting("keepalive", 5, int)
# Recycle workers now and then (leaks in libraries), not all at once. Not too often:
# a worker takes about half a second of CPU to start, and until it answers, the
# clients the others have no room for wait. At 1,000 requests a busy worker was
# replaced every couple of seconds; at 20,000, under make bench's 2,500 req/s per
# worker, every 8 s, each time a p99 of 200-350 ms. The jitter is wide because
# workers sharing a load evenly reach the same count together: with 10% both
# restarted within a second.
max_requests = _setting("max_requests", 50000, int)
max_requests_jitter = _setting("max_requests_jitter", max_requests // 2, int)
# Off so that HUP starts workers that import the new code.
preload_app = False
# Heartbeat files on tmpfs: a slow disk must not make busy workers look dead.
worker_tmp_dir = "/dev/shm"
# Pid file and control socket inside the deployment, not in the service user's $HOME.
pidfile = _setting("pidfile", os.path.join(_root, "run", "gunicorn.pid"))
control_socket = _setting("control_socket", os.path.join(_root, "run", "gunicorn.ctl"))
# X-Forwarded-* is trusted only from the proxy on this host.
forwarded_allow_ips = _setting("forwarded_allow_ips", "127.0.0.1")
# gunicorn's own messages beside mypack's log, in the logs/ folder `mypack init`
# makes (deploy/logrotate/mypack rotates this file; "-" sends them to the journal
# instead). mypack logs each request itself.
errorlog = _setting("errorlog", os.path.join(_instance, "logs", "gunicorn.log"))
accesslog = None
loglevel = _setting("loglevel", "info")
proc_name = "mypack"
# The app's settings: its instance folder, and a database pool per worker that
# fits its threads.
raw_env = [
    f"MYPACK_INSTANCE={_instance}",
    f"MYPACK_DB_POOL_SIZE={threads}",
]
