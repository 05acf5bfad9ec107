"""Logging: multi-process rotation, handlers attached once, request ids and lines."""

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from flask import request

from mypack import create_app, logs
from mypack.exceptions import ConfigError
from tests.support.servers import as_service_user
from tests.support.system import require_root

WRITERS = 4
LINES_PER_WRITER = 20_000
WRITER = textwrap.dedent("""
    import logging, sys
    from mypack import create_app
    log_dir, instance, writer, lines = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    create_app("testing", instance, LOG_DIR=log_dir, LOG_MAX_BYTES=32 * 1024,
               LOG_BACKUP_COUNT=2000, LOG_REQUESTS=False, LOG_FLUSH_SECONDS=float(sys.argv[5]))
    log = logging.getLogger("mypack.writer")
    for number in range(lines):
        log.info("writer=%s line=%06d payload=%s end", writer, number, "x" * 40)
""")


@pytest.fixture(autouse=True)
def fresh_logging():
    """Each test installs its own handlers; none survive into the next test."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, logs._MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    logs._installed_signature = None


def log_lines(log_dir):
    lines = []
    for path in sorted(log_dir.glob("mypack.log*")):
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    return lines


@pytest.mark.slow
# Each line written at once, and in batches (a batch can be larger than the file's
# maximum size, and processes write whole batches between each other's).
@pytest.mark.parametrize("flush_seconds", [0, 0.01])
def test_processes_sharing_a_rotating_file_lose_no_line(tmp_path, flush_seconds):
    log_dir = tmp_path / "logs"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(log_dir), str(tmp_path / "instance"),
                          str(writer), str(LINES_PER_WRITER), str(flush_seconds)])
        for writer in range(WRITERS)
    ]
    for process in writers:
        assert process.wait(timeout=300) == 0

    rotated = list(log_dir.glob("mypack.log.*"))
    assert len(rotated) > 20, "the test must exercise many rotations"
    pattern = re.compile(r".*\|INFO\|\d+\|-\|mypack\.writer\|writer=(\d) line=(\d{6}) "
                         r"payload=x{40} end\|<string>:\d+")
    seen = {}
    for line in log_lines(log_dir):
        match = pattern.fullmatch(line)
        assert match, f"broken or interleaved line: {line!r}"
        key = (int(match[1]), int(match[2]))
        seen[key] = seen.get(key, 0) + 1
    duplicates = [key for key, count in seen.items() if count > 1]
    assert not duplicates, f"{len(duplicates)} lines written twice, e.g. {duplicates[:3]}"
    assert len(seen) == WRITERS * LINES_PER_WRITER


def test_create_app_twice_does_not_duplicate_lines(tmp_path, instance_path):
    for _ in range(2):
        create_app("testing", instance_path, LOG_DIR=str(tmp_path / "logs"))
    logging.getLogger("mypack.twice").warning("only once")
    assert sum("only once" in line for line in log_lines(tmp_path / "logs")) == 1


def test_new_settings_replace_the_handlers(tmp_path, instance_path):
    create_app("testing", instance_path, LOG_DIR=str(tmp_path / "first"))
    create_app("testing", instance_path, LOG_DIR=str(tmp_path / "second"))
    logging.getLogger("mypack.moved").warning("where am I")
    assert not any("where am I" in line for line in log_lines(tmp_path / "first"))
    assert any("where am I" in line for line in log_lines(tmp_path / "second"))


def make_logged_app(tmp_path, instance_path, **settings):
    app = create_app("testing", instance_path, LOG_DIR=str(tmp_path / "logs"), **settings)

    @app.get("/brew")
    def brew():
        logging.getLogger("mypack.brew").info("brewing")
        return "ok"

    return app


def test_request_id_is_made_and_logged(tmp_path, instance_path):
    response = make_logged_app(tmp_path, instance_path).test_client().get("/brew")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    lines = [line for line in log_lines(tmp_path / "logs") if f"|{request_id}|" in line]
    assert any("|mypack.brew|brewing|" in line for line in lines)
    assert any("|mypack.request|GET /brew 200 " in line and "auth=-" in line for line in lines)


@pytest.mark.parametrize("incoming, kept", [
    ("till-7.order-42", True),
    ("a" * 128, True),
    ("a" * 129, False),
    ("evil|INFO|forged", False),
    ("two words", False),
    ("", False),
])
def test_incoming_request_id_is_kept_only_if_sane(tmp_path, instance_path, incoming, kept):
    client = make_logged_app(tmp_path, instance_path).test_client()
    request_id = client.get("/brew", headers={"X-Request-ID": incoming}).headers["X-Request-ID"]
    assert (request_id == incoming) is kept
    assert re.fullmatch(r"[A-Za-z0-9._:@-]{1,128}", request_id)


def test_request_line_has_method_path_status_duration(tmp_path, instance_path):
    client = make_logged_app(tmp_path, instance_path, LOG_FORMAT="json").test_client()
    client.get("/nowhere", headers={"X-Request-ID": "req-1"})
    entries = [json.loads(line) for line in log_lines(tmp_path / "logs")]
    (entry,) = [e for e in entries if e["logger"] == "mypack.request"]
    assert entry["level"] == "INFO" and entry["request_id"] == "req-1"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/nowhere", 404)
    assert entry["duration_ms"] >= 0 and entry["auth"] == "-"


def test_request_line_names_the_auth_scheme_not_the_credentials(tmp_path, instance_path):
    client = make_logged_app(tmp_path, instance_path).test_client()
    client.get("/brew", headers={"Authorization": "Bearer s3cr3t-token"})
    client.get("/brew", headers={"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="})
    lines = [line for line in log_lines(tmp_path / "logs") if "|mypack.request|" in line]
    assert "auth=bearer" in lines[0] and "auth=basic" in lines[1]
    assert not any("s3cr3t" in line or "YWxpY2U6" in line for line in log_lines(tmp_path / "logs"))


def test_request_lines_can_be_turned_off(tmp_path, instance_path):
    make_logged_app(tmp_path, instance_path, LOG_REQUESTS=False).test_client().get("/brew")
    lines = log_lines(tmp_path / "logs")
    assert any("brewing" in line for line in lines)
    assert not any("mypack.request" in line for line in lines)


def test_log_level_filters(tmp_path, instance_path):
    make_logged_app(tmp_path, instance_path, LOG_LEVEL="WARNING").test_client().get("/brew")
    logging.getLogger("mypack.level").warning("kept")
    lines = log_lines(tmp_path / "logs")
    assert any("kept" in line for line in lines)
    assert not any("brewing" in line or "mypack.request" in line for line in lines)


def test_log_to_stderr(instance_path):
    script = ("import logging; from mypack import create_app\n"
              f"create_app('testing', {str(instance_path)!r}, LOG_TO_STDERR=True)\n"
              "logging.getLogger('mypack.stderr').warning('to the server log')")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0
    (line,) = result.stderr.splitlines()
    assert "|WARNING|" in line and "|mypack.stderr|to the server log|" in line


def test_log_dir_that_cannot_be_created_fails_start_up(tmp_path, instance_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=f"log directory {blocker / 'logs'} is not writable"):
        create_app("testing", instance_path, LOG_DIR=str(blocker / "logs"))


def test_unwritable_log_dir_fails_start_up_for_the_service_user(public_tmp, service_venv):
    # Run as 'nobody' against a root-owned directory: the real permission error an
    # operator meets when the service user cannot write the log folder.
    log_dir = public_tmp / "logs"
    log_dir.mkdir(mode=0o755)
    script = ("from mypack import create_app\n"
              f"create_app('testing', {str(public_tmp / 'instance')!r}, LOG_DIR={str(log_dir)!r})")
    result = subprocess.run([*as_service_user("nobody"), service_venv / "bin" / "python",
                             "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert f"log directory {log_dir} is not writable: Permission denied" in result.stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_failing_request_logs_its_traceback_and_request_id(tmp_path, instance_path,
                                                             log_format):
    """The traceback and the request id of a failing request both reach the file."""
    app = make_logged_app(tmp_path, instance_path, LOG_FORMAT=log_format)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a 500 page and a log

    @app.get("/boom")
    def boom():
        raise RuntimeError("the grinder jammed")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    text = "\n".join(log_lines(tmp_path / "logs"))
    assert "req-boom" in text and "RuntimeError: the grinder jammed" in text
    if log_format == "json":
        entries = [json.loads(line) for line in log_lines(tmp_path / "logs")]
        [failure] = [e for e in entries if "exception" in e]
        assert failure["request_id"] == "req-boom"
        assert "the grinder jammed" in failure["exception"]


@pytest.mark.parametrize("flush_seconds", [0, 30])
def test_records_are_written_when_the_process_exits(tmp_path, instance_path, flush_seconds):
    script = ("import logging, sys; from mypack import create_app\n"
              "create_app('testing', sys.argv[1], LOG_DIR=sys.argv[2],\n"
              "           LOG_FLUSH_SECONDS=float(sys.argv[3]))\n"
              "for n in range(2000): logging.getLogger('mypack.exit').info('line %d', n)\n")
    subprocess.run([sys.executable, "-c", script, str(instance_path), str(tmp_path / "logs"),
                    str(flush_seconds)], check=True, timeout=120)
    lines = [line for line in log_lines(tmp_path / "logs") if "|mypack.exit|" in line]
    assert len(lines) == 2000 and lines[-1].split("|")[5] == "line 1999"


# --- batched writing (LOG_FLUSH_SECONDS) ---------------------------------------------------

def batch_writer() -> logs.BatchWriter:
    (writer,) = [h for h in logging.getLogger().handlers if isinstance(h, logs.BatchWriter)]
    return writer


def test_lines_wait_for_a_warning_which_is_written_after_them_at_once(tmp_path, instance_path):
    client = make_logged_app(tmp_path, instance_path, LOG_FLUSH_SECONDS=30).test_client()
    request_id = client.get("/brew").headers["X-Request-ID"]
    assert not any(request_id in line for line in log_lines(tmp_path / "logs"))
    logging.getLogger("mypack.grinder").warning("beans low")
    lines = log_lines(tmp_path / "logs")
    brewing, request_line, warning = (
        next(n for n, line in enumerate(lines) if text in line)
        for text in ("|mypack.brew|brewing|", "GET /brew 200", "|WARNING|"))
    assert brewing < request_line < warning and "beans low" in lines[warning]
    assert all(line.count("|") >= 6 for line in lines), "every line whole, one per line"


def test_the_writer_thread_writes_within_the_interval(tmp_path, instance_path):
    client = make_logged_app(tmp_path, instance_path, LOG_FLUSH_SECONDS=0.05).test_client()
    request_id = client.get("/brew").headers["X-Request-ID"]
    deadline = time.monotonic() + 10
    while not any(request_id in line for line in log_lines(tmp_path / "logs")):
        assert time.monotonic() < deadline, "the request line never reached the file"
        time.sleep(0.02)
    assert any(thread.name == "mypack-log-writer" for thread in threading.enumerate())


def test_a_full_batch_is_written_without_waiting(tmp_path, instance_path):
    make_logged_app(tmp_path, instance_path, LOG_FLUSH_SECONDS=30)
    log = logging.getLogger("mypack.bulk")
    for number in range(2000):  # some 300 KiB: full 64 KiB batches, and a rest that waits
        log.info("bulk line %04d %s", number, "x" * 20)
    written = [line for line in log_lines(tmp_path / "logs") if "|mypack.bulk|" in line]
    assert 1000 < len(written) < 2000  # the full batches, not the rest
    assert written[0].split("|")[5].startswith("bulk line 0000")


def test_a_forked_child_does_not_write_its_parents_waiting_lines(tmp_path, instance_path):
    make_logged_app(tmp_path, instance_path, LOG_FLUSH_SECONDS=30)
    logging.getLogger("mypack.parent").info("before the fork")
    pid = os.fork()
    if pid == 0:  # the child: log one line, write it, leave without running pytest's exit
        try:
            logging.getLogger("mypack.child").info("from the child")
            batch_writer().flush()
        finally:
            os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    batch_writer().flush()
    lines = log_lines(tmp_path / "logs")
    assert sum("before the fork" in line for line in lines) == 1
    assert sum("from the child" in line for line in lines) == 1


def test_flush_seconds_zero_writes_each_record_at_once(tmp_path, instance_path):
    make_logged_app(tmp_path, instance_path, LOG_FLUSH_SECONDS=0)
    assert not any(isinstance(h, logs.BatchWriter) for h in logging.getLogger().handlers)
    logging.getLogger("mypack.now").info("written now")
    assert any("written now" in line for line in log_lines(tmp_path / "logs"))


def test_without_a_writer_thread_lines_are_written_at_once(tmp_path, instance_path,
                                                            monkeypatch):
    # As at interpreter shutdown, when no thread can start: logging must neither raise
    # nor keep the line waiting for a writer that never comes.
    make_logged_app(tmp_path, instance_path, LOG_FLUSH_SECONDS=30)

    def refuse(thread):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    logging.getLogger("mypack.late").info("said late")
    assert any("said late" in line for line in log_lines(tmp_path / "logs"))


# --- log forging: client text escaped in text lines, JSON stays JSON ------------------------

#: A text line as mypack writes it: time|LEVEL|pid|request-id|logger|message|file:line,
#: seven fields, none holding the separator.
RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\|[A-Z]+\|\d+\|[^|]*\|[^|]*\|[^|]*"
                    r"\|[^|]*:\d+")
FORGED = "2026-01-01 00:00:00,000|ERROR|1|-|mypack|forged|x.py:1"
#: A path that carries a forged record after a newline, then a CR, the separator, a
#: terminal escape, a vertical tab, a bell and a Unicode line separator.
HOSTILE_PATH = ("/brew%0A" + FORGED.replace(" ", "%20")
                + "%0D%0A" + FORGED.replace(" ", "%20") + "|%1B[2J%0B%07%E2%80%A8end")
DECODED_PATH = f"/brew\n{FORGED}\r\n{FORGED}|\x1b[2J\x0b\x07\u2028end"
#: An Authorization scheme (the text before the first space), logged as auth=...
HOSTILE_SCHEME = "x|ERROR|1|-|mypack|forged\x1b[31m\tz"
HOSTILE_AGENT = f"agent|{FORGED}\x1b]0;owned\x07\x85"


def strict_lines(log_dir) -> list[str]:
    """The lines of the log files as any reader might split them: at \\n and \\r, and
    also at the other characters str.splitlines() ends a line at (\\v, \\x1c, \\u2028...)."""
    lines = []
    for path in sorted(log_dir.glob("mypack.log*")):
        lines.extend(path.read_bytes().decode("utf-8").splitlines())
    return lines


def make_echo_app(tmp_path, instance_path, **settings):
    """An app with a view that logs a client-chosen header, as a careless view might."""
    app = make_logged_app(tmp_path, instance_path, **settings)

    @app.get("/agent")
    def agent():
        logging.getLogger("mypack.agent").info("agent %s", request.headers["User-Agent"])
        return "ok"

    return app


def test_a_hostile_path_scheme_and_header_cannot_forge_a_text_line(tmp_path, instance_path):
    client = make_echo_app(tmp_path, instance_path).test_client()
    assert client.get(HOSTILE_PATH, headers={"Authorization": f"{HOSTILE_SCHEME} token",
                                             "X-Request-ID": "req-forge"}).status_code == 404
    client.get("/agent", headers={"User-Agent": HOSTILE_AGENT, "X-Request-ID": "req-agent"})
    lines = strict_lines(tmp_path / "logs")
    assert lines and all(RECORD.fullmatch(line) for line in lines), lines
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert [line.split("|")[3:5] for line in lines] == [["req-forge", "mypack.request"],
                                                        ["req-agent", "mypack.agent"],
                                                        ["req-agent", "mypack.request"]]
    request_line, agent_line = lines[0].split("|")[5], lines[1].split("|")[5]
    # The forged text is there, escaped, inside the genuine line; and it reads back.
    assert request_line.startswith(r"GET /brew\n2026-01-01 00:00:00,000\x7cERROR\x7c1\x7c-")
    assert r"\r\n2026-01-01" in request_line and r"\x1b[2J\x0b\x07\u2028end 404 " in request_line
    assert request_line.endswith(r" auth=x\x7cerror\x7c1\x7c-\x7cmypack\x7cforged\x1b[31m\tz")
    assert logs.unescape(request_line).startswith(f"GET {DECODED_PATH} 404 ")
    assert logs.unescape(agent_line) == f"agent {HOSTILE_AGENT}"


def test_a_forged_line_in_an_exception_message_is_not_a_record(tmp_path, instance_path):
    app = make_logged_app(tmp_path, instance_path)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a 500 page and a log

    @app.before_request  # any path: a route's converter would not match a newline
    def grind():
        if request.path.startswith("/grind/"):
            raise RuntimeError(f"no grinder named {request.path[7:]}")  # echoes the client

    response = app.test_client().get("/grind/x%0A" + FORGED.replace(" ", "%20"),
                                     headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    lines = strict_lines(tmp_path / "logs")
    records = [line for line in lines if RECORD.fullmatch(line)]
    assert [line.split("|")[3:5] for line in records] == [["req-boom", "mypack"],
                                                          ["req-boom", "mypack.request"]]
    # The traceback stays readable, one frame a line, each continuation line indented
    # so that none can start like a record, whatever the exception's message holds.
    traceback_lines = [line for line in lines if line not in records]
    assert traceback_lines[0] == "\tTraceback (most recent call last):"
    assert all(line.startswith("\t") for line in traceback_lines)
    assert "\tRuntimeError: no grinder named x" in lines
    assert "\t" + FORGED.replace("|", r"\x7c") in lines
    assert not any(line.lstrip().startswith(FORGED) for line in lines)
    # Flask's own message echoes the path: escaped in the genuine record.
    assert records[0].split("|")[5] == (r"Exception on /grind/x\n"
                                        + FORGED.replace("|", r"\x7c") + " [GET]")


def test_records_of_any_logger_stay_on_their_line(tmp_path, instance_path):
    make_logged_app(tmp_path, instance_path)
    logging.getLogger("sqlalchemy.engine").warning("SELECT name\nFROM item\nWHERE note = %s",
                                                   "a|b")
    logging.getLogger("mypack.stack").warning("here\r%s", FORGED, stack_info=True)
    lines = strict_lines(tmp_path / "logs")
    assert RECORD.fullmatch(lines[0]) and lines[0].split("|")[5] == (
        r"SELECT name\nFROM item\nWHERE note = a\x7cb")
    assert RECORD.fullmatch(lines[1]) and lines[1].split("|")[5] == (
        r"here\r" + FORGED.replace("|", r"\x7c"))
    assert lines[2] == "\tStack (most recent call last):"
    assert all(line.startswith("\t") for line in lines[3:])


@pytest.mark.parametrize("text", [
    "GET /menu 200 3.1ms auth=-",
    "café crème, 3 × 2,50 €",
    "a|b", "line\nbreak", "cr\rlf\r\n", "tab\there", "\x1b[31mred\x1b[0m", "bell\x07",
    "vt\x0bff\x0cfs\x1cnel\x85ls\u2028ps\u2029", "rtl\u202eoverride", "del\x7f",
    "back\\slash", r"looks\x7cescaped\n", "\\\\x7c|", "lone \ud800 surrogate", "",
])
def test_escaping_is_one_printable_line_and_reversible(text):
    escaped = logs.escape(text)
    assert escaped.isprintable() and "|" not in escaped
    assert len(escaped.splitlines()) <= 1
    assert logs.unescape(escaped) == text
    if text.isprintable() and "|" not in text and "\\" not in text:
        assert escaped is text  # plain text, the common case, is kept as it is


def test_hostile_values_keep_json_lines_valid(tmp_path, instance_path):
    client = make_echo_app(tmp_path, instance_path, LOG_FORMAT="json").test_client()
    client.get(HOSTILE_PATH, headers={"Authorization": f"{HOSTILE_SCHEME} token"})
    client.get("/agent", headers={"User-Agent": HOSTILE_AGENT})
    lines = strict_lines(tmp_path / "logs")
    entries = [json.loads(line) for line in lines]  # one whole object per line
    assert [entry["logger"] for entry in entries] == [
        "mypack.request", "mypack.agent", "mypack.request"]
    assert entries[0]["path"] == DECODED_PATH
    assert entries[0]["auth"] == HOSTILE_SCHEME.lower()
    assert entries[1]["message"] == f"agent {HOSTILE_AGENT}"


def test_a_command_run_as_root_leaves_the_log_files_to_the_folders_owner(tmp_path,
                                                                          instance_path):
    """``mypack apache-config`` (README step 4) and any other command run as root must
    not leave a root-owned mypack.log or lock file that stops the service's daemons."""
    require_root("to make files another user owns")
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    os.chown(log_dir, 65534, 65534)  # nobody:nogroup, standing for the service user
    script = ("import logging, sys; from mypack import create_app\n"
              "create_app('testing', sys.argv[1], LOG_DIR=sys.argv[2])\n"
              "logging.getLogger('mypack.root').warning('written as root')\n")
    subprocess.run([sys.executable, "-c", script, str(instance_path), str(log_dir)],
                   check=True, timeout=60)
    made = list(log_dir.iterdir())
    assert {path.name for path in made} >= {"mypack.log"}
    for path in made:
        assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534), path
    assert "written as root" in (log_dir / "mypack.log").read_text()
