"""Real servers for the deployment tests: a deploy root built as a sysadmin would,
Apache 2.4 with mod_wsgi in daemon mode, gunicorn, and a bounded loopback load.

Everything listens on 127.0.0.1 only, and every process started here is stopped by
the fixture or context manager that started it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The shipped systemd units.
UNITS = ROOT / "deploy" / "systemd"
SYSTEM_PYTHON = "/usr/bin/python3"
SERVICE_USER = "www-data"
APACHE_MODULES = Path("/usr/lib/apache2/modules")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; on failure raise with its output, which says what went wrong."""
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                            **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def as_service_user(user: str = SERVICE_USER) -> list[str]:
    """The command prefix that runs a command as the service user, in its own group
    (sudo -u, without sudo)."""
    return ["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}",
            "--clear-groups"]


def chown_tree(path: Path, user: str = SERVICE_USER) -> None:
    """Give a folder to the service user and its group (instance folders: secret, logs,
    SQLite)."""
    account = pwd.getpwnam(user)
    uid, gid = account.pw_uid, account.pw_gid
    for folder, _, files in os.walk(path):
        os.chown(folder, uid, gid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, gid)


# --- the deployment --------------------------------------------------------------------

def build_wheel(out: Path, version: str | None = None) -> Path:
    """A wheel built from a copy of the files git would ship (tracked and new, not
    ignored), optionally as another version: a new release of the working tree."""
    source = out / "source"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, files):
        if not (ROOT / name).exists() and not (ROOT / name).is_symlink():
            continue  # deleted in the working tree
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name, follow_symlinks=False)
    if version:
        init = source / "mypack" / "version.py"
        init.write_text(re.sub(r'^__version__ = "[^"]*"', f'__version__ = "{version}"',
                               init.read_text(), flags=re.M))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(source)], check=True, capture_output=True)
    (built,) = out.glob("mypack-*.whl")
    return built



@dataclass
class Deployment:
    """A deploy root: start.wsgi, a venv with mypack (and mod_wsgi, gunicorn), instance/."""

    root: Path
    #: What ``deployed`` configured (tests/conftest.py): a test adds to it.
    settings: dict = field(default_factory=dict)

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def instance(self) -> Path:
        return self.root / "instance"

    @property
    def share(self) -> Path:
        """The deployment kit installed with the package (start.wsgi, units, ...)."""
        return self.venv / "share" / "mypack"

    @property
    def start_wsgi(self) -> Path:
        return self.root / "start.wsgi"

    def mypack(self, *args, env=None, check=True, root=False,
               input=None) -> subprocess.CompletedProcess:
        """Run the deployment's own mypack command on its instance folder as the service
        user, as the README says (files it creates must stay writable by the daemons);
        ``root=True`` for what the sysadmin does as root (writing Apache's config);
        ``input`` is its standard input (a --password-stdin)."""
        environment = {"PATH": "/usr/bin:/bin", "HOME": str(self.root), **(env or {})}
        command = [*([] if root else as_service_user()), self.venv / "bin" / "mypack",
                   "--instance", self.instance, *args]
        if check:
            return run(*command, env=environment, cwd=self.root, input=input)
        return subprocess.run([str(part) for part in command], capture_output=True, text=True,
                              env=environment, cwd=self.root, input=input)

    def configure(self, **settings) -> None:
        """Write instance/config.py from scratch with these settings."""
        lines = [f"{name} = {value!r}" for name, value in settings.items()]
        config = self.instance / "config.py"
        config.write_text("\n".join(lines) + "\n")
        config.chmod(0o640)  # it holds the database password
        chown_tree(self.instance)

    def wait_for_log(self, text: str, timeout: float = 15) -> None:
        """Wait until mypack.log holds ``text``, as ``tail -f`` would show it: lines
        are written in batches (LOG_FLUSH_SECONDS), so not at once, but soon."""
        log = self.instance / "logs" / "mypack.log"
        deadline = time.monotonic() + timeout
        while not (log.exists() and text in log.read_text(errors="replace")):
            assert time.monotonic() < deadline, f"{text!r} not in {log} after {timeout} s"
            time.sleep(0.1)

    def package_file(self, name: str) -> Path:
        """A file of the mypack installed in the venv (not the checkout)."""
        found = list((self.venv / "lib").glob(f"python3*/site-packages/mypack/{name}"))
        assert len(found) == 1, found
        return found[0]

    def set_version(self, version: str) -> None:
        """Change the version the installed code reports: a new release of the code."""
        init = self.package_file("version.py")
        text = re.sub(r'^__version__ = "[^"]*"', f'__version__ = "{version}"',
                      init.read_text(), flags=re.M)
        init.write_text(text)

    def touch(self) -> None:
        """What the sysadmin does to reload: touch start.wsgi."""
        self.start_wsgi.touch()


