"""Counting the SQL statements a piece of a test runs (for the bounded-query tests)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from mypack.extensions import db


@contextmanager
def counted_queries(app):
    """The SQL statements the app's engine runs inside the block."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
