"""Checks of the servers' configuration files: an Apache vhost, a gunicorn config."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mypack.checks.findings import Finding, as_list, as_seconds, positive, reason


def statement_timeout(settings) -> float | None:
    """DB_STATEMENT_TIMEOUT in seconds, which a server's request timeout must exceed."""
    if settings is None:
        return None
    return as_seconds(settings.values.get("DB_STATEMENT_TIMEOUT"))


def apache_directives(text: str) -> list[list[str]]:
    """An Apache file's directives as lists of words.

    Continuation lines (ending in a backslash) are joined first, then comments dropped,
    as Apache does. Section tags such as ``<VirtualHost *:443>`` come out as directives
    named ``<VirtualHost``; nothing here needs them.
    """
    lines, pending = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    lines.append(pending)
    directives = []
    for line in (line.strip() for line in lines):
        if not line or line.startswith("#"):
            continue
        try:
            directives.append(shlex.split(line))
        except ValueError:  # an unbalanced quote: Apache would refuse it, we read on
            directives.append(line.split())
    return directives


def arguments(directives: list[list[str]], name: str) -> list[list[str]]:
    """The arguments of every directive with this name (case does not matter)."""
    return [words[1:] for words in directives if words[0].lower() == name.lower()]


def check_vhost(path: Path, settings=None) -> list[Finding]:
    """A rendered Apache vhost runs mypack in mod_wsgi daemon mode, safely.

    Requires ``WSGIPassAuthorization On``, a WSGIDaemonProcess with non-zero
    request-timeout and queue-timeout, the main interpreter (``%{GLOBAL}``), and no
    Alias or DocumentRoot over the instance folder.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding("mypack.E060", f"cannot read vhost {path}: {reason(exc)}")]
    directives = apache_directives(text)
    findings = []
    if not any(args[:1] and args[0].lower() == "on"
               for args in arguments(directives, "WSGIPassAuthorization")):
        findings.append(Finding("mypack.E061", f"{path} lacks 'WSGIPassAuthorization On', so "
                                               "Apache drops the Authorization header (HTTP "
                                               "Basic, API tokens); add it to the VirtualHost"))
    findings += check_daemon_processes(path, directives, statement_timeout(settings))
    findings += check_application_group(path, directives)
    if settings is not None:
        findings += check_served_paths(path, directives, settings.instance_path)
    return findings


def check_daemon_processes(path: Path, directives, statement: float | None) -> list[Finding]:
    """Each WSGIDaemonProcess bounds how long a request may run and wait for a thread."""
    daemons = arguments(directives, "WSGIDaemonProcess")
    if not daemons:
        return [Finding("mypack.E062", f"{path} has no WSGIDaemonProcess: run mypack in mod_wsgi "
                                       "daemon mode (WSGIDaemonProcess and WSGIProcessGroup)")]
    findings = []
    for args in daemons:
        name = args[0] if args else "?"
        # The options are name=value words.
        options = {key.lower(): value for key, _, value in
                   (option.partition("=") for option in args[1:])}
        request = positive(options.get("request-timeout"))
        queue = positive(options.get("queue-timeout"))
        where = f"{path}: WSGIDaemonProcess {name}"
        if request is None:
            findings.append(Finding("mypack.E063", f"{where} has no non-zero request-timeout, so "
                                                   "a hung request holds its thread for ever; "
                                                   "add e.g. request-timeout=60"))
        elif statement is not None and request <= statement:
            findings.append(Finding("mypack.W067", f"{where} has request-timeout={request:g}, not "
                                                   f"above DB_STATEMENT_TIMEOUT ({statement:g}): "
                                                   "a slow query restarts the daemon instead of "
                                                   "ending in a clean error"))
        if queue is None:
            findings.append(Finding("mypack.E064", f"{where} has no non-zero queue-timeout, so "
                                                   "requests wait for a busy daemon without "
                                                   "limit; add e.g. queue-timeout=45"))
    return findings


def check_application_group(path: Path, directives) -> list[Finding]:
    """mypack runs in the main interpreter: psycopg2 and mysqlclient are unsafe elsewhere."""
    groups = [args[0] for args in arguments(directives, "WSGIApplicationGroup") if args]
    groups += [option.partition("=")[2]
               for args in arguments(directives, "WSGIScriptAlias") for option in args[2:]
               if option.lower().startswith("application-group=")]
    if groups and all(group == "%{GLOBAL}" for group in groups):
        return []
    return [Finding("mypack.E065", f"{path} lacks 'WSGIApplicationGroup %{{GLOBAL}}', so mypack "
                                   "runs in a sub-interpreter, where C extensions such as "
                                   "psycopg2 can fail or hang; add it")]


def check_served_paths(path: Path, directives, instance_path: Path) -> list[Finding]:
    """No DocumentRoot or Alias serves a folder holding the instance folder."""
    targets = [args[0] for args in arguments(directives, "DocumentRoot") if args]
    targets += [args[1] for args in arguments(directives, "Alias") if len(args) > 1]
    findings = []
    for target in targets:
        served = Path(os.path.normpath(target))
        if served.is_absolute() and instance_path.is_relative_to(served):
            findings.append(Finding("mypack.E066", f"{path} serves {target}, which holds the "
                                                   f"instance folder {instance_path}: anyone "
                                                   "could download config.py and secret_key; "
                                                   "serve another folder"))
    return findings


def check_gunicorn_conf(path: Path, settings=None) -> list[Finding]:
    """A gunicorn config file: a worker timeout, trusted proxies only, no preloading.

    The file is executed as gunicorn executes it, so computed values are checked.
    """
    try:
        source = path.read_bytes()
    except OSError as exc:
        return [Finding("mypack.E070", f"cannot read gunicorn config {path}: {reason(exc)}")]
    conf: dict[str, Any] = {"__file__": str(path), "__name__": "__config__"}
    try:
        exec(compile(source, str(path), "exec"), conf)
    except (Exception, SystemExit) as exc:
        # The operator's code: report it like gunicorn would refuse to start, in one line.
        return [Finding("mypack.E070", f"error in gunicorn config {path}: "
                                       f"{type(exc).__name__}: {exc}")]
    return [*check_gunicorn_timeout(path, conf, statement_timeout(settings)),
            *check_forwarded_allow_ips(path, conf),
            *check_preload_app(path, conf)]


def check_gunicorn_timeout(path: Path, conf: Mapping[str, Any],
                           statement: float | None) -> list[Finding]:
    """A silent worker is killed and replaced: timeout is set and not 0 (which disables it)."""
    if "timeout" not in conf:
        return [Finding("mypack.E071", f"{path} does not set timeout; set it, e.g. timeout = 30, "
                                       "so a hung worker is killed and replaced")]
    seconds = positive(conf["timeout"])
    if seconds is None:
        return [Finding("mypack.E071", f"{path}: timeout = {conf['timeout']!r} is not a positive "
                                       "number of seconds (0 disables the worker timeout)")]
    if statement is not None and seconds <= statement:
        return [Finding("mypack.W074", f"{path}: timeout = {seconds:g} is not above "
                                       f"DB_STATEMENT_TIMEOUT ({statement:g}): a slow query gets "
                                       "the worker killed instead of ending in a clean error")]
    return []


def check_forwarded_allow_ips(path: Path, conf: Mapping[str, Any]) -> list[Finding]:
    """Only the proxy in front may set X-Forwarded-For and X-Forwarded-Proto."""
    value = conf.get("forwarded_allow_ips")
    entries = as_list(value) if isinstance(value, str) else value
    if not isinstance(entries, (list, tuple, set)) or "*" not in {str(e).strip() for e in entries}:
        return []
    return [Finding("mypack.E072", f"{path}: forwarded_allow_ips is '*', so any client can "
                                   "forge its address and HTTPS; list only the proxy's "
                                   "addresses, e.g. '127.0.0.1'")]


def check_preload_app(path: Path, conf: Mapping[str, Any]) -> list[Finding]:
    """No preloading: a HUP must start workers that import the new code."""
    value = conf.get("preload_app", False)
    # gunicorn's own reading of a boolean setting.
    on = value.strip().lower() in ("y", "yes", "true", "on") if isinstance(value, str) else value
    if not on:
        return []
    return [Finding("mypack.E073", f"{path}: preload_app is on, so the app is loaded once in "
                                   "the master: a HUP keeps serving the old code, and workers "
                                   "share what it opened; set preload_app = False")]
