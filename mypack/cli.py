"""The ``mypack`` command line, built on Flask's (so ``run``, ``shell``, ``routes`` and
Flask-Migrate's ``db`` work as usual).

``init``, ``config`` and ``check`` work even when the application cannot start:
they are how an operator finds out why. Any error an operator can fix (bad config
name, unreachable database, missing instance folder) is printed as one line on
stderr with a non-zero exit, never as a traceback.
"""

from __future__ import annotations

import os

import click
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from mypack.commands import COMMANDS
from mypack.exceptions import ConfigError


def _create_app():
    from mypack import create_app

    return create_app()


def _set_env(variable: str):
    def callback(ctx, param, value):
        if value:
            os.environ[variable] = value
        return value
    return callback


class MypackGroup(FlaskGroup):
    """FlaskGroup that reports configuration and database errors as one line."""

    def get_command(self, ctx, name):
        try:
            return super().get_command(ctx, name)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    def list_commands(self, ctx):
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigError as exc:
            click.echo(f"Error: {exc}", err=True)
            # FlaskGroup would print a traceback; list what works without an app.
            self._load_plugin_commands()
            return sorted(self.commands)
        return super().list_commands(ctx)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        except SQLAlchemyError as exc:
            from mypack.database import describe_error

            raise click.ClickException(f"database error: {describe_error(exc)}") from None


@click.group(
    cls=MypackGroup, create_app=_create_app, load_dotenv=False, set_debug_flag=False,
    help="Run and manage the mypack café service.",
)
@click.option("--config", "config_name", metavar="NAME", expose_value=False, is_eager=True,
              callback=_set_env("MYPACK_CONFIG"),
              help="Configuration: development, testing, production, postgres or mysql "
                   "(default: MYPACK_CONFIG, else the instance config's CONFIG, else development).")
@click.option("--instance", metavar="PATH", expose_value=False, is_eager=True,
              callback=_set_env("MYPACK_INSTANCE"),
              help="Instance folder holding config.py, secret_key and logs "
                   "(default: MYPACK_INSTANCE, else ./instance in a checkout).")
def main():
    """Entry point of the ``mypack`` console script."""


for _command in COMMANDS:
    # Flask's with_appcontext=False: these run before (or without) an app.
    main.add_command(_command)
