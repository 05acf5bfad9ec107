"""mypack under gunicorn with the shipped deploy/gunicorn.conf.py and systemd units."""

import collections
import os
import re
import shlex
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.support.servers import (
    ROOT,
    UNITS,
    Gunicorn,
    Load,
    assert_every_request_logged,
    assert_reloaded_cleanly,
    assert_served_behind_a_tls_proxy,
    chown_tree,
    get,
    reload_under_load,
    wait_for_http,
    wait_for_steady,
)
from tests.support.system import command

pytestmark = pytest.mark.slow


def unit_setting(unit: str, key: str) -> str:
    """The value of ``key=`` in a shipped unit file."""
    (value,) = re.findall(rf"^{key}=(.*)$", (UNITS / unit).read_text(), flags=re.M)
    return value


def for_deployment(text: str, deployment) -> str:
    """A shipped file adjusted the way the README says: paths and the service user."""
    return (text.replace("/srv/mypack", str(deployment.root))
            .replace("User=mypack", "User=www-data").replace("Group=mypack", "Group=www-data")
            .replace("create 0640 mypack mypack", "create 0640 www-data www-data"))


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_gunicorn_serves_health_readiness_and_authorization(deployed):
    with Gunicorn(deployed) as server:
        assert get(server.url + "/healthz")[0] == 200
        status, body = get(server.url + "/readyz")
        assert status == 200, body
        get(server.url + "/healthz", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        # Request lines reach the file while the workers run, not only when they exit.
        get(server.url + "/healthz", headers={"X-Request-ID": "gunicorn-live-line"})
        deployed.wait_for_log("|gunicorn-live-line|mypack.request|GET /healthz 200")
    log = (deployed.instance / "logs" / "mypack.log").read_text()
    assert "auth=basic" in log and "dXNlcjpwYXNz" not in log
    assert "Booting worker" in server.log.read_text()


@pytest.mark.parametrize("backend", ["postgres"])
def test_gunicorn_behind_a_tls_proxy_redirects_plain_http_but_not_health(deployed):
    with Gunicorn(deployed) as server:
        assert_served_behind_a_tls_proxy(server.url)


@pytest.mark.parametrize("backend", ["postgres"])
def test_hup_under_load_fails_no_request_and_serves_new_code(deployed):
    def exec_reload():  # the unit's ExecReload, with systemd's $MAINPID
        command = unit_setting("mypack.service", "ExecReload")
        subprocess.run(shlex.split(command.replace("$MAINPID", str(server.master_pid()))),
                       check=True)

    with Gunicorn(deployed) as server:
        result, reloaded = reload_under_load(server.url, deployed, "2.0.0", exec_reload)
    assert_reloaded_cleanly(result, "2.0.0", reloaded)
    assert_every_request_logged(deployed, result)


@pytest.mark.parametrize("backend", ["postgres"])
def test_workers_recycled_under_load_fail_no_request(deployed):
    # max_requests is the shipped leak guard; lowered here so that it fires often.
    server = Gunicorn(deployed)
    server.env.update(MYPACK_GUNICORN_MAX_REQUESTS="300",
                      MYPACK_GUNICORN_MAX_REQUESTS_JITTER="150")
    with server, Load(server.url, clients=20) as load:
        # At least 4 recycles and 1,200 answers: with a jitter, 4 recycles alone may
        # come after as few as 600 requests.
        deadline = time.monotonic() + 60
        while (server.log.read_text().count("Autorestarting worker") < 4
               or len(load.result.responses) <= 1200):
            assert time.monotonic() < deadline, "no worker was recycled"
            time.sleep(0.2)
    assert not load.result.failures, load.result.failures[:5]
    # A recycled worker writes the lines it held before it exits.
    assert_every_request_logged(deployed, load.result)


class PathUnitWatcher:
    """What systemd does for mypack-reload.path, without systemd: watch the unit's
    PathChanged file and run its service's ExecStart when the file changes."""

    def __init__(self, deployment):
        self.path = Path(for_deployment(unit_setting("mypack-reload.path", "PathChanged"),
                                        deployment))
        assert unit_setting("mypack-reload.path", "Unit") == "mypack-reload.service"
        self.command = for_deployment(unit_setting("mypack-reload.service", "ExecStart"),
                                      deployment)
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _stamp(self):
        info = self.path.stat()
        return info.st_mtime_ns, info.st_ctime_ns

    def _watch(self):
        seen = self._stamp()
        while not self._stop.wait(0.05):
            if self._stamp() != seen:
                seen = self._stamp()
                subprocess.run(shlex.split(self.command), check=True)
                self.runs += 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)


def connections_per_worker(server) -> dict[str, int]:
    """Established client connections of the server's port, by the process holding them."""
    listing = subprocess.run([command("ss"), "-tnpH", "state", "established",
                              f"( sport = :{server.port} )"],
                             capture_output=True, text=True, check=True).stdout
    return dict(collections.Counter(re.findall(r"pid=(\d+)", listing)))


