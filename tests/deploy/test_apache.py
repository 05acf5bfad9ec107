"""mypack deployed under the real Apache 2.4 with mod_wsgi in daemon mode.

The deployment is built as the README's "Deploy under Apache" chapter says: its own
venv from Debian's Python, mod_wsgi built into it, start.wsgi, an instance folder
owned by www-data, the vhost from ``mypack apache-config``.
"""

import http.client
import os
import subprocess
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from tests.support.servers import (
    RELOAD_WITHIN,
    ROOT,
    VERSIONED_PATHS,
    Apache,
    Load,
    assert_every_request_logged,
    assert_reloaded_cleanly,
    assert_served_behind_a_tls_proxy,
    build_wheel,
    chown_tree,
    get,
    reload_under_load,
    wait_for_steady,
)

pytestmark = pytest.mark.slow



@pytest.mark.parametrize("backend", ["postgres"])
def test_rendered_vhost_passes_apache_configtest(deployed):
    apache = Apache(deployed)
    result = apache.check_config()
    assert result.returncode == 0, result.stderr
    assert "Syntax OK" in result.stderr
    # The deployment, with this vhost, passes the production checklist.
    report = deployed.mypack("check", "--deploy", "--vhost", apache.dir / "mypack.conf")
    assert "no problems found" in report.stdout, report.stdout


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_apache_serves_health_readiness_and_authorization(deployed):
    with Apache(deployed) as apache:
        status, body = get(apache.url + "/healthz")
        assert status == 200 and b'"version":"1.0.0"' in body.replace(b" ", b"")
        status, body = get(apache.url + "/readyz")
        assert status == 200, body
        # The app sees the Authorization header: its request line names the scheme.
        get(apache.url + "/healthz?probe=auth", headers={"Authorization": "Bearer abc123"})
        status, _ = get(apache.url + "/static/css/site.css")
        assert status == 200
        # Request lines reach the file while the daemons run, not only when they exit.
        get(apache.url + "/healthz", headers={"X-Request-ID": "apache-live-line"})
        deployed.wait_for_log("|apache-live-line|mypack.request|GET /healthz 200")
    log = (deployed.instance / "logs" / "mypack.log").read_text()
    assert "GET /healthz 200" in log
    assert "auth=bearer" in log, "Authorization did not reach the app (WSGIPassAuthorization)"
    assert "abc123" not in log


@pytest.mark.parametrize("backend", ["postgres"])
def test_apache_behind_a_tls_proxy_redirects_plain_http_but_not_health(deployed):
    with Apache(deployed) as apache:
        assert_served_behind_a_tls_proxy(apache.url)


@pytest.mark.parametrize("backend", ["postgres"])
def test_static_files_are_served_by_apache_with_long_cache(deployed):
    with Apache(deployed) as apache:
        connection = http.client.HTTPConnection("127.0.0.1", apache.port, timeout=10)
        connection.request("GET", "/static/css/site.css?v=1.0.0")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Cache-Control") == "public, max-age=31536000"
        assert b"--accent" in response.read()
        connection.close()
        # The instance folder and the venv are not reachable.
        for path in ("/instance/secret_key", "/start.wsgi", "/venv/bin/python"):
            assert get(apache.url + path)[0] == 404, path


@pytest.mark.parametrize("backend", ["postgres"])
def test_touch_reload_under_load_fails_no_request(deployed):
    with Apache(deployed) as apache:
        result, touched = reload_under_load(apache.url, deployed, "2.0.0", deployed.touch)
    assert_reloaded_cleanly(result, "2.0.0", touched)
    assert_every_request_logged(deployed, result)


@pytest.mark.parametrize("backend", ["postgres"])
def test_touch_reload_lets_slow_requests_finish(deployed, server):
    # The menu waits on menu_items while a migration-like lock holds it, longer than
    # mod_wsgi's default 5 s shutdown-timeout; the shipped vhost allows 30 s.
    hold_seconds = 8
    slow_results = []
    # Here a lock wait stands for a slow request: let it wait longer than the hold
    # (DB_LOCK_TIMEOUT would otherwise answer it 503 after 2 s).
    with open(deployed.instance / "config.py", "a") as config:
        config.write("DB_LOCK_TIMEOUT = 30\n")

    def slow_request():
        slow_results.append(get(apache.url + "/", timeout=60))

    locker = create_engine(server.url)
    with Apache(deployed) as apache, locker.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("LOCK TABLE menu_items IN ACCESS EXCLUSIVE MODE"))
        slow = [threading.Thread(target=slow_request) for _ in range(3)]
        with Load(apache.url, clients=20, path=VERSIONED_PATHS) as load:
            for thread in slow:
                thread.start()
            time.sleep(1.5)
            deployed.set_version("3.0.0")
            deployed.touch()
            time.sleep(hold_seconds - 1.5)
            transaction.rollback()
            for thread in slow:
                thread.join(timeout=60)
            time.sleep(2)
    locker.dispose()
    assert [status for status, _ in slow_results] == [200, 200, 200], slow_results
    assert load.result.failures == [], load.result.failures[:5]
    assert "3.0.0" in load.result.versions_started_after(0)


