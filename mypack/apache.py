"""``mypack apache-config``: the Apache vhost for this installation.

The template is ``apache/mypack.conf`` in the repository (shipped in the package as
``mypack/resources/apache-vhost.conf``). Paths that depend on the installation, the
static folder inside the venv and mod_wsgi's module, are asked of the venv's own
Python, so the vhost is right even when rendered from another environment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from mypack.instance import PACKAGE_DIR

TEMPLATE = "apache-vhost.conf"
_STATIC_QUERY = "import mypack, pathlib; print(pathlib.Path(mypack.__file__).parent / 'static')"


def render_vhost(**values) -> str:
    """Fill the vhost template; every placeholder must be given."""
    environment = Environment(loader=FileSystemLoader(PACKAGE_DIR / "resources"),
                              undefined=StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)
    return environment.get_template(TEMPLATE).render(**values)


def venv_static_dir(venv: Path) -> Path:
    """The static folder of the mypack installed in ``venv``.

    :raise click.ClickException: mypack is not installed there.
    """
    if Path(sys.prefix).resolve() == venv.resolve():
        return PACKAGE_DIR / "static"
    python = venv / "bin" / "python"
    result = subprocess.run([str(python), "-c", _STATIC_QUERY], capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"mypack is not installed in {venv} ({python} failed)")
    return Path(result.stdout.strip())


def venv_load_module(venv: Path) -> str | None:
    """The LoadModule line of the mod_wsgi built into ``venv``, or None if it has none."""
    express = venv / "bin" / "mod_wsgi-express"
    if not express.exists():
        return None
    output = subprocess.run([str(express), "module-config"], capture_output=True, text=True,
                            check=True).stdout
    return next((line for line in output.splitlines() if line.startswith("LoadModule")), None)


@click.command("apache-config")
@click.option("--server-name", default="localhost", show_default=True,
              help="The host name the site answers to.")
@click.option("--port", default=80, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the <VirtualHost>; add a Listen line for ports other than 80.")
@click.option("--deploy-root", default="/srv/mypack", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder holding start.wsgi, instance/ and the venv.")
@click.option("--venv", type=click.Path(file_okay=False, path_type=Path),
              help="The venv mypack is installed in.  [default: DEPLOY_ROOT/venv]")
@click.option("--user", default="www-data", show_default=True, help="Daemon process user.")
@click.option("--group", default="www-data", show_default=True, help="Daemon process group.")
@click.option("--processes", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Daemon processes.")
@click.option("--threads", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Threads per daemon process (match DB_POOL_SIZE).")
@click.option("--locale", default="C.UTF-8", show_default=True,
              help="lang and locale of the daemons.")
@click.option("--log-dir", default="${APACHE_LOG_DIR}", show_default=True,
              help="Folder of Apache's error and access logs for this site.")
@click.option("--socket-prefix", default="${APACHE_RUN_DIR}/wsgi", show_default=True,
              help="WSGISocketPrefix, written when the venv's mod_wsgi is loaded.")
@click.option("--output", "-o", default="-", type=click.File("w"),
              help="Write here instead of standard output.")
def apache_config_command(server_name, port, deploy_root, venv, user, group, processes,
                          threads, locale, log_dir, socket_prefix, output):
    """Print the Apache vhost (mod_wsgi daemon mode) for this installation.

    Paths are made absolute. The static folder and the mod_wsgi module are taken from
    the venv; without mod_wsgi in the venv the vhost expects Debian's
    libapache2-mod-wsgi-py3 (a2enmod wsgi), which only serves Debian's own Python.
    """
    deploy_root = deploy_root.absolute()
    venv = (venv or deploy_root / "venv").absolute()
    load_module = venv_load_module(venv)
    if load_module is None:
        click.echo(f"note: no mod_wsgi in {venv}; the vhost relies on an enabled wsgi module",
                   err=True)
    output.write(render_vhost(
        server_name=server_name, port=port, deploy_root=deploy_root, venv=venv, user=user,
        group=group, processes=processes, threads=threads, locale=locale, log_dir=log_dir,
        socket_prefix=socket_prefix, static_dir=venv_static_dir(venv), load_module=load_module,
    ))
