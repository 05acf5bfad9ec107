"""A database connection that dies in the middle of a request, on the real servers.

The connection a request holds is killed by the server's administrator (PostgreSQL's
pg_terminate_backend, MariaDB's KILL), as a server restart does to it, at the moment
that used to slip past mypack's handlers: after the view's last statement (the
transaction's end then failed in Flask's teardown, after the request line had said
200), and inside an order's flush (the 503 handler then left an expired, detached
user that a later hook touched). Every such request is answered 503 with
Retry-After, in the JSON or HTML shape, and its request line says 503.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading

import pytest
from sqlalchemy import create_engine, event, text

from mypack.extensions import db
from tests.conftest import TEST_USER
from tests.factories import PASSWORD, add_items, add_people, auth, login

pytestmark = pytest.mark.parametrize("backend", ["postgres", "mysql"])

CONNECTION_ID = {"postgres": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
KILL = {"postgres": "SELECT pg_terminate_backend({})", "mysql": "KILL {}"}


@pytest.fixture
def app(migrated_app, server):
    add_people(migrated_app, ("customer", "staff"))
    migrated_app.item_ids = list(add_items(migrated_app, [("Espresso", "coffee", "2.50", True)])
                                 .values())
    migrated_app.kill_connection = functools.partial(kill_connection, server)
    return migrated_app


#: The database refuses the suite's user, and drops its connections: an outage of the
#: test's own database that leaves every other user of the server alone.
REFUSE = {
    "postgres": ["ALTER DATABASE {database} ALLOW_CONNECTIONS false",
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE datname = '{database}'"],
    "mysql": ["ALTER USER '{user}'@'localhost' ACCOUNT LOCK",
              "ALTER USER '{user}'@'127.0.0.1' ACCOUNT LOCK"],
}
ADMIT = {
    "postgres": ["ALTER DATABASE {database} ALLOW_CONNECTIONS true"],
    "mysql": ["ALTER USER '{user}'@'localhost' ACCOUNT UNLOCK",
              "ALTER USER '{user}'@'127.0.0.1' ACCOUNT UNLOCK"],
}


@contextlib.contextmanager
def database_down(server):
    def run(statements):
        with server.admin.connect() as admin:
            for statement in statements:
                admin.execute(text(statement.format(database=server.head_database, user=TEST_USER)))
            if server.backend == "mysql":
                rows = admin.execute(text("SELECT id FROM information_schema.processlist "
                                          "WHERE user = :user"), {"user": TEST_USER})
                for (connection,) in rows.all():
                    admin.execute(text(f"KILL {int(connection)}"))
    run(REFUSE[server.backend])
    try:
        yield
    finally:
        run(ADMIT[server.backend])


def kill_connection(server) -> None:
    """Kill the connection the request's session holds, from the administrator's side."""
    backend_id = db.session.execute(text(CONNECTION_ID[server.backend])).scalar()
    with server.admin.connect() as admin:
        admin.execute(text(KILL[server.backend].format(int(backend_id))))


def killing_after(app, endpoint: str) -> None:
    """Make ``endpoint``, the next time it runs, kill its connection once it has done
    all its work."""
    view = app.view_functions[endpoint]

    @functools.wraps(view)
    def view_then_kill(*args, **kwargs):
        answer = view(*args, **kwargs)
        app.view_functions[endpoint] = view
        app.kill_connection()
        return answer

    app.view_functions[endpoint] = view_then_kill


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "mypack.request"]


def assert_503(response, *, json: bool) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    if json:
        assert response.get_json()["error"]["status"] == 503
    else:
        assert "503" in response.text and "briefly unavailable" in response.text


def test_a_connection_killed_after_the_api_read_is_a_503(app, caplog):
    endpoint = app.url_map.bind("localhost").match("/api/v1/items")[0]
    killing_after(app, endpoint)
    caplog.set_level(logging.INFO, logger="mypack.request")
    response = app.test_client().get("/api/v1/items", headers=auth("customer"))
    assert_503(response, json=True)
    [line] = request_lines(caplog)
    assert line.status == 503
    # The pool gave the dead connection up: the next request is served.
    assert app.test_client().get("/api/v1/items", headers=auth("customer")).status_code == 200


def test_a_connection_killed_after_a_page_for_a_logged_in_user_is_a_503(app, caplog):
    client = app.test_client()
    login(client, email="staff@example.com", password=PASSWORD)
    killing_after(app, "orders.queue")
    caplog.set_level(logging.INFO, logger="mypack.request")
    caplog.clear()
    response = client.get("/staff/queue")
    assert_503(response, json=False)
    assert [line.status for line in request_lines(caplog)] == [503]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert client.get("/staff/queue").status_code == 200


@pytest.mark.parametrize("path", ["/staff/queue", "/", "/no-such-page"])
def test_pages_of_a_logged_in_user_while_the_database_is_down_are_503_pages(
        app, server, caplog, path):
    client = app.test_client()
    login(client, email="staff@example.com", password=PASSWORD)
    caplog.set_level(logging.INFO, logger="mypack.request")
    caplog.clear()
    with database_down(server):
        response = client.get(path)
    assert_503(response, json=False)
    # The page names no account: it could not be loaded.
    assert "Log out" not in response.text and "/auth/profile" not in response.text
    assert [line.status for line in request_lines(caplog)] == [503]
    assert client.get("/staff/queue").status_code == 200


def backend_id(dbapi_connection) -> int:
    """The server's id of a driver connection (psycopg2, MySQLdb)."""
    if hasattr(dbapi_connection, "get_backend_pid"):
        return dbapi_connection.get_backend_pid()
    return dbapi_connection.thread_id()


