"""Checks of the loaded settings: production, secret key, cookies, limits, engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mypack.checks.files import (
    check_instance_location,
    check_instance_modes,
    check_log_dir,
    check_secret_key_file,
)
from mypack.checks.findings import Finding, as_seconds

#: The longest PERMANENT_SESSION_LIFETIME --deploy accepts, in seconds.
MAX_SESSION_SECONDS = 12 * 60 * 60


def check_settings(settings, deploy: bool = False) -> list[Finding]:
    """Everything that can be checked without the database: settings, files, folders."""
    findings = [Finding(*pair) for pair in settings.findings()]
    findings += check_secret_key_file(settings.instance_path, deploy)
    findings += check_log_dir(settings.values.get("LOG_DIR") or "")
    if deploy:
        findings += deploy_findings(settings)
    return findings


def deploy_findings(settings) -> list[Finding]:
    """The production list (``--deploy``) for the features mypack has so far."""
    values = settings.values
    return [
        *check_production(settings),
        *check_secret_source(settings),
        *check_trusted_hosts(values),
        *check_session_cookie(values),
        *check_session_lifetime(values),
        *check_max_content_length(values),
        *check_engine_settings(values),
        *check_instance_location(settings.instance_path),
        *check_instance_modes(settings),
    ]


def check_production(settings) -> list[Finding]:
    """Only the production configurations refuse DEBUG, SQLite and weak keys."""
    if settings.config_class.production:
        return []
    return [Finding("mypack.E002", f"the '{settings.config_class.name}' configuration is not "
                                   "for production; set CONFIG = 'postgres', 'mysql' or "
                                   "'production' in config.py")]


def check_secret_source(settings) -> list[Finding]:
    """SECRET_KEY comes from the instance's secret_key file, not config.py or the environment.

    The file is the only place with mode 0600; config.py is group-readable and the
    environment shows in ``ps e`` and crash reports.
    """
    from mypack.instance import secret_key_path

    key_file = secret_key_path(settings.instance_path)
    source = settings.sources.get("SECRET_KEY", "")
    if not settings.values.get("SECRET_KEY") or source == str(key_file):
        return []
    return [Finding("mypack.E012", f"SECRET_KEY comes from {source}; keep it only in {key_file}: "
                                   f"remove it there and run mypack --instance "
                                   f"{settings.instance_path} init")]


def check_trusted_hosts(values: Mapping[str, Any]) -> list[Finding]:
    """TRUSTED_HOSTS lists the site's names, so a forged Host header gets 400."""
    hosts = values.get("TRUSTED_HOSTS")
    example = "e.g. TRUSTED_HOSTS = ['cafe.example.com']"
    if hosts is None:
        problem = "is not set, so any Host header is accepted and used in generated URLs"
    elif not isinstance(hosts, (list, tuple)):
        problem = f"must be a list of host names, not {type(hosts).__name__}"
    elif not hosts:
        problem = "is empty, so every request would get 400"
    else:
        return []
    return [Finding("mypack.E040", f"TRUSTED_HOSTS {problem}; list the site's names, {example}")]


def check_session_cookie(values: Mapping[str, Any]) -> list[Finding]:
    """The session cookie is Secure, HttpOnly and SameSite Lax or Strict."""
    findings = []
    if not values.get("SESSION_COOKIE_SECURE"):
        findings.append(Finding("mypack.E041", "SESSION_COOKIE_SECURE is off, so the session "
                                               "cookie also travels over plain HTTP; set it True"))
    if not values.get("SESSION_COOKIE_HTTPONLY"):
        findings.append(Finding("mypack.E042", "SESSION_COOKIE_HTTPONLY is off, so scripts in "
                                               "the page can read the session cookie; set it True"))
    samesite = values.get("SESSION_COOKIE_SAMESITE")
    if str(samesite).lower() not in ("lax", "strict"):
        findings.append(Finding("mypack.E043", f"SESSION_COOKIE_SAMESITE is {samesite!r}, so "
                                               "other sites' requests carry the session cookie; "
                                               "set 'Lax' or 'Strict'"))
    return findings


def check_session_lifetime(values: Mapping[str, Any]) -> list[Finding]:
    """A permanent session ends within 12 hours, so a stolen cookie does not last for days."""
    value = values.get("PERMANENT_SESSION_LIFETIME")
    seconds = as_seconds(value)
    if seconds is None:
        problem = f"{value!r} is not a number of seconds or a timedelta"
    elif seconds > MAX_SESSION_SECONDS:
        problem = f"is {seconds / 3600:g} hours"
    else:
        return []
    return [Finding("mypack.E044", f"PERMANENT_SESSION_LIFETIME {problem}; set at most "
                                   f"{MAX_SESSION_SECONDS} (seconds, 12 hours)")]


def check_max_content_length(values: Mapping[str, Any]) -> list[Finding]:
    """Request bodies are limited, so one upload cannot fill memory or disk."""
    limit = values.get("MAX_CONTENT_LENGTH")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return []
    return [Finding("mypack.E045", f"MAX_CONTENT_LENGTH is {limit!r}; set a positive limit in "
                                   "bytes (default 1048576) so request bodies are bounded")]


def check_engine_settings(values: Mapping[str, Any]) -> list[Finding]:
    """Dead connections are replaced (pre-ping); SQLite in production is at least flagged."""
    uri = str(values.get("SQLALCHEMY_DATABASE_URI") or "")
    if not uri:
        return []  # E023 already says so
    findings = []
    if uri.startswith("sqlite") and values.get("ALLOW_SQLITE_IN_PRODUCTION"):
        findings.append(Finding("mypack.W025", "SQLite serves production because "
                                               "ALLOW_SQLITE_IN_PRODUCTION is set; writers "
                                               "queue on one file lock: prefer postgres or mysql"))
    if not (values.get("SQLALCHEMY_ENGINE_OPTIONS") or {}).get("pool_pre_ping"):
        findings.append(Finding("mypack.E026", "pool_pre_ping is off in SQLALCHEMY_ENGINE_OPTIONS, "
                                               "so connections the server closed fail requests; "
                                               "remove that override"))
    return findings
