"""mypack: a café menu and ordering service, built to run under mod_wsgi or gunicorn.

The package's imports run one way (tests/test_layers.py walks them):

- application: this module's ``create_app``, ``cli`` and ``commands``, ``startup`` and
  ``wsgi`` (what servers load), ``checks``, ``apache``, ``demo``;
- request layers: ``api``, ``admin``, ``health``, and the page modules of the domain
  packages (``views``, ``token_views``, ``reset_views``, ``confirmation_views``,
  ``manage``, ``queue``, ``forms``, ``editing``, ``cli``, ``redirects``);
- domain: ``audit``, then ``auth``, ``menu``, ``orders`` in that order (orders
  reference accounts and items, never the reverse), and ``models``, every table;
- foundation: ``config``, ``instance``, ``database``, ``extensions``, ``logs``,
  ``errors`` and ``exceptions``, ``security``, ``bodies``, ``paths``, ``text``,
  ``forms``, ``pages``, ``outages``, ``libraries`` (the libraries' private names),
  ``version``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from mypack.version import __version__

__all__ = ["__version__", "create_app"]


class Mypack(Flask):
    """Flask, with the database transaction of each view ended inside the request.

    Ended as part of the view's work, a transaction whose connection died answers 503
    through mypack's handler, with a request line that says so; Flask-SQLAlchemy
    would end it in the teardown, after the answer had gone out as a 200.
    """

    def dispatch_request(self):
        from mypack.database import end_transaction
        from mypack.extensions import db

        answer = super().dispatch_request()
        end_transaction(db.session)
        return answer


def create_app(config_name: str | None = None, instance_path: str | os.PathLike | None = None,
               **overrides: Any) -> Flask:
    """Build the application.

    :param config_name: ``development``, ``testing``, ``production``, ``postgres`` or
        ``mysql``; else ``MYPACK_CONFIG``, else the instance config's ``CONFIG``.
    :param instance_path: the instance folder; else ``MYPACK_INSTANCE``, else the
        checkout's ``instance/``, else Flask's default.
    :param overrides: settings that win over every other source.
    :raise mypack.exceptions.ConfigError: the configuration cannot run; the message
        says what to fix.
    """
    from mypack.config import load_settings

    settings = load_settings(config_name, instance_path, overrides)
    app = Mypack(__name__, instance_path=str(settings.instance_path),
                 instance_relative_config=True)
    configure(app, settings)
    configure_logging(app)
    register_security(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def configure(app: Flask, settings) -> None:
    """Refuse a configuration that must not run, then apply it."""
    from mypack.exceptions import ConfigError

    problems = settings.problems()
    if problems:
        raise ConfigError(f"{settings.config_class.name} configuration: " + "; ".join(problems))
    app.config.update(settings.values)
    app.extensions["mypack.settings"] = settings


def configure_logging(app: Flask) -> None:
    """Log handlers first (before anything logs), then request ids and request lines."""
    from mypack import logs

    logs.configure_logging(app.config)
    logs.init_app(app)


def register_security(app: Flask) -> None:
    """Proxy headers, HTTPS, and the security headers every response carries."""
    from mypack import security

    security.init_app(app)


def register_extensions(app: Flask) -> None:
    """The database and the public menu's cache; sessions, CSRF and rate limits
    (mypack.auth.setup). Migrations are attached by the ``db`` commands only
    (``mypack.database.init_migrations``)."""
    from mypack import models  # noqa: F401  (every table, for migrations)
    from mypack.auth import setup as accounts
    from mypack.database import release
    from mypack.extensions import cache, db

    db.init_app(app)
    # Before Flask-SQLAlchemy's own teardown (they run in reverse order), which would
    # raise outside every handler on a connection that died.
    app.teardown_appcontext(lambda error: release(db.session))
    # CACHE_TYPE = "NullCache" is a setting, not a mistake to warn about.
    cache.init_app(app, config={"CACHE_NO_NULL_WARNING": True})
    accounts.init_app(app)
    register_jobs(app)


def register_jobs(app: Flask) -> None:
    """Celery, mail, and the outbox's hand-over to the workers after each commit."""
    from mypack import jobs
    from mypack.mail import mail
    from mypack.outbox import dispatch

    if app.config["CELERY_BEAT_SCHEDULE_FILENAME"] is None:
        app.config["CELERY_BEAT_SCHEDULE_FILENAME"] = str(
            Path(app.instance_path) / "celerybeat-schedule")
    jobs.init_app(app)
    mail.init_app(app)
    dispatch.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Attach the site's parts, and the JSON API under /api/v1."""
    from werkzeug.routing import IntegerConverter

    from mypack import admin, api, health
    from mypack.auth import (  # noqa: F401  (routes on auth's blueprint)
        confirmation_views,
        reset_views,
        token_views,
    )
    from mypack.auth import views as auth_pages
    from mypack.database import ID_PATTERN, MAX_ID
    from mypack.menu import manage  # noqa: F401  (the staff pages, on the menu's blueprint)
    from mypack.menu import views as menu_pages
    from mypack.orders import queue  # noqa: F401  (the staff queue, on orders' blueprint)
    from mypack.orders import views as order_pages

    class DatabaseId(IntegerConverter):
        # Every <int:...> in a URL is a database id: a number the databases' INTEGER
        # cannot hold is simply no such thing (404), never an overflow (500). The
        # pattern, not only the range check, refuses it: Werkzeug answers 405 (with an
        # Allow header naming the other rules' methods) when one rule of the path fails
        # its converter and another fails only the method.
        regex = ID_PATTERN

        def __init__(self, map, max=MAX_ID, **kwargs):
            super().__init__(map, max=max, **kwargs)

    app.url_map.converters["int"] = DatabaseId

    app.register_blueprint(health.bp)
    app.register_blueprint(menu_pages.bp)
    app.register_blueprint(auth_pages.bp)
    app.register_blueprint(order_pages.bp)
    app.register_blueprint(admin.bp)
    api.init_app(app)
    app.jinja_env.globals["mypack_version"] = __version__


def register_error_handlers(app: Flask) -> None:
    """HTML error pages for browsers, the JSON error shape for API clients."""
    from mypack import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    """The commands that need the app (accounts, ``seed-demo``); and mypack's own,
    so plain ``flask --app mypack`` has them too."""
    from mypack.auth.cli import ACCOUNT_COMMANDS
    from mypack.commands import COMMANDS
    from mypack.demo import seed_demo_command

    for command in (*COMMANDS, *ACCOUNT_COMMANDS, seed_demo_command):
        app.cli.add_command(command)