@pytest.mark.parametrize("replayed", [False, True], ids=["new", "replayed"])
def test_an_order_whose_connection_dies_before_any_of_its_statements_is_a_503(
        app, server, caplog, replayed):
    """The connection is killed just before the request's 1st statement, then, in the
    next request, before its 2nd, and so on, until a request runs out of statements."""
    espresso = app.item_ids[0]
    order = {"lines": [{"item_id": espresso, "quantity": 1}], "submission_key": "key-00001"}
    client = app.test_client()
    if replayed:  # the key is taken: the order's INSERT fails, and the first is looked up
        assert client.post("/api/v1/orders", headers=auth("customer"), json=order
                           ).status_code == 201
    caplog.set_level(logging.INFO, logger="mypack.request")
    with app.app_context():
        engine = db.engine
    executed = 0
    kill_at = 0

    requests = threading.get_ident()  # not the outbox's thread, which delivers beside

    def kill_before(conn, cursor, statement, parameters, context, executemany):
        nonlocal executed
        if threading.get_ident() != requests:
            return
        executed += 1
        if executed == kill_at:
            with server.admin.connect() as admin:
                admin.execute(text(KILL[server.backend].format(
                    backend_id(conn.connection.dbapi_connection))))

    event.listen(engine, "before_cursor_execute", kill_before)
    try:
        for kill_at in range(1, 30):
            executed = 0
            caplog.clear()
            response = client.post("/api/v1/orders", headers=auth("customer"), json=order)
            if executed < kill_at:  # this request ran out of statements before the kill
                break
            assert_503(response, json=True)
            assert [line.status for line in request_lines(caplog)] == [503], kill_at
        else:
            pytest.fail("the order never ran out of statements")
    finally:
        event.remove(engine, "before_cursor_execute", kill_before)
    assert kill_at > 3  # the user, the items, the order: each was killed once
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(text("SELECT COUNT(*) FROM orders")) == 1


LOCK_TABLE = {"postgres": "LOCK TABLE menu_items IN ACCESS EXCLUSIVE MODE",
              "mysql": "LOCK TABLES menu_items WRITE"}


def test_requests_waiting_on_a_locked_table_are_answered_503_wave_after_wave(
        app, server, caplog):
    """A table locked by another session (a long migration, an operator's LOCK): each
    request waits DB_LOCK_TIMEOUT, not the statement timeout, and is answered 503, in
    every wave, so server threads come free."""
    caplog.set_level(logging.ERROR, logger="mypack")
    holder_engine = create_engine(server.head_url)  # the app's database
    answers = []

    def read_items():
        answers.append(app.test_client().get("/api/v1/items", headers=auth("customer")))

    try:
        with holder_engine.connect() as holder:
            holder.execute(text(LOCK_TABLE[server.backend]))
            for _wave in range(3):
                threads = [threading.Thread(target=read_items) for _ in range(4)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
            if server.backend == "mysql":
                holder.execute(text("UNLOCK TABLES"))
            holder.rollback()
    finally:
        holder_engine.dispose()
    assert len(answers) == 12
    for response in answers:
        assert_503(response, json=True)
    reasons = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(reasons) == 12 and all("lock" in reason.lower() for reason in reasons), reasons
    assert app.test_client().get("/api/v1/items", headers=auth("customer")).status_code == 200
