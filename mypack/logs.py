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

Text lines cannot be forged (``TextFormatter``): whatever a record carries (a request
path, an Authorization scheme, a header a view logs, an exception's message) is
escaped, so a line of the file is one record and its fields are split by the only
``|`` characters in it. Tracebacks follow on continuation lines that start with a
tab, which no record line does.

Logging is process-wide: handlers go on the root logger, so SQLAlchemy's and
Werkzeug's records land in the same place. They are installed once per process;
calling ``create_app`` again with the same settings adds nothing, and different
settings replace the handlers this module installed.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import shutil
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

# Escaping for text lines: the C0 controls and DEL as \xNN (\n, \r, \t by name), the
# field separator as \x7c, and the backslash doubled, so that unescape() restores
# the text exactly. Other characters str.isprintable() refuses (NEL, U+2028 and
# U+2029, which some readers end a line at, U+202E and other format characters,
# lone surrogates) become \xNN, \uNNNN or \UNNNNNNNN, as in Python literals.
_ESCAPES = str.maketrans({
    **{chr(code): f"\\x{code:02x}" for code in (*range(0x20), 0x7F)},
    "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", "|": "\\x7c",
})
_ESCAPED = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[nrt\\])")
_NAMED = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}
#: What starts each line of a traceback or stack after a record's own line.
CONTINUATION = "\t"


def escape(text: str) -> str:
    """``text`` as one printable line without ``|``, readable and reversible
    (:func:`unescape`). Text that needs nothing, nearly all, is returned as it is."""
    # The request line is logged on every request: three scans in C decide, and
    # nothing is built unless one of them finds something.
    if text.isprintable() and "|" not in text and "\\" not in text:
        return text
    text = text.translate(_ESCAPES)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape_code(ord(char)) for char in text)


def _escape_code(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def unescape(text: str) -> str:
    """The text :func:`escape` was given: for reading a field of a text line back."""
    return _ESCAPED.sub(lambda m: _NAMED.get(m[1]) or chr(int(m[1][1:], 16)), text)


#: The id of the background job this thread is running (mypack/jobs.py), else ``-``.
job_id: contextvars.ContextVar[str] = contextvars.ContextVar("job_id", default="-")


class RequestIdFilter(logging.Filter):
    """Give every record a ``request_id``: the current request's, else the current
    job's (a Celery task id), else ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = (
                g.get("request_id", "-") if has_request_context() else job_id.get()
            )
        return True


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT lines that no client text can forge, from any logger.

    The message, the logger name and the request id are escaped (:func:`escape`): a
    record is one line, and its only ``|`` characters are TEXT_FORMAT's. A traceback
    or stack stays readable, one line per line, each escaped the same way and begun
    with a tab (CONTINUATION), so none can pass for a record: records begin with
    their time.
    """

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self.line_format = TEXT_FORMAT

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)  # cached as logging does
        for text in (record.exc_text, record.stack_info and self.formatStack(record.stack_info)):
            if text:
                line += "".join(f"\n{CONTINUATION}{escape(part)}" for part in text.split("\n"))
        return line

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = record.__dict__
        request_id = fields.get("request_id", "-")
        # escape()'s test, once for the three fields: nearly always nothing to do.
        text = f"{record.message}{record.name}{request_id}"
        if "request_id" in fields and text.isprintable() and "|" not in text \
                and "\\" not in text:
            return self.line_format % fields
        record.message = escape(record.message)
        # A copy: the record keeps its name and request id for other handlers.
        return self.line_format % {**fields, "name": escape(record.name),
                            "request_id": escape(str(request_id))}


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
            JSONFormatter() if config.get("LOG_FORMAT") == "json" else TextFormatter())
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
        owner = _folder_owner(log_dir)
        if owner is not None:
            shutil.chown(log_dir / LOG_FILE, *owner)
        return ConcurrentRotatingFileHandler(
            str(log_dir / LOG_FILE), maxBytes=max_bytes, backupCount=backup_count,
            encoding="utf-8", owner=owner,
        )
    except OSError as exc:
        raise ConfigError(
            f"log directory {log_dir} is not writable: {exc.strerror or exc}"
        ) from None


def _folder_owner(log_dir: Path) -> tuple[str, str] | None:
    """For root only: the user and group the log folder belongs to.

    A mypack command run as root (``mypack apache-config``, README step 4, or any
    other) would otherwise leave mypack.log, its lock file or a rotated file root's,
    and the service user's daemons could not write them: every file the handler
    makes is given to the folder's owner instead.
    """
    if os.geteuid() != 0:
        return None
    stat = log_dir.stat()
    if stat.st_uid == 0:
        return None
    import grp
    import pwd

    try:
        return pwd.getpwuid(stat.st_uid).pw_name, grp.getgrgid(stat.st_gid).gr_name
    except KeyError:  # an owner without a name: the handler takes names only
        return None


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

    @property
    def _held(self):
        """logging's lock of this handler (made by Handler.__init__, made anew after a
        fork): it guards the list of lines."""
        assert self.lock is not None
        return self.lock

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
        with self._held:
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
        with self._held:
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
        with self._held:
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
        super()._at_fork_reinit()  # type: ignore[misc]  # logging's, not in typeshed
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


#: URL arguments that are secrets (a password-reset link's token): request lines show
#: their name in their place, so the log holds no link that would still work.
SECRET_URL_ARGUMENTS = frozenset({"token"})


def loggable_path() -> str:
    """The request's path as its request line shows it: without secret arguments."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name in SECRET_URL_ARGUMENTS and isinstance(value, str) and value:
            # The last occurrence: the argument's own place in the path.
            head, found, tail = path.rpartition(value)
            if found:
                path = f"{head}<{name}>{tail}"
    return path


def _finish_request(response):
    from flask import current_app

    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before our first hook ran
        return response
    response.headers[REQUEST_ID_HEADER] = request_id
    if current_app.config["LOG_REQUESTS"]:
        duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
        method, path, status = request.method, loggable_path(), response.status_code
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
