"""Checks of the loaded settings: production, secret key, cookies, limits, engine.

The host checks are in hosts.py, the CSP's in csp.py, the secret key's patterns in
secrets.py and the logins' in accounts.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mypack.checks.accounts import account_findings
from mypack.checks.csp import check_content_security_policy
from mypack.checks.files import (
    check_instance_location,
    check_instance_modes,
    check_log_dir,
    check_secret_key_file,
)
from mypack.checks.findings import Finding, as_seconds, cookie_findings
from mypack.checks.hosts import check_hosts
from mypack.checks.jobs import check_jobs, check_jobs_deploy
from mypack.checks.secrets import check_secret_keys
from mypack.security import PROXY_FIX_SETTINGS, is_count

#: The longest PERMANENT_SESSION_LIFETIME --deploy accepts, in seconds.
MAX_SESSION_SECONDS = 12 * 60 * 60
#: The shortest HSTS max-age --deploy accepts: a year, as the browsers' preload lists ask.
MIN_HSTS_SECONDS = 365 * 24 * 60 * 60
#: The values a Referrer-Policy header may hold (W3C Referrer Policy), case as written.
REFERRER_POLICIES = frozenset({
    "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
    "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
})


def check_settings(settings, deploy: bool = False) -> list[Finding]:
    """Everything that can be checked without the database: settings, files, folders."""
    findings = [Finding(*pair) for pair in settings.findings()]
    findings += check_secret_key_file(settings.instance_path, deploy)
    findings += check_log_dir(settings.values.get("LOG_DIR") or "")
    findings += check_counts(settings.values)
    findings += check_jobs(settings.values)
    if deploy:
        findings += deploy_findings(settings)
    return findings


def deploy_findings(settings) -> list[Finding]:
    """The production list (``--deploy``) for the features mypack has so far."""
    values = settings.values
    return [
        *check_production(settings),
        *check_testing(values),
        *check_secret_source(settings),
        *check_secret_keys(values, settings.instance_path),
        *check_hosts(values),
        *check_session_cookie(values),
        *check_session_lifetime(values),
        *check_max_content_length(values),
        *check_https(values),
        *check_content_security_policy(values),
        *check_referrer_policy(values),
        *check_engine_settings(values),
        *check_instance_location(settings.instance_path),
        *check_instance_modes(settings),
        *account_findings(values),
        *check_jobs_deploy(values),
    ]


def check_production(settings) -> list[Finding]:
    """Only the production configurations refuse DEBUG, SQLite and weak keys."""
    if settings.config_class.production:
        return []
    return [Finding("mypack.E002", f"the '{settings.config_class.name}' configuration is not "
                                   "for production; set CONFIG = 'postgres', 'mysql' or "
                                   "'production' in config.py")]


def check_testing(values: Mapping[str, Any]) -> list[Finding]:
    """TESTING is for the test suite: Flask lets exceptions through to the server."""
    if not values.get("TESTING"):
        return []
    return [Finding("mypack.E003", "TESTING is on: errors reach the server as exceptions "
                                   "instead of the 500 page, and extensions relax for tests; "
                                   "remove TESTING from the settings")]


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


def check_session_cookie(values: Mapping[str, Any]) -> list[Finding]:
    """The session cookie is Secure, HttpOnly and SameSite Lax or Strict."""
    return cookie_findings(values, "SESSION_COOKIE", "session cookie",
                           ("mypack.E041", "mypack.E042", "mypack.E043"))


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


def check_counts(values: Mapping[str, Any]) -> list[Finding]:
    """PROXY_FIX_* and HSTS_SECONDS are whole numbers of 0 or more; create_app refuses others."""
    names = [*PROXY_FIX_SETTINGS.values(), "HSTS_SECONDS"]
    return [Finding("mypack.E057", f"{name} is {values.get(name)!r}; it must be a whole number, "
                                   "0 or more (PROXY_FIX_*: how many proxies in front set that "
                                   "header; HSTS_SECONDS: seconds)")
            for name in names if not is_count(values.get(name, 0))]


def check_https(values: Mapping[str, Any]) -> list[Finding]:
    """HTTPS is required, and browsers keep to it for a year, subdomains included (HSTS)."""
    findings = []
    if not values.get("FORCE_HTTPS"):
        findings.append(Finding("mypack.E048", "FORCE_HTTPS is off, so pages are served over "
                                               "plain HTTP and the API answers it; set it True"))
    seconds = values.get("HSTS_SECONDS", 0)
    if is_count(seconds) and seconds < MIN_HSTS_SECONDS:  # not a number: E057 says so
        findings.append(Finding("mypack.E046", f"HSTS_SECONDS is {seconds}, so browsers do not "
                                               "keep to HTTPS for long (0: not at all); set "
                                               f"at least {MIN_HSTS_SECONDS} (one year)"))
    if not values.get("HSTS_INCLUDE_SUBDOMAINS"):
        findings.append(Finding("mypack.E047", "HSTS_INCLUDE_SUBDOMAINS is off, so a plain-HTTP "
                                               "subdomain can set cookies for the site; set it "
                                               "True"))
    return findings


def check_referrer_policy(values: Mapping[str, Any]) -> list[Finding]:
    """REFERRER_POLICY is a Referrer-Policy value (or a comma-separated fallback list)."""
    value = values.get("REFERRER_POLICY")
    tokens = [token.strip() for token in value.split(",")] if isinstance(value, str) else []
    if tokens and all(token in REFERRER_POLICIES for token in tokens):
        return []
    return [Finding("mypack.E056", f"REFERRER_POLICY {value!r} is not a Referrer-Policy value, "
                                   "so browsers apply their own; set e.g. "
                                   "'strict-origin-when-cross-origin' or 'same-origin'")]
