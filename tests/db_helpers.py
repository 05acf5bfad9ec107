"""Bringing a test's database to the migration head, in the test's own process."""

from __future__ import annotations


def upgrade(app) -> None:
    """What ``mypack db upgrade`` does, for ``app``'s database."""
    from flask_migrate import upgrade as upgrade_to_head

    from mypack.database import init_migrations

    init_migrations(app)
    with app.app_context():
        upgrade_to_head()
