"""Database connections killed under load, on the real servers (issue 16, point 1).

While 20 clients read the menu page (a database query each) through Apache or
gunicorn, the database server kills the application's connections again and again, as
restarts do. No request may end in a 500 or a server's error page: each is answered
200 or 503, and each request line in mypack.log says the status the client got.
"""

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.conftest import TEST_USER
from tests.support.servers import Apache, Gunicorn, Load, logged_statuses

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgres", "mysql"])]

KILL_EVERY = 0.1  # seconds
KILL_FOR = 5.0


def killing_connections(server, stop: threading.Event) -> list[int]:
    """Kill the suite user's connections every KILL_EVERY seconds until ``stop``."""
    killed = []
    admin = server.admin
    while not stop.wait(KILL_EVERY):
        with admin.connect() as connection:
            if server.backend == "postgres":
                rows = connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE usename = :user AND pid <> pg_backend_pid()"), {"user": TEST_USER})
                killed.append(len(rows.all()))
            else:
                ids = connection.execute(text(
                    "SELECT id FROM information_schema.processlist WHERE user = :user"),
                    {"user": TEST_USER}).scalars().all()
                for connection_id in ids:
                    try:
                        connection.execute(text(f"KILL {int(connection_id)}"))
                    except OperationalError:  # it ended meanwhile (1094, unknown thread)
                        pass
                killed.append(len(ids))
    return killed


@pytest.mark.parametrize("serve", [Apache, Gunicorn], ids=["apache", "gunicorn"])
def test_connections_killed_under_load_never_give_a_500(deployed, server, serve):
    stop = threading.Event()
    kills: list[int] = []
    with serve(deployed) as running:
        with Load(running.url, clients=20, path="/") as load:
            time.sleep(1)
            killer = threading.Thread(target=lambda: kills.extend(
                killing_connections(server, stop)))
            killer.start()
            time.sleep(KILL_FOR)
            stop.set()
            killer.join(timeout=30)
            time.sleep(1)  # and the service answers again
    result = load.result
    assert sum(kills) > 10, kills
    statuses = [status for _, _, status, _ in result.responses]
    assert len(statuses) > 200 and not result.errors, result.errors[:5]
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    assert statuses[-20:] == [200] * 20
    logged = logged_statuses(deployed, result)
    wrong = {rid: (status, logged.get(rid)) for rid, status in result.statuses.items()
             if logged.get(rid) != status}
    assert not wrong, f"{len(wrong)} request lines disagree with the answer: " \
                      f"{list(wrong.items())[:5]}"
