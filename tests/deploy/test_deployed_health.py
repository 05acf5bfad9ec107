"""Health checks and lock waits while the database is locked, on the real servers
(issue 16, point 6).

Another session holds a lock on the menu's table (a stuck migration, a runaway
transaction) while 40 clients read the menu: each of their requests waits for the
lock. The lock on alembic_version stands for a database that cannot answer
/readyz's check. Then:

- every menu request ends within DB_LOCK_TIMEOUT as a 503, for every wave of
  requests the lock meets, not only the first, and the site serves again after;
- /healthz answers 200 within 2 s throughout, and /readyz says not ready within
  READYZ_TIMEOUT: under Apache they run in a daemon group of their own, under
  gunicorn in the server of deploy/systemd/mypack-health.service;
- behind the server, no request is refused or dropped.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from tests.support.servers import UNITS, Apache, Gunicorn, Load, fetch, logged_statuses

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgres", "mysql"])]

DB_LOCK_TIMEOUT = 2  # seconds, as the deployment is configured below
READYZ_TIMEOUT = 2
HEALTH_WITHIN = 2.0  # seconds: the most a balancer's health check may wait
LOCK_FOR = 7.0  # seconds: more than three waves of lock waits
LOCKED_TABLES = ("menu_items", "alembic_version")


@contextlib.contextmanager
def locked(server, tables):
    """Hold write locks on ``tables`` in another session until the block ends."""
    engine = create_engine(server.url)
    try:
        with engine.connect() as connection:
            if server.backend == "postgres":
                connection.execute(text(f"LOCK TABLE {', '.join(tables)} "
                                        "IN ACCESS EXCLUSIVE MODE"))
            else:
                connection.execute(text("LOCK TABLES " + ", ".join(
                    f"{table} WRITE" for table in tables)))
            try:
                yield
            finally:
                if server.backend == "mysql":
                    connection.execute(text("UNLOCK TABLES"))
                connection.rollback()
    finally:
        engine.dispose()


def unit_environment(unit: str) -> dict[str, str]:
    """The MYPACK_GUNICORN_* settings a shipped unit gives gunicorn."""
    return dict(re.findall(r"^Environment=(MYPACK_GUNICORN_\w+)=(.*)$",
                           (UNITS / unit).read_text(), flags=re.M))


@contextlib.contextmanager
def serving(serve: str, deployment):
    """The site, and where its health checks go: (site url, health url)."""
    if serve == "apache":
        with Apache(deployment) as apache:
            yield apache.url, apache.url
        return
    settings = unit_environment("mypack-health.service")
    health = Gunicorn(deployment, name="gunicorn-health",
                      workers=int(settings["MYPACK_GUNICORN_WORKERS"]),
                      threads=int(settings["MYPACK_GUNICORN_THREADS"]))
    with Gunicorn(deployment) as site, health:
        yield site.url, health.url


def probing(url: str, stop: threading.Event, answers: list) -> None:
    """As a balancer does: /healthz and /readyz over plain HTTP, on new connections."""
    while not stop.wait(0.25):
        for path in ("/healthz", "/readyz"):
            started = time.monotonic()
            status, _, _ = fetch(url + path, https=False, timeout=30)
            answers.append((path, status, time.monotonic() - started))


@pytest.mark.parametrize("serve", ["apache", "gunicorn"])
def test_health_answers_and_lock_waits_end_in_503_while_tables_are_locked(
        deployed, server, serve):
    with open(deployed.instance / "config.py", "a") as config:
        config.write(f"DB_LOCK_TIMEOUT = {DB_LOCK_TIMEOUT}\n"
                     f"READYZ_TIMEOUT = {READYZ_TIMEOUT}\n")
    stop, answers = threading.Event(), []
    with serving(serve, deployed) as (url, health_url):
        with Load(url, clients=40, path="/") as load:
            time.sleep(1)
            with locked(server, LOCKED_TABLES):
                locked_at = time.monotonic()
                prober = threading.Thread(target=probing, args=(health_url, stop, answers))
                prober.start()
                time.sleep(LOCK_FOR)
                stop.set()
                prober.join(timeout=60)
                unlocked_at = time.monotonic()
            time.sleep(2 * DB_LOCK_TIMEOUT + 2)  # the waves queued meanwhile, then 200s

    health = [(status, seconds) for path, status, seconds in answers if path == "/healthz"]
    ready = [(status, seconds) for path, status, seconds in answers if path == "/readyz"]
    assert len(health) >= 3, answers
    slow = [answer for answer in health if answer != (200, answer[1])
            or answer[1] > HEALTH_WITHIN]
    assert not slow, f"/healthz slow or failing while the database was locked: {health}"
    assert all(status == 503 and seconds <= READYZ_TIMEOUT + 1 for status, seconds in ready), \
        f"/readyz did not say 'not ready' in time: {ready}"

    result = load.result
    statuses = [status for _, _, status, _ in result.responses]
    assert not result.errors, result.errors[:5]
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    assert statuses[-40:] == [200] * 40, "the site did not serve again after the lock"
    # Every wave met the lock and was let go: 503s end throughout the lock, about
    # DB_LOCK_TIMEOUT apart, not only once.
    ends = [end for _, end, status, _ in result.responses if status == 503]
    wave = locked_at
    while wave + DB_LOCK_TIMEOUT <= unlocked_at:
        window = (wave + DB_LOCK_TIMEOUT, wave + 2 * DB_LOCK_TIMEOUT + 1)
        assert any(window[0] <= end <= window[1] for end in ends), \
            f"no request let go between {window[0] - locked_at:.1f} s and " \
            f"{window[1] - locked_at:.1f} s of the lock"
        wave += DB_LOCK_TIMEOUT
    # Each waited for at most the lock timeout: the request lines' own durations.
    waits = logged_durations(deployed, result, status=503)
    assert waits and max(waits) < 2 * DB_LOCK_TIMEOUT * 1000, max(waits, default=None)
    logged = logged_statuses(deployed, result)
    assert all(logged.get(rid) == status for rid, status in result.statuses.items())


_LOGGED_DURATION = re.compile(
    r"\|((load-[0-9a-f]{8})-\d+)\|mypack\.request\|GET \S+ (\d{3}) ([\d.]+)ms")


def logged_durations(deployment, result, status: int) -> list[float]:
    """The milliseconds the request lines give the load's requests answered ``status``."""
    durations = []
    for path in sorted((deployment.instance / "logs").glob("mypack.log*")):
        for _, client, logged, milliseconds in _LOGGED_DURATION.findall(
                path.read_text(errors="replace")):
            if client in result.clients and int(logged) == status:
                durations.append(float(milliseconds))
    return durations
