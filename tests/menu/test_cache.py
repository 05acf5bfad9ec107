"""Anonymous reads of the public menu come from a cache (mypack/menu/cache.py): fresh
after a change through the services, fresh for anybody with credentials, bounded in
age everywhere else, and never a reason for a request to fail."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from mypack.extensions import cache, db
from mypack.menu import service
from mypack.menu.models import MenuItem
from tests.factories import EMAILS, auth, login, seed_menu, upgrade

URL = "/api/v1/items?per_page=20"


@pytest.fixture
def make_cached_app(make_app, migrated_sqlite):
    """Apps with a menu cache, all on one migrated SQLite file (as processes sharing a
    database would be)."""
    database = migrated_sqlite()

    def make(**settings):
        return make_app(**{"SQLALCHEMY_DATABASE_URI": database, "CACHE_TYPE": "SimpleCache",
                           **settings})
    return make


@pytest.fixture
def cached(make_cached_app):
    app = make_cached_app()
    seed_menu(app)
    return app


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["name"] for item in response.get_json()["items"]]


def rename_behind_the_services(app, old: str, new: str) -> None:
    """A change the cache is not told about (another process, a database console)."""
    with app.app_context():
        item = db.session.scalar(select(MenuItem).where(MenuItem.name == old))
        item.name = new
        db.session.commit()


def test_anonymous_reads_are_answered_from_the_cache(cached):
    client = cached.test_client()
    first = client.get(URL)
    rename_behind_the_services(cached, "Espresso", "Ristretto")
    again = client.get(URL)
    assert names(again) == names(first)
    assert "Espresso" in names(again)
    # The cached answer is the whole answer; what is per request is still per request.
    assert again.get_json() == first.get_json()
    assert again.headers["Link"] == first.headers["Link"]
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert again.headers["X-Content-Type-Options"] == "nosniff"
    # Another query string is another answer.
    assert names(client.get(URL + "&q=ristretto")) == ["Ristretto"]


def test_a_change_through_the_services_is_seen_at_once(cached):
    client = cached.test_client()
    assert "Espresso" in names(client.get(URL))
    with cached.app_context():
        espresso = db.session.scalar(select(MenuItem).where(MenuItem.name == "Espresso"))
        service.set_available([espresso.id], False)
    items = {item["name"]: item for item in client.get(URL).get_json()["items"]}
    assert items["Espresso"]["available"] is False

    # The API's own writes go through the services too.
    response = client.patch(f"/api/v1/items/{espresso.id}", json={"name": "Doppio"},
                            headers=auth("staff"))
    assert response.status_code == 200
    assert "Doppio" in names(client.get(URL))


def test_requests_with_credentials_are_answered_fresh(cached):
    client = cached.test_client()
    client.get(URL)
    rename_behind_the_services(cached, "Espresso", "Ristretto")
    assert "Ristretto" in names(client.get(URL, headers=auth("customer")))
    login(client, email=EMAILS["customer"])
    assert "Ristretto" in names(client.get(URL))
    assert "Espresso" in names(cached.test_client().get(URL))  # still anonymous


def test_a_failed_answer_is_not_kept(make_cached_app, tmp_path):
    app = make_cached_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite'}")
    client = app.test_client()
    # No schema yet: the database fails the request, as in an outage.
    assert client.get(URL).status_code >= 500
    upgrade(app)
    seed_menu(app)
    assert "Espresso" in names(client.get(URL))


def test_a_cached_answer_expires(make_cached_app):
    app = make_cached_app(CACHE_DEFAULT_TIMEOUT=1)
    seed_menu(app)
    client = app.test_client()
    client.get(URL)
    rename_behind_the_services(app, "Espresso", "Ristretto")
    assert "Espresso" in names(client.get(URL))
    time.sleep(1.2)
    assert "Ristretto" in names(client.get(URL))


def test_a_cache_that_fails_is_bypassed(make_cached_app, caplog):
    # Nothing listens on port 1: every cache call fails at once.
    app = make_cached_app(CACHE_TYPE="RedisCache", CACHE_REDIS_URL="redis://127.0.0.1:1/0")
    seed_menu(app)
    client = app.test_client()
    assert "Espresso" in names(client.get(URL))
    rename_behind_the_services(app, "Espresso", "Ristretto")
    assert "Ristretto" in names(client.get(URL))
    with app.app_context():
        item = db.session.scalar(select(MenuItem).where(MenuItem.name == "Ristretto"))
        service.mark_unavailable(item)  # committed although the cache cannot be emptied
        assert db.session.get(MenuItem, item.id).available is False
    assert "the menu cache is unavailable" in caplog.text


def test_a_shared_cache_is_emptied_for_every_process(make_cached_app, redis_url):
    # Two apps stand for two server processes sharing one Redis cache.
    settings = dict(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_url,
                    CACHE_KEY_PREFIX=f"mypack-test-{uuid.uuid4().hex}:")
    first, second = make_cached_app(**settings), make_cached_app(**settings)
    seed_menu(first)
    try:
        assert "Espresso" in names(first.test_client().get(URL))
        rename_behind_the_services(first, "Espresso", "Ristretto")
        assert "Espresso" in names(second.test_client().get(URL))  # the shared answer
        with second.app_context():
            item = db.session.scalar(select(MenuItem).where(MenuItem.name == "Ristretto"))
            service.mark_unavailable(item)
        assert "Ristretto" in names(first.test_client().get(URL))
    finally:
        with first.app_context():
            cache.clear()


def test_a_redis_outage_is_one_warning_and_reads_go_on(make_cached_app, redis_server, caplog):
    """Redis stopped under the cache: every read is answered from the database, the log
    says so once (no traceback per request), and the cache is used again once Redis
    answers."""
    app = make_cached_app(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_server.url)
    seed_menu(app)
    client = app.test_client()
    assert "Espresso" in names(client.get(URL))
    redis_server.stop()
    rename_behind_the_services(app, "Espresso", "Ristretto")
    caplog.clear()
    for _ in range(20):
        assert "Ristretto" in names(client.get(URL))
    warnings = [r for r in caplog.records if r.name == "mypack.outages"]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert "the menu cache is unavailable (ConnectionError" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)

    redis_server.start()
    app.extensions["mypack.menu_cache_outage"].retry_seconds = 0  # try again at once
    assert "Ristretto" in names(client.get(URL))
    assert "the menu cache answers again" in caplog.text
    rename_behind_the_services(app, "Ristretto", "Lungo")
    assert "Ristretto" in names(client.get(URL))  # kept in the cache again
