"""mypack's own commands: ``init``, ``config``, ``check``, ``apache-config``,
Flask-Migrate's ``db``, and Celery's ``worker`` and ``beat``. The ``mypack`` console
script (mypack.cli) offers them, and ``create_app`` adds them to ``app.cli`` so plain
``flask --app mypack`` has them too.

``init``, ``config`` and ``check`` need no application: they are how an operator
finds out why one cannot start.
"""

from __future__ import annotations

import sys

import click
from flask import current_app, g
from flask.cli import ScriptInfo, with_appcontext

from mypack import jobs
from mypack.apache import apache_config_command


@click.command("init")
@click.option("--force", is_flag=True, help="Replace existing secret_key and config.py.")
@click.option("--new-secret-key", is_flag=True,
              help="Replace only secret_key (key rotation); config.py is kept.")
def init_command(force, new_secret_key):
    """Create the instance folder with a new secret key and a documented config.py.

    Existing files are kept unless --force is given. A new secret key logs everybody
    out, unless the old key is first added to SECRET_KEY_FALLBACKS in config.py.
    """
    from mypack import instance

    path = instance.resolve_instance_path()
    for line in instance.init_instance(path, force=force, new_secret_key=new_secret_key):
        click.echo(line)


@click.command("config")
def config_command():
    """Print the effective configuration and where each value came from.

    Secrets are masked and database passwords hidden.
    """
    from mypack.config import load_settings

    settings = load_settings()
    width = max(len(key) for key in settings.values)
    click.echo(f"# configuration: {settings.config_class.name}")
    click.echo(f"# instance folder: {settings.instance_path}")
    for key in sorted(settings.values):
        value = mask(key, settings.values[key])
        click.echo(f"{key:<{width}} = {value!r}  # {settings.sources[key]}")
    for problem in settings.problems():
        click.echo(f"# PROBLEM: {problem}")


def mask(key: str, value):
    """Hide secrets: whole values for sensitive keys, the password inside URLs."""
    from mypack.config import is_secret_setting

    if is_secret_setting(key) and value:
        if isinstance(value, (list, tuple)):
            return ["********" for _ in value]
        return "********"
    if key == "SQLALCHEMY_DATABASE_URI" and value:
        from sqlalchemy.engine import make_url

        return make_url(value).render_as_string(hide_password=True)
    return value


@click.command("check")
@click.option("--deploy", is_flag=True,
              help="Also check that the installation is fit for production: production "
                   "configuration, secret key file, TRUSTED_HOSTS, session cookie and "
                   "lifetime, request size limit, pre-ping, instance folder place and modes.")
@click.option("--silence", metavar="ID", multiple=True,
              help="Do not report this warning (e.g. mypack.W052); repeatable, added to the "
                   "SILENCED_CHECKS setting. Errors cannot be silenced.")
@click.option("--vhost", metavar="FILE",
              help="Also check this rendered Apache vhost (WSGIPassAuthorization, "
                   "WSGIDaemonProcess timeouts, WSGIApplicationGroup %{GLOBAL}).")
@click.option("--gunicorn-conf", metavar="FILE",
              help="Also check this gunicorn config file (timeout, forwarded_allow_ips, "
                   "preload_app); it is executed as gunicorn executes it.")
def check_command(deploy, silence, vhost, gunicorn_conf):
    """Check that this installation can serve: lists every problem, exits 1 on any error.

    Checks the configuration (secret key present and strong, production settings),
    the database (reachable, at the migration head) and the log directory (writable).
    Each finding has an id: mypack.E0xx errors fail the check, mypack.W0xx warnings
    do not and can be silenced. The README lists every id.
    """
    from mypack.checks import run_checks

    report = run_checks(deploy=deploy, silence=silence, vhost=vhost, gunicorn_conf=gunicorn_conf)
    for finding in report.findings:
        click.echo(str(finding))
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    silenced = f", {len(report.silenced)} silenced" if report.silenced else ""
    if report.errors:
        click.echo(f"{report.errors} error(s), {report.warnings} warning(s) found{silenced}",
                   err=True)
        sys.exit(1)
    if report.warnings:
        click.echo(f"no errors, {report.warnings} warning(s){silenced}")
    else:
        click.echo(f"no problems found{silenced}")


class MigrationsGroup(click.Group):
    """Flask-Migrate's ``db`` commands, imported only when one is used, so that a
    serving process never loads Alembic (see ``mypack.database.init_migrations``)."""

    def _commands(self, ctx) -> click.Group:
        from flask_migrate.cli import db as migrate_commands

        from mypack.database import init_migrations

        init_migrations(ctx.ensure_object(ScriptInfo).load_app())
        return migrate_commands

    def list_commands(self, ctx):
        return self._commands(ctx).list_commands(ctx)

    def get_command(self, ctx, name):
        return self._commands(ctx).get_command(ctx, name)


# The options and body of Flask-Migrate's own ``db`` group, whose subcommands read them
# from ``g``; the group itself cannot be used without importing Alembic.
@click.group("db", cls=MigrationsGroup)
@click.option("-d", "--directory", default=None,
              help="Migration script directory (default: the one mypack ships).")
@click.option("-x", "--x-arg", multiple=True,
              help="Additional arguments consumed by custom env.py scripts.")
@with_appcontext
def db_command(directory, x_arg):
    """Database migrations (Flask-Migrate): upgrade, downgrade, current, history..."""
    g.directory = directory
    g.x_arg = x_arg


# ``worker`` and ``beat``: Celery's own programs, with the app's Celery app (its
# CELERY_* settings, tasks in its context); options after the name are Celery's.
_CELERY = {"ignore_unknown_options": True, "allow_extra_args": True,
           "help_option_names": []}


def _celery_program(program: str, arguments) -> None:
    celery = jobs.celery_app()
    level = current_app.config["LOG_LEVEL"]
    celery.start([program, "--loglevel", level, *arguments])


@click.command("worker", context_settings=_CELERY)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker_command(celery_args):
    """Run background jobs: a Celery worker (mail, the outbox sweep). Celery's own
    options follow, e.g. ``--concurrency 2`` or ``--help``."""
    _celery_program("worker", celery_args)


@click.command("beat", context_settings=_CELERY)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def beat_command(celery_args):
    """Run the scheduler of periodic jobs (Celery beat): one per deployment. Celery's
    own options follow."""
    schedule = current_app.config["CELERY_BEAT_SCHEDULE_FILENAME"]
    _celery_program("beat", ["--schedule", schedule, *celery_args])


#: Commands also added to ``app.cli`` so plain ``flask --app mypack`` has them.
COMMANDS = (init_command, config_command, check_command, apache_config_command, db_command,
            worker_command, beat_command)
