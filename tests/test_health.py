"""/healthz and /readyz: liveness without the database, readiness with it."""

import socket

import pytest

from mypack import __version__
from tests.factories import upgrade

UNREACHABLE = "postgresql+psycopg2://nobody@127.0.0.1:1/none"


def test_healthz_is_up_without_touching_the_database(make_app):
    client = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "version": __version__}


def test_readyz_before_and_after_migrations(db_app):
    client = db_app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["reason"] == "database has no schema yet; run: mypack db upgrade"

    upgrade(db_app)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "version": __version__}


def test_readyz_reports_an_unreachable_database(make_app):
    response = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"].startswith("database unavailable: OperationalError:")
    assert "127.0.0.1" in response.json["reason"] and "port 1" in response.json["reason"]


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers: a hung database."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


def test_readyz_answers_within_its_timeout_when_the_database_hangs(make_app, silent_server):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg2://u@127.0.0.1:{silent_server}/d",
                   READYZ_TIMEOUT=0.5, DB_CONNECT_TIMEOUT=3)
    client = app.test_client()
    # The reason shows the probe gave up at READYZ_TIMEOUT, not at the 3 s connect
    # timeout; repeated probes share the check in flight.
    for _ in range(3):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["reason"] == "database did not answer within 0.5 s"


def test_health_endpoints_need_no_login(site):
    # A migrated database, no one logged in: both answer 200, neither redirects to login.
    client = site.test_client()
    assert client.get("/healthz").json == {"status": "ok", "version": __version__}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "version": __version__}
