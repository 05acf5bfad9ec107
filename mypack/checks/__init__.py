"""``mypack check``: every reason this installation cannot serve, each with an id.

Checks read only: they create no file and change no table, so running them as root
cannot leave root-owned logs behind. Run them as the service user to test its rights.
The one exception is ``--gunicorn-conf``: that file is the operator's Python and runs
as gunicorn runs it, side effects included.

``--deploy`` adds what a production installation must pass (the security bar's list,
after Django's ``check --deploy``): settings.py (production, secret key, cookies,
session lifetime, limits, HSTS, HTTPS, proxies, engine), secrets.py (keys that are a
pattern or a placeholder), hosts.py (TRUSTED_HOSTS, X-Forwarded-Host), csp.py (the
Content-Security-Policy), accounts.py (remember cookie, idle timeout, session
protection, CSRF, password hashing and length, lock-out, rate limits and their
storage), jobs.py (jobs in workers, the broker's account, mail and SITE_URL),
files.py (the instance folder and its modes), and with
``--vhost``/``--gunicorn-conf`` servers.py.

Nothing to check for the rest of the bar: the log handler is always the
multi-process-safe one (``mypack/logs.py``), the security headers are always sent
(``mypack/security.py``), and which server runs the app is not a setting (DEBUG is
checked; ``mypack run`` is documented as development only).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mypack.checks.database import check_database
from mypack.checks.findings import Finding, Report, as_list
from mypack.checks.jobs import check_broker
from mypack.checks.servers import check_gunicorn_conf, check_vhost
from mypack.checks.settings import check_settings
from mypack.exceptions import ConfigError

#: Every check id and what it means; the README's table lists the same.
CHECKS = {
    "mypack.E001": "the configuration cannot be loaded",
    "mypack.E002": "not a production configuration",
    "mypack.E003": "TESTING on",
    "mypack.E010": "DEBUG on in production",
    "mypack.W011": "secret_key file open to group or others",
    "mypack.E011": "secret_key file open to group or others (--deploy)",
    "mypack.E012": "SECRET_KEY not read from <instance>/secret_key",
    "mypack.E013": "no SECRET_KEY",
    "mypack.E014": "SECRET_KEY too short",
    "mypack.E015": "SECRET_KEY with too few distinct characters",
    "mypack.E016": "SECRET_KEY is a well-known value",
    "mypack.E017": "a weak SECRET_KEY_FALLBACKS entry",
    "mypack.E018": "a secret key that is a short pattern repeated",
    "mypack.E019": "a secret key that is a placeholder phrase",
    "mypack.E020": "database unreachable",
    "mypack.E021": "database not at the migration head",
    "mypack.W022": "MySQL pool_recycle not below wait_timeout",
    "mypack.E023": "no database configured",
    "mypack.E024": "SQLite in production",
    "mypack.W025": "SQLite in production, explicitly allowed",
    "mypack.E026": "pool_pre_ping off",
    "mypack.E030": "log directory not writable",
    "mypack.E031": "bad LOG_FORMAT",
    "mypack.E032": "bad LOG_LEVEL",
    "mypack.E033": "bad LOG_FLUSH_SECONDS",
    "mypack.E040": "TRUSTED_HOSTS not a non-empty list",
    "mypack.E041": "session cookie not Secure",
    "mypack.E042": "session cookie not HttpOnly",
    "mypack.E043": "session cookie SameSite not Lax or Strict",
    "mypack.E044": "PERMANENT_SESSION_LIFETIME over 12 hours",
    "mypack.E045": "MAX_CONTENT_LENGTH not set",
    "mypack.E046": "HSTS_SECONDS below one year",
    "mypack.E047": "HSTS_INCLUDE_SUBDOMAINS off",
    "mypack.E048": "FORCE_HTTPS off",
    "mypack.E049": "CONTENT_SECURITY_POLICY empty or without object-src 'none'",
    "mypack.E050": "instance folder inside the installed package",
    "mypack.E051": "instance folder inside the static folder",
    "mypack.W052": "instance folder readable by others",
    "mypack.E053": "config.py with secrets readable by others",
    "mypack.E054": "instance folder or config.py writable by others",
    "mypack.W055": "CSP frame-ancestors other than 'none'",
    "mypack.E056": "REFERRER_POLICY not a Referrer-Policy value",
    "mypack.E057": "PROXY_FIX_* or HSTS_SECONDS not a whole number >= 0",
    "mypack.E058": "TRUSTED_HOSTS entry * or a public suffix",
    "mypack.E059": "PROXY_FIX_X_HOST without TRUSTED_HOSTS",
    "mypack.E060": "vhost file unreadable",
    "mypack.E061": "vhost without WSGIPassAuthorization On",
    "mypack.E062": "vhost without WSGIDaemonProcess",
    "mypack.E063": "WSGIDaemonProcess without request-timeout",
    "mypack.E064": "WSGIDaemonProcess without queue-timeout",
    "mypack.E065": "vhost without WSGIApplicationGroup %{GLOBAL}",
    "mypack.E066": "vhost serves the instance folder",
    "mypack.W067": "request-timeout not above DB_STATEMENT_TIMEOUT",
    "mypack.E070": "gunicorn config unreadable or failing",
    "mypack.E071": "gunicorn timeout not a positive number",
    "mypack.E072": "gunicorn forwarded_allow_ips is *",
    "mypack.E073": "gunicorn preload_app on",
    "mypack.W074": "gunicorn timeout not above DB_STATEMENT_TIMEOUT",
    "mypack.E080": "remember cookie not Secure",
    "mypack.E081": "remember cookie not HttpOnly",
    "mypack.E082": "remember cookie SameSite not Lax or Strict",
    "mypack.E083": "REMEMBER_COOKIE_DURATION over 30 days",
    "mypack.E084": "no session idle timeout",
    "mypack.E085": "SESSION_PROTECTION off",
    "mypack.E090": "CSRF protection off",
    "mypack.W091": "views exempt from CSRF",
    "mypack.E092": "password hashing below OWASP ASVS 5.0",
    "mypack.W093": "rate-limit counters kept per process (memory://)",
    "mypack.E094": "login lock-out off or out of bounds",
    "mypack.E095": "login rate limit off, unparseable or too high",
    "mypack.E096": "PASSWORD_MIN_LENGTH out of 8 to 64",
    "mypack.E097": "CSP allows inline script or any host",
    "mypack.E100": "CELERY_BROKER_URL not RabbitMQ or Redis",
    "mypack.E101": "job broker unreachable",
    "mypack.E102": "OUTBOX_CLAIM_SECONDS not above CELERY_TASK_TIME_LIMIT",
    "mypack.E103": "MAIL_USE_TLS and MAIL_USE_SSL both on",
    "mypack.E104": "jobs run in-process in production",
    "mypack.E105": "RabbitMQ guest account on another machine",
    "mypack.E106": "MAIL_BACKEND not smtp in production",
    "mypack.E107": "SITE_URL not a public https:// address",
    "mypack.E108": "MAIL_DEFAULT_SENDER not an address of a real domain",
    "mypack.W109": "SMTP password sent unencrypted",
    "mypack.E110": "OUTBOX_HAND_OVER not 'commit' or 'sweep'",
    "mypack.E111": "OUTBOX_HAND_OVER 'sweep' without a sweep",
}


def run_checks(deploy: bool = False, silence: Iterable[str] = (),
               vhost: str | os.PathLike | None = None,
               gunicorn_conf: str | os.PathLike | None = None) -> Report:
    """Load the configuration as the app would and check it, the database and the logs.

    :param deploy: add the production checks (``mypack check --deploy``).
    :param silence: warning ids to leave out, added to the SILENCED_CHECKS setting.
    :param vhost: a rendered Apache vhost to check as well.
    :param gunicorn_conf: a gunicorn configuration file to check as well.
    """
    from mypack.config import Settings, load_settings

    settings: Settings | None = None
    try:
        loaded = load_settings()
    except ConfigError as exc:
        findings = [Finding("mypack.E001", str(exc))]
    else:
        settings = loaded
        findings = check_settings(loaded, deploy)
        if loaded.values.get("SQLALCHEMY_DATABASE_URI"):
            findings += check_database(loaded.values)
        findings += check_broker(loaded.values)
    if vhost:
        findings += check_vhost(Path(vhost), settings)
    if gunicorn_conf:
        findings += check_gunicorn_conf(Path(gunicorn_conf), settings)
    configured = settings.values.get("SILENCED_CHECKS") if settings else None
    return silence_warnings(findings, [*as_list(configured), *silence])


def silence_warnings(findings: list[Finding], ids: Iterable[str]) -> Report:
    """Leave out the warnings with the given ids; errors are always reported.

    An id that names an error, or no check at all, gets a note instead of being
    ignored quietly: a typo must not look like a silenced warning.
    """
    wanted = {full_id(check_id) for check_id in ids}
    notes = []
    for check_id in sorted(wanted):
        if check_id not in CHECKS:
            notes.append(f"{check_id} is not a check id; nothing silenced")
        elif ".E" in check_id:
            notes.append(f"{check_id} is an error and cannot be silenced; fix it instead")
    shown = [f for f in findings if f.is_error or f.id not in wanted]
    silenced = [f for f in findings if not f.is_error and f.id in wanted]
    return Report(shown, silenced, notes)


def full_id(check_id: str) -> str:
    """``w052`` or ``mypack.W052`` -> ``mypack.W052``."""
    return "mypack." + check_id.strip().removeprefix("mypack.").upper()