@pytest.fixture
def secret_key_file(deployed):
    """The deployment's secret key file, put back as it was whatever the test does."""
    secret = deployed.instance / "secret_key"
    key = secret.read_bytes()
    yield secret
    secret.write_bytes(key)
    secret.chmod(0o600)
    chown_tree(deployed.instance)


@pytest.mark.parametrize("backend", ["postgres"])
def test_broken_start_gives_503_and_one_log_line_then_a_touch_recovers(deployed,
                                                                       secret_key_file):
    key = secret_key_file.read_bytes()
    # One daemon process: with several, each notices the touch on its next request,
    # and the answers are mixed for a moment.
    with Apache(deployed, processes=1) as apache:
        master = apache.master_pid()
        assert get(apache.url + "/healthz")[0] == 200

        secret_key_file.unlink()
        deployed.touch()
        # Both daemon groups: the health checks' and the one serving the rest.
        for path in ("/healthz", "/"):
            wait_for_steady(apache.url + path, 503)
        status, body = get(apache.url + "/healthz")
        assert status == 503 and b"could not start" in body and b"secret" not in body
        log = apache.error_log()
        lines = [line for line in log.splitlines() if "mypack cannot start" in line]
        assert lines, log[-2000:]
        assert f"{secret_key_file} is missing; create it with: mypack --instance" in lines[-1]
        assert "Traceback" not in log

        secret_key_file.write_bytes(key)
        secret_key_file.chmod(0o600)
        chown_tree(deployed.instance)
        deployed.touch()
        for path in ("/healthz", "/"):
            wait_for_steady(apache.url + path, 200)
        assert apache.master_pid() == master, "Apache was restarted"


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_start_that_failed_for_a_healing_cause_recovers_without_a_reload(deployed):
    apache = Apache(deployed)  # renders the vhost first (as root)
    log = deployed.instance / "logs" / "mypack.log"
    log.touch()
    os.chown(log, 0, 0)  # as a command run as root once left it
    try:
        with apache:
            for path in ("/healthz", "/"):
                wait_for_steady(apache.url + path, 503)
            assert "log directory" in apache.error_log()
            master = apache.master_pid()
            chown_tree(deployed.instance)  # the operator's fix; no touch, no restart
            for path in ("/healthz", "/"):
                wait_for_steady(apache.url + path, 200, timeout=30)
            assert apache.master_pid() == master
            assert "mypack started, after: mypack cannot start" in apache.error_log()
    finally:
        chown_tree(deployed.instance)


@pytest.mark.parametrize("backend", ["postgres"])
def test_apache_config_run_as_root_leaves_the_log_to_the_service_user(deployed):
    logs = deployed.instance / "logs"
    for path in logs.glob("*mypack*"):
        path.unlink()
    with Apache(deployed) as apache:  # renders the vhost with mypack apache-config, as root
        for path in logs.iterdir():
            assert path.owner() == "www-data", f"{path} is {path.owner()}'s"
        wait_for_steady(apache.url + "/healthz", 200)


# --- deploy/deploy.sh ----------------------------------------------------------------------

def deploy(deployment, package, *options) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "deploy" / "deploy.sh"), *options,
                           str(deployment.root), str(package)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("backend", ["postgres"])
def test_deploy_script_releases_under_load(deployed, tmp_path):
    release = build_wheel(tmp_path, version="5.0.0")
    with Apache(deployed) as apache, Load(apache.url, clients=20,
                                          path=VERSIONED_PATHS) as load:
        result = deploy(deployed, release)
        assert result.returncode == 0, result.stdout + result.stderr
        done = time.monotonic()
        time.sleep(RELOAD_WITHIN + 1)
    assert "deploy: 5/5 reloading (touch)" in result.stdout
    assert load.result.failures == [], load.result.failures[:5]
    assert load.result.versions_started_after(done + RELOAD_WITHIN) == {"5.0.0"}
    assert '__version__ = "5.0.0"' in deployed.package_file("version.py").read_text()


@pytest.mark.parametrize("backend", ["postgres"])
def test_deploy_script_stops_at_a_failed_check_and_keeps_the_running_version(
        deployed, secret_key_file, tmp_path):
    release = build_wheel(tmp_path, version="6.0.0")
    with Apache(deployed) as apache:
        secret_key_file.chmod(0o644)  # check --deploy refuses a readable secret
        result = deploy(deployed, release)
        assert result.returncode == 1
        assert "deploy: FAILED: mypack check --deploy found errors" in result.stderr
        assert "4/5" not in result.stdout
        assert b'"1.0.0"' in get(apache.url + "/healthz")[1].replace(b" ", b"")
    assert '__version__ = "1.0.0"' in deployed.package_file("version.py").read_text()


@pytest.mark.parametrize("backend", ["postgres"])
def test_deploy_script_stops_when_the_release_does_not_install(deployed, tmp_path):
    result = deploy(deployed, tmp_path / "no-such-release.whl")
    assert result.returncode == 1
    assert "deploy: FAILED: pip could not install" in result.stderr
    assert not list(deployed.root.glob(".staging-*")), "the staging venv was left behind"
