"""Logging: a rotating file that several processes can share, request ids, request lines.

mod_wsgi daemon processes and gunicorn workers all write the same log file. The
standard ``RotatingFileHandler`` loses records there (each process rotates on its own
and keeps writing into the renamed file), so the file handler is
``concurrent_log_handler.ConcurrentRotatingFileHandler``, which takes a lock file
around each write and each rotation.

Records below WARNING are written in batches (``BatchWriter``): at most
LOG_FLUSH_SECONDS after they were logged, when 64 KiB are waiting, before any WARNING
or worse record, and when the process exits. Taking the file lock and writing for
every request line was the largest part of mypack's own cost per request (README,
Performance); nginx's ``access_log ... buffer= flush=`` makes the same trade.
LOG_FLUSH_SECONDS = 0 writes every record at once.

Logging is process-wide: handlers go on the root logger, so SQLAlchemy's and
Werkzeug's records land in the same place. They are installed once per process;
calling ``create_app`` again with the same settings adds nothing, and different
settings replace the handlers this module installed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path

from flask import Flask, g, has_request_context, request

from mypack.exceptions import ConfigError

TEXT_FORMAT = (
    "%(asctime)s|%(levelname)s|%(process)d|%(request_id)s|%(name)s|%(message)s"
    "|%(pathname)s:%(lineno)d"
)
LOG_FILE = "mypack.log"
REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is short and plain, so it cannot forge log lines.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
_MARK = "_mypack_handler"
# Libraries that log routine chatter at INFO; their warnings still get through.
QUIET_LOGGERS = ("alembic.runtime.plugins",)
_installed_signature: tuple | None = None

request_logger = logging.getLogger("mypack.request")


class RequestIdFilter(logging.Filter):
    """Give every record a ``request_id``: the current request's, else ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = (
                g.get("request_id", "-") if has_request_context() else "-"
            )
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "auth")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
            "thread": record.thread,
            "location": f"{record.pathname}:{record.lineno}",
        }
        entry.update({k: getattr(record, k) for k in self.EXTRA_FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(config) -> None:
    """Install the handlers the settings ask for, once per process.

    :raise ConfigError: the log directory cannot be created or written; the message
        names it.
    """
    global _installed_signature
    log_dir = config.get("LOG_DIR") or ""
    signature = tuple(config.get(key) for key in (
        "LOG_LEVEL", "LOG_MAX_BYTES", "LOG_BACKUP_COUNT", "LOG_FORMAT", "LOG_TO_STDERR",
        "LOG_FLUSH_SECONDS",
    )) + (log_dir,)
    if signature == _installed_signature:
        return
    handlers = _build_handlers(config, log_dir)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        setattr(handler, _MARK, True)
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(
            JSONFormatter() if config.get("LOG_FORMAT") == "json"
            else logging.Formatter(TEXT_FORMAT))
        root.addHandler(handler)
    root.setLevel(str(config.get("LOG_LEVEL", "INFO")).upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    _installed_signature = signature


def _build_handlers(config, log_dir: str) -> list[logging.Handler]:
    handlers: list[logging.Handler] = []
    if log_dir:
        log_file = open_log_file(
            Path(log_dir), int(config["LOG_MAX_BYTES"]), int(config["LOG_BACKUP_COUNT"]))
        interval = float(config.get("LOG_FLUSH_SECONDS") or 0)
        handlers.append(BatchWriter(log_file, interval) if interval > 0 else log_file)
    if config.get("LOG_TO_STDERR"):
        handlers.append(logging.StreamHandler(sys.stderr))
    return handlers


def open_log_file(log_dir: Path, max_bytes: int, backup_count: int) -> logging.Handler:
    """The multi-process-safe rotating handler for ``<log_dir>/mypack.log``.

    :raise ConfigError: the directory cannot be created or the file cannot be opened.
    """
    from concurrent_log_handler import ConcurrentRotatingFileHandler

    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        # The handler opens its file lazily and only prints write errors; open it
        # now so a directory the service user cannot write stops the start-up.
        with open(log_dir / LOG_FILE, "a", encoding="utf-8"):
            pass
        return ConcurrentRotatingFileHandler(
            str(log_dir / LOG_FILE), maxBytes=max_bytes, backupCount=backup_count,
            encoding="utf-8",
        )
    except OSError as exc:
        raise ConfigError(
            f"log directory {log_dir} is not writable: {exc.strerror or exc}"
        ) from None


class BatchWriter(logging.Handler):
    """Formats each record at once and hands them to ``target`` in batches.

    A batch goes to ``target`` as one record holding the formatted lines, so the file
    is locked and written once per batch: every ``interval`` seconds (a daemon thread
    per process), when ``max_bytes`` are waiting, at a record of ``flush_level`` or
    worse (written with the lines before it, so an error is on disk at once, in
    order), and on ``flush``/``close``, which logging calls when the process exits.
    """

    def __init__(self, target: logging.Handler, interval: float,
                 flush_level: int = logging.WARNING, max_bytes: int = 64 * 1024) -> None:
        super().__init__()
        self.target = target
        # The lines are formatted here; the target writes them as they are.
        target.setFormatter(logging.Formatter("%(message)s"))
        self.interval = interval
        self.flush_level = flush_level
        self.max_bytes = max_bytes
        self._lines: list[str] = []
        self._size = 0
        self._closed = threading.Event()
        self._writer_pid: int | None = None  # the process whose writer thread runs

    def handle(self, record: logging.LogRecord) -> bool:
        # Filtered and formatted outside the lock, which guards only the list.
        if not self.filter(record):
            return False
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return True
        # Without a writer thread (none could be started) every line is written at once.
        unattended = self._writer_pid != os.getpid() and not self._start_writer()
        with self.lock:
            self._lines.append(line)
            self._size += len(line)
            urgent = (unattended or record.levelno >= self.flush_level
                      or self._size >= self.max_bytes)
        if urgent:
            self.flush()
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)

    def flush(self) -> None:
        """Write what is waiting, in one piece. The lock is held while writing, so
        batches reach the file in the order their lines were logged."""
        with self.lock:
            if not self._lines:
                return
            text, self._lines, self._size = "\n".join(self._lines), [], 0
            self.target.handle(logging.makeLogRecord(
                {"msg": text, "levelno": logging.INFO, "levelname": "INFO"}))

    def close(self) -> None:
        self._closed.set()
        self.flush()
        self.target.close()
        super().close()

    def _start_writer(self) -> bool:
        """Start this process's writer thread, unless it runs; False if none can start
        (the interpreter is shutting down, or no thread is left to the process)."""
        # Once per process: threads do not survive a fork, so a forked child (a
        # gunicorn worker of a preloaded app) starts its own on its first record.
        with self.lock:
            if self._writer_pid == os.getpid():
                return True
            self._writer_pid = os.getpid()
        try:
            threading.Thread(target=self._write_periodically, name="mypack-log-writer",
                             daemon=True).start()
        except RuntimeError:
            self._writer_pid = None  # try again with the next record
            return False
        return True

    def _write_periodically(self) -> None:
        while not self._closed.wait(self.interval):
            try:
                self.flush()
            except Exception:  # the target reports write errors itself; this is a bug
                traceback.print_exc(file=sys.stderr)  # the server's error log; keep going

    def _at_fork_reinit(self) -> None:
        # Called by logging in a forked child: the parent writes the lines it holds.
        super()._at_fork_reinit()
        self._lines, self._size = [], 0
        if not self._closed.is_set():
            self._closed = threading.Event()  # its lock may have been held at the fork


def init_app(app: Flask) -> None:
    """Give each request an id and, unless LOG_REQUESTS is off, one closing INFO line."""
    app.before_request(_start_request)
    app.after_request(_finish_request)


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response):
    from flask import current_app

    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before our first hook ran
        return response
    response.headers[REQUEST_ID_HEADER] = request_id
    if current_app.config["LOG_REQUESTS"]:
        duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
        method, path, status = request.method, request.path, response.status_code
        # The scheme only, never the credentials: it shows at once when a server
        # drops the header (Apache without WSGIPassAuthorization On).
        credentials = request.authorization
        auth = credentials.type if credentials else "-"
        # request_id given here spares RequestIdFilter looking it up again.
        request_logger.info(
            "%s %s %s %.1fms auth=%s", method, path, status, duration_ms, auth,
            extra={"method": method, "path": path, "auth": auth, "status": status,
                   "duration_ms": duration_ms, "request_id": request_id},
        )
    return response
