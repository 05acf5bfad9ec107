"""The suite's own isolation on the real servers: the database migrated once per run
is handed to each test without the rows, connections or schema changes an earlier
test left (tests/conftest.py)."""

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from mypack.auth.models import User
from mypack.extensions import db
from tests.factories import add_items, add_people, dispose, make_user

pytestmark = pytest.mark.parametrize("backend", ["postgres", "mysql"])


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_emptying_removes_every_row_and_restarts_ids(make_app, server):
    app = make_app(SQLALCHEMY_DATABASE_URI=server.head())
    add_people(app)
    add_items(app)
    assert rows(app, User) == 4
    # An open transaction of a connection the test forgot: ended, not waited for.
    holder = create_engine(server.head_url, poolclass=NullPool).connect()
    holder.execute(text("SELECT count(*) FROM users"))
    try:
        server.empty_head()
        with pytest.raises(DBAPIError):
            holder.execute(text("SELECT 1"))
    finally:
        holder.invalidate()  # dead: nothing to roll back
    assert server.head() == server.head_url
    assert rows(app, User) == 0
    assert make_user(app) == 1
    dispose(app)
    server.empty_head()


def test_a_schema_a_test_changed_is_migrated_again(make_app, server):
    app = make_app(SQLALCHEMY_DATABASE_URI=server.head())
    with app.app_context():
        db.session.execute(text("DROP TABLE api_tokens"))
        db.session.commit()
    dispose(app)
    server.empty_head()
    app = make_app(SQLALCHEMY_DATABASE_URI=server.head())
    with app.app_context():
        assert "api_tokens" in db.inspect(db.engine).get_table_names()
    assert make_user(app) == 1
    dispose(app)
    server.empty_head()