def make_venv(venv: Path, wheel: Path, *extra: str) -> Path:
    """A venv from Debian's Python (readable by service users, unlike a Python in
    root's home) with mypack installed from its wheel, and ``extra`` packages."""
    run(SYSTEM_PYTHON, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    run(*pip, "--upgrade", "pip")
    run(*pip, wheel, *extra)
    return venv


def build_deployment(root: Path, wheel: Path) -> Deployment:
    """Build a deploy root the way the README tells a sysadmin to.

    A venv from Debian's Python (readable by the service user, unlike a Python in
    root's home), mypack installed from its wheel, mod_wsgi built into the same venv,
    gunicorn, start.wsgi and an initialised instance folder owned by the service user.
    """
    deployment = Deployment(root)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    make_venv(deployment.venv, wheel, "mod_wsgi")
    # start.wsgi comes with the package: no source checkout in a deploy root.
    shutil.copy(deployment.share / "start.wsgi", deployment.start_wsgi)
    for folder in (root / "run", deployment.instance):
        folder.mkdir(mode=0o750, exist_ok=True)
        chown_tree(folder)
    deployment.mypack("init")
    return deployment


#: glibc malloc settings the deployment runs with: mypack.service sets them, and the
#: README has Debian's /etc/apache2/envvars export them.
MALLOC_TUNING = {"MALLOC_ARENA_MAX": "2", "MALLOC_TRIM_THRESHOLD_": "131072"}


# --- Apache --------------------------------------------------------------------------------

MAIN_CONFIG = """\
# Self-contained Apache 2.4 main config for one test; the vhost is mypack's.
ServerRoot "{apache}"
PidFile "{apache}/httpd.pid"
ErrorLog "{apache}/error.log"
LogLevel info
DefaultRuntimeDir "{apache}/run"
Mutex file:{apache}/run
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User {user}
Group {user}
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule alias_module {modules}/mod_alias.so
LoadModule headers_module {modules}/mod_headers.so
TypesConfig /etc/mime.types
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\"" combined
# Enough threads for the test load, and no child retired in the middle of it (a retired
# child drops its keep-alive connections).
StartServers 2
ServerLimit 2
ThreadsPerChild 50
MaxRequestWorkers 100
MinSpareThreads 25
MaxSpareThreads 100
MaxConnectionsPerChild 0
Include {apache}/mypack.conf
"""


class Apache:
    """The real Apache 2.4 serving a deployment through mypack's rendered vhost."""

    def __init__(self, deployment: Deployment, port: int | None = None,
                 processes: int = 2, threads: int = 5):
        self.deployment = deployment
        self.port = port or free_port()
        self.dir = deployment.root / f"apache-{self.port}"
        (self.dir / "run").mkdir(parents=True, exist_ok=True)
        (self.dir / "run").chmod(0o755)
        self.config = self.dir / "httpd.conf"
        self.config.write_text(MAIN_CONFIG.format(apache=self.dir, port=self.port,
                                                  user=SERVICE_USER, modules=APACHE_MODULES))
        deployment.mypack(
            "apache-config", "--server-name", "127.0.0.1", "--port", str(self.port),
            "--deploy-root", deployment.root, "--venv", deployment.venv,
            "--processes", str(processes), "--threads", str(threads),
            "--log-dir", self.dir, "--socket-prefix", self.dir / "run" / "wsgi",
            "--output", self.dir / "mypack.conf", root=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def check_config(self) -> subprocess.CompletedProcess:
        return subprocess.run(["apache2", "-t", "-f", str(self.config)], capture_output=True,
                              text=True)

    def error_log(self) -> str:
        """The site's error log (where mod_wsgi writes the app's stderr)."""
        return "".join(path.read_text(errors="replace") for path in
                       (self.dir / "mypack-error.log", self.dir / "error.log") if path.exists())

    def master_pid(self) -> int:
        return int((self.dir / "httpd.pid").read_text())

    def __enter__(self) -> Apache:
        run("apache2", "-f", self.config, "-k", "start", env={**os.environ, **MALLOC_TUNING})
        # Both daemon groups have loaded the app: the health checks' and the site's
        # (a touch while a daemon is still loading goes unnoticed).
        for path in VERSIONED_PATHS:
            wait_for_http(self.url + path, accept=range(200, 600))
        return self

    def __exit__(self, *exc) -> None:
        pid_file = self.dir / "httpd.pid"
        pid = int(pid_file.read_text()) if pid_file.exists() else None
        subprocess.run(["apache2", "-f", str(self.config), "-k", "stop"], capture_output=True)
        if pid:
            wait_gone(pid)
        # Daemon processes exit with their parent; make sure none is left behind.
        subprocess.run(["pkill", "-KILL", "-f", f"{self.dir}/httpd.conf"], capture_output=True)


# --- gunicorn ------------------------------------------------------------------------------

class Gunicorn:
    """gunicorn started with the shipped deploy/gunicorn.conf.py, as the systemd unit does."""

    def __init__(self, deployment: Deployment, port: int | None = None, workers: int = 2,
                 threads: int = 5, name: str = "gunicorn", app: str | None = None):
        self.deployment = deployment
        self.app = app  # another WSGI app than the config's (the benchmark's baseline)
        self.port = port or free_port()
        self.name = name
        run_dir = deployment.root / "run"
        # Several named servers on one deploy root (two nodes) keep their own files.
        self.env = {
            "PATH": "/usr/bin:/bin", "MYPACK_DEPLOY_ROOT": str(deployment.root),
            "MYPACK_GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "MYPACK_GUNICORN_WORKERS": str(workers), "MYPACK_GUNICORN_THREADS": str(threads),
            "MYPACK_GUNICORN_PIDFILE": str(run_dir / f"{name}.pid"),
            "MYPACK_GUNICORN_CONTROL_SOCKET": str(run_dir / f"{name}.ctl"),
            "MYPACK_GUNICORN_ERRORLOG": str(deployment.instance / "logs" / f"{name}.log"),
            **MALLOC_TUNING,
        }
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.deployment.instance / "logs" / f"{self.name}.log"

    def master_pid(self) -> int:
        return int((self.deployment.root / "run" / f"{self.name}.pid").read_text())

    def __enter__(self) -> Gunicorn:
        # As the systemd unit runs it: the whole server as the service user.
        self.process = subprocess.Popen(
            [*as_service_user(), str(self.deployment.venv / "bin" / "gunicorn"), "--config",
             str(self.deployment.share / "gunicorn.conf.py"), *([self.app] if self.app else [])],
            cwd=self.deployment.root, env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_http(self.url + "/healthz", accept=range(200, 600), process=self.process)
        return self

    def reload(self) -> None:
        """systemctl reload: HUP to the master (the unit's ExecReload)."""
        os.kill(self.master_pid(), signal.SIGHUP)

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- waiting and load ----------------------------------------------------------------------

def wait_for_http(url: str, accept=range(200, 300), timeout: float = 60,
                  process: subprocess.Popen | None = None) -> int:
    """Poll ``url`` until it answers with an accepted status; return that status."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            status, _ = get(url)
            if status in accept:
                return status
            last = status
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s (last: {last})")


def wait_for_steady(url: str, status: int, in_a_row: int = 20, timeout: float = 60) -> None:
    """Poll until ``in_a_row`` answers in a row have ``status``: every server process
    (they reload one by one) answers the same."""
    deadline = time.monotonic() + timeout
    streak, seen = 0, []
    while streak < in_a_row:
        assert time.monotonic() < deadline, f"{url} never answered {status} steadily: {seen[-30:]}"
        try:
            answer = get(url)[0]
        except OSError as exc:
            answer = repr(exc)
        seen.append(answer)
        streak = streak + 1 if answer == status else 0
        time.sleep(0.05)


def wait_gone(pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


#: What the TLS-terminating proxy in front of a deployment adds; the deployments trust
#: it (PROXY_FIX_X_PROTO), else production redirects plain HTTP to https://.
FORWARDED_HTTPS = {"X-Forwarded-Proto": "https"}


def fetch(url: str, headers: dict | None = None, timeout: float = 30,
          https: bool = True) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One GET on a new connection: (status, headers, body).

    ``https``: as if through the TLS proxy in front; False for plain HTTP, as a load
    balancer probes.
    """
    match = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)", url)
    connection = http.client.HTTPConnection(match[1], int(match[2]), timeout=timeout)
    try:
        connection.request("GET", match[3],
                           headers={**(FORWARDED_HTTPS if https else {}), **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def get(url: str, headers: dict | None = None, timeout: float = 30,
        https: bool = True) -> tuple[int, bytes]:
    """One GET on a new connection: (status, body); ``https`` as for :func:`fetch`."""
    status, _, body = fetch(url, headers, timeout, https)
    return status, body


def assert_served_behind_a_tls_proxy(url: str) -> None:
    """Plain HTTP: the health endpoints answer, pages redirect to https://, the API refuses.
    Through the proxy (X-Forwarded-Proto: https): pages with the security headers and HSTS."""
    for path in ("/healthz", "/readyz"):
        assert get(url + path, https=False)[0] == 200, path
    status, headers, _ = fetch(url + "/?from=plain", https=False)
    assert (status, headers["Location"]) == (301, "https" + url[4:] + "/?from=plain")
    assert get(url + "/api/v1/orders", https=False)[0] == 403
    status, headers, body = fetch(url + "/")
    assert status == 200 and "mypack café".encode() in body
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "object-src 'none'" in headers["Content-Security-Policy"]


@dataclass
class LoadResult:
    """What a load run saw: every response's end time, status and reported version."""

    responses: list[tuple[float, float, int, str | None]] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)
    #: The X-Request-ID of every request answered 2xx (each request sends its own,
    #: "<client>-<number>"), and the clients' names.
    answered_ids: list[str] = field(default_factory=list)
    clients: set[str] = field(default_factory=set)
    #: Every answered request's status, by its X-Request-ID.
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> list:
        """Connection errors and non-2xx answers."""
        bad = [(end, f"HTTP {status}") for _, end, status, _ in self.responses
               if not 200 <= status < 300]
        return self.errors + bad

    def versions_started_after(self, moment: float) -> set[str | None]:
        return {version for start, _, _, version in self.responses if start >= moment}

    def first_seen(self, version: str) -> float | None:
        times = [end for _, end, _, seen in self.responses if seen == version]
        return min(times) if times else None


class Load:
    """``clients`` keep-alive connections sending GETs in a loop, for a bounded time,
    as if through the TLS proxy in front (``headers``)."""

    def __init__(self, url: str, clients: int = 20, path: str | Sequence[str] = "/healthz",
                 headers: dict | None = None):
        match = re.fullmatch(r"http://([^:/]+):(\d+)", url)
        self.host, self.port, self.clients = match[1], int(match[2]), clients
        # Several paths: the clients take them in turn.
        self.paths = [path] if isinstance(path, str) else list(path)
        self.headers = FORWARDED_HTTPS if headers is None else headers
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Load:
        for number in range(self.clients):
            path = self.paths[number % len(self.paths)]
            thread = threading.Thread(target=self._client, args=(path,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _client(self, path: str) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        client = f"load-{os.urandom(4).hex()}"
        with self._lock:
            self.result.clients.add(client)
        for number in itertools.count():
            if self._stop.is_set():
                break
            started = time.monotonic()
            request_id = f"{client}-{number}"
            try:
                connection.request("GET", path,
                                   headers={**self.headers, "X-Request-ID": request_id})
                response = connection.getresponse()
                body = response.read()
                version = _version(body) if response.status == 200 else None
                with self._lock:
                    self.result.responses.append(
                        (started, time.monotonic(), response.status, version))
                    self.result.statuses[request_id] = response.status
                    if 200 <= response.status < 300:
                        self.result.answered_ids.append(request_id)
            except (OSError, http.client.HTTPException) as exc:
                with self._lock:
                    self.result.errors.append((time.monotonic(), repr(exc)))
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        connection.close()


def _version(body: bytes) -> str | None:
    """The version an answer of VERSIONED_PATHS names."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    return answer.get("version") or answer.get("info", {}).get("version")


#: Paths whose answers name the version of the code that served them: /healthz
#: (under Apache in the health checks' own daemon) and the API's OpenAPI document
#: (the daemons or workers that serve everything else).
VERSIONED_PATHS = ("/healthz", "/api/v1/openapi.json")


RELOAD_WITHIN = 3.0  # seconds from a reload until only the new code answers


def reload_under_load(url: str, deployment: Deployment, version: str, reload,
                      before: float = 3.0, after: float = 9.0) -> tuple[LoadResult, float]:
    """20 keep-alive clients on VERSIONED_PATHS; midway, new code (``version``) and
    ``reload()``.

    Returns what the clients saw and the moment of the reload.
    """
    with Load(url, path=VERSIONED_PATHS) as load:
        time.sleep(before)
        deployment.set_version(version)
        moment = time.monotonic()
        reload()
        time.sleep(after)
    return load.result, moment


_LOGGED_LOAD_REQUEST = re.compile(r"\|((load-[0-9a-f]{8})-\d+)\|mypack\.request\|")


def assert_every_request_logged(deployment: Deployment, result: LoadResult) -> None:
    """Each request the load had answered has exactly one request line in mypack.log
    (rotated files included), read after the server stopped: security bar, reliability
    6. Lines are written in batches, so this also proves what a process held was
    written when it was reloaded, recycled or stopped."""
    logged = []  # this load's lines only: the deployment may have served others
    for path in sorted((deployment.instance / "logs").glob("mypack.log*")):
        logged += [request_id for request_id, client in
                   _LOGGED_LOAD_REQUEST.findall(path.read_text(errors="replace"))
                   if client in result.clients]
    missing = set(result.answered_ids) - set(logged)
    assert not missing, f"{len(missing)} of {len(result.answered_ids)} requests not logged"
    assert len(logged) == len(set(logged)), "a request was logged twice"
    assert set(logged) <= set(result.answered_ids), "a request logged but never answered"


_LOGGED_STATUS = re.compile(
    r"\|((load-[0-9a-f]{8})-\d+)\|mypack\.request\|\S+ \S+ (\d{3}) ")


def logged_statuses(deployment: Deployment, result: LoadResult) -> dict[str, int]:
    """The status each of the load's requests has in its request line (mypack.log)."""
    logged = {}
    for path in sorted((deployment.instance / "logs").glob("mypack.log*")):
        for request_id, client, status in _LOGGED_STATUS.findall(
                path.read_text(errors="replace")):
            if client in result.clients:
                logged[request_id] = int(status)
    return logged


def assert_reloaded_cleanly(result: LoadResult, version: str, moment: float) -> None:
    """No request failed, and within RELOAD_WITHIN only ``version`` answered."""
    assert len(result.responses) > 500, "the load was not a load"
    assert result.failures == [], f"{len(result.failures)} failed: {result.failures[:5]}"
    first = result.first_seen(version)
    assert first is not None and first - moment <= RELOAD_WITHIN, (first, moment)
    assert result.versions_started_after(moment + RELOAD_WITHIN) == {version}



class DevelopmentSite:
    """``make run``'s site: the development server on a fresh instance with the demo
    data, for the browser test."""

    def __init__(self, instance: Path, port: int | None = None):
        import sys

        self.instance, self.port = instance, port or free_port()
        self.mypack = Path(sys.executable).with_name("mypack")
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "MYPACK_CONFIG": "development", "MYPACK_INSTANCE": str(instance),
                    "MYPACK_LOG_TO_STDERR": "false",
                    # Mail to files instead of the console, for the test to read.
                    "MYPACK_MAIL_BACKEND": "file",
                    "MYPACK_MAIL_FILE_PATH": str(instance / "mail")}
        self.process: subprocess.Popen | None = None
        self.demo_output = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DevelopmentSite:
        run(self.mypack, "init", env=self.env)
        run(self.mypack, "db", "upgrade", env=self.env)
        self.demo_output = run(self.mypack, "seed-demo", env=self.env).stdout
        self.process = subprocess.Popen(
            [str(self.mypack), "run", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_http(self.url + "/healthz", process=self.process)
        return self

    def demo_login(self, role: str) -> tuple[str, str]:
        """The demo account seed-demo printed for ``role``: (email, password)."""
        line = next(line for line in self.demo_output.splitlines()
                    if line.startswith(f"log in as {role}: "))
        email, password = line.split(": ", 1)[1].split(" / ")
        return email, password

    def mail(self) -> str:
        """Every mail the site has sent, as the file backend wrote them."""
        folder = self.instance / "mail"
        return "".join(path.read_text() for path in sorted(folder.glob("*"))) \
            if folder.is_dir() else ""

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