@pytest.mark.parametrize("backend", ["postgres"])
def test_keep_alive_clients_are_spread_over_the_workers(deployed):
    # Uncapped, one worker may take every kept-alive connection of a proxy and leave
    # the other idle (half the time, with 20 clients on 2 workers); the shipped config
    # lets a worker hold 3 x threads clients, and the rest go to the other.
    with Gunicorn(deployed, workers=2, threads=5) as server:
        with Load(server.url, clients=20) as load:
            samples = []
            for _ in range(5):
                time.sleep(0.5)
                samples.append(connections_per_worker(server))
    assert not load.result.failures, load.result.failures[:5]
    assert len(load.result.responses) > 100
    for spread in samples:
        assert len(spread) == 2 and max(spread.values()) <= 15, samples


@pytest.mark.parametrize("backend", ["postgres"])
def test_touching_start_wsgi_reloads_gunicorn_through_the_path_unit(deployed):
    assert unit_setting("mypack-reload.path", "PathChanged") == "/srv/mypack/start.wsgi"
    with Gunicorn(deployed) as server, PathUnitWatcher(deployed) as watcher:
        result, touched = reload_under_load(server.url, deployed, "4.0.0", deployed.touch)
    assert watcher.runs == 1
    assert_reloaded_cleanly(result, "4.0.0", touched)


@pytest.mark.parametrize("backend", ["postgres"])
def test_shipped_gunicorn_config_passes_check_deploy(deployed):
    report = deployed.mypack("check", "--deploy", "--gunicorn-conf",
                             deployed.share / "gunicorn.conf.py")
    assert "no problems found" in report.stdout, report.stdout


@pytest.mark.parametrize("backend", ["postgres"])
def test_systemd_units_verify(deployed, tmp_path):
    units = []
    for unit in ("mypack.service", "mypack-health.service", "mypack-reload.path",
                 "mypack-reload.service", "mypack-worker.service", "mypack-beat.service"):
        (tmp_path / unit).write_text(for_deployment((UNITS / unit).read_text(), deployed))
        units.append(str(tmp_path / unit))
    result = subprocess.run([command("systemd-analyze"), "verify", *units], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for unit in ("mypack.service", "mypack-health.service", "mypack-worker.service",
                 "mypack-beat.service"):
        service = (UNITS / unit).read_text()
        for setting in ("NoNewPrivileges=true", "ProtectSystem=strict", "PrivateTmp=true",
                        "ReadWritePaths=/srv/mypack/instance", "User=mypack",
                        "Environment=MALLOC_ARENA_MAX=2",
                        "Environment=MALLOC_TRIM_THRESHOLD_=131072"):
            assert setting in service, (unit, setting)
    # The health checks' server starts, stops and reloads with the site's.
    health = (UNITS / "mypack-health.service").read_text()
    for setting in ("PartOf=mypack.service", "ReloadPropagatedFrom=mypack.service",
                    "WantedBy=mypack.service"):
        assert setting in health, setting


@pytest.mark.parametrize("backend", ["postgres"])
def test_logrotate_rotates_gunicorns_log_and_leaves_mypacks_alone(deployed, tmp_path):
    config = tmp_path / "mypack.logrotate"
    config.write_text(for_deployment((ROOT / "deploy" / "logrotate" / "mypack").read_text(),
                                     deployed))
    logs = deployed.instance / "logs"
    with Gunicorn(deployed) as server:
        get(server.url + "/healthz")
        before = sorted(p.name for p in logs.iterdir())
        subprocess.run([command("logrotate"), "-f", "-s", str(tmp_path / "state"), str(config)],
                       check=True)
        # gunicorn reopened its log (USR1): what it logs now lands in the new file.
        server.reload()
        wait_for_http(server.url + "/healthz")
        deadline = time.monotonic() + 10
        while "Handling signal: hup" not in (logs / "gunicorn.log").read_text():
            assert time.monotonic() < deadline, "gunicorn kept writing the rotated file"
            time.sleep(0.2)
    after = sorted(p.name for p in logs.iterdir())
    assert "gunicorn.log.1" in after and "Booting worker" in (logs / "gunicorn.log.1").read_text()
    assert [name for name in after if name.startswith("mypack.log")] == \
        [name for name in before if name.startswith("mypack.log")]


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_start_that_failed_for_a_healing_cause_recovers_without_a_reload(deployed):
    log = deployed.instance / "logs" / "mypack.log"
    log.touch()
    os.chown(log, 0, 0)  # as a command run as root once left it
    try:
        with Gunicorn(deployed) as server:
            wait_for_steady(server.url + "/healthz", 503)
            master = server.master_pid()
            chown_tree(deployed.instance)  # the operator's fix; no HUP, no restart
            wait_for_steady(server.url + "/healthz", 200, timeout=30)
            assert server.master_pid() == master
    finally:
        chown_tree(deployed.instance)
