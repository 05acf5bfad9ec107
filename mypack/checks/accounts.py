"""Deploy checks of logins: remember cookie, idle timeout, session protection, CSRF,
password hashing and length, lock-out, rate limits and where their counters live."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mypack.checks.findings import Finding, as_seconds, cookie_findings

#: The longest "remember me" --deploy accepts: 30 days.
MAX_REMEMBER_SECONDS = 30 * 24 * 60 * 60
#: OWASP ASVS 5.0, appendix C.
MIN_PBKDF2_SHA256_ITERATIONS = 600_000
MIN_SCRYPT_N = 2 ** 17
#: PASSWORD_MIN_LENGTH --deploy accepts: ASVS 5.0 and NIST SP 800-63B ask at least 8,
#: and that passwords of 64 be allowed, so a minimum above 64 is a typo.
PASSWORD_MIN_LENGTHS = range(8, 64 + 1)
#: LOCKOUT_THRESHOLD --deploy accepts: 0 or less never locks; past 100, an attacker
#: tries 100 passwords per account per window.
LOCKOUT_THRESHOLDS = range(1, 100 + 1)
#: LOCKOUT_WINDOW and LOCKOUT_DURATION, in seconds: under a minute the lock barely
#: slows a script; over a day, anyone who knows an email can keep its owner out.
LOCKOUT_SECONDS = (60, 24 * 60 * 60)
#: The most login or registration posts AUTH_RATE_LIMIT may let one client make in a
#: minute (the default lets 10).
MAX_AUTH_ATTEMPTS_PER_MINUTE = 60


def account_findings(values: Mapping[str, Any], exempt_views=()) -> list[Finding]:
    """Everything about logins that a production installation must get right."""
    return [*check_remember_cookie(values), *check_idle_timeout(values),
            *check_session_protection(values), *check_csrf(values, exempt_views),
            *check_password_hashing(values), *check_rate_limit_storage(values),
            *check_lockout(values), *check_auth_rate_limit(values),
            *check_password_length(values)]


def check_remember_cookie(values: Mapping[str, Any]) -> list[Finding]:
    """The remember cookie (it logs a browser in for weeks): HTTPS only, hidden from
    scripts, SameSite, and 30 days at most."""
    findings = cookie_findings(values, "REMEMBER_COOKIE", "remember cookie",
                               ("mypack.E080", "mypack.E081", "mypack.E082"))
    seconds = as_seconds(values.get("REMEMBER_COOKIE_DURATION"))
    if seconds is None or seconds > MAX_REMEMBER_SECONDS:
        findings.append(Finding("mypack.E083", "REMEMBER_COOKIE_DURATION is "
                                               f"{values.get('REMEMBER_COOKIE_DURATION')!r}; set "
                                               f"at most {MAX_REMEMBER_SECONDS} (30 days)"))
    return findings


def check_idle_timeout(values: Mapping[str, Any]) -> list[Finding]:
    """A login left alone ends: SESSION_IDLE_TIMEOUT set, at most 12 hours."""
    seconds = as_seconds(values.get("SESSION_IDLE_TIMEOUT"))
    if seconds and 0 < seconds <= 12 * 60 * 60:
        return []
    return [Finding("mypack.E084", "SESSION_IDLE_TIMEOUT is "
                                   f"{values.get('SESSION_IDLE_TIMEOUT')!r}: an unattended "
                                   "login never ends; set e.g. 1800 (seconds)")]


def check_session_protection(values: Mapping[str, Any]) -> list[Finding]:
    """Flask-Login's session protection on: a session cookie replayed from another client
    is no longer fresh ("basic") or is dropped ("strong")."""
    value = values.get("SESSION_PROTECTION")
    if value in ("basic", "strong"):
        return []
    return [Finding("mypack.E085", f"SESSION_PROTECTION is {value!r}, which turns Flask-Login's "
                                   "session protection off; set 'basic' (the default) or "
                                   "'strong'")]


def check_csrf(values: Mapping[str, Any], exempt_views=()) -> list[Finding]:
    """CSRF protection on, and every view exempt from it named."""
    findings = []
    if not values.get("WTF_CSRF_ENABLED", True):
        findings.append(Finding("mypack.E090", "WTF_CSRF_ENABLED is off: any site can post "
                                               "forms as a logged-in user; remove that setting"))
    if exempt_views:
        findings.append(Finding("mypack.W091", "views exempt from CSRF (they must authenticate "
                                               f"otherwise): {', '.join(sorted(exempt_views))}"))
    return findings


def check_password_hashing(values: Mapping[str, Any]) -> list[Finding]:
    """Password hashes meet OWASP ASVS 5.0: pbkdf2-sha256 >= 600,000 or scrypt N >= 2^17."""
    method = str(values.get("PASSWORD_HASH_METHOD") or "")
    name, _, parameters = method.partition(":")
    if name == "pbkdf2":
        digest, _, iterations = parameters.partition(":")
        if digest == "sha256" and iterations.isdigit() and \
                int(iterations) >= MIN_PBKDF2_SHA256_ITERATIONS:
            return []
    elif name == "scrypt":
        n = parameters.split(":")[0]
        if n.isdigit() and int(n) >= MIN_SCRYPT_N:
            return []
    return [Finding("mypack.E092", f"PASSWORD_HASH_METHOD {method!r} is below OWASP ASVS 5.0; "
                                   "use 'pbkdf2:sha256:600000' (the default) or "
                                   "'scrypt:131072:8:1'")]


def check_rate_limit_storage(values: Mapping[str, Any]) -> list[Finding]:
    """Per-client limits counted in memory are per process: several processes multiply them."""
    uri = str(values.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not uri.startswith("memory://"):
        return []
    return [Finding("mypack.W093", "RATELIMIT_STORAGE_URI is memory://: each server process "
                                   "counts on its own, so the login limit is multiplied by the "
                                   "number of processes; use a shared store (e.g. redis://) or "
                                   "silence this with one process")]


def check_lockout(values: Mapping[str, Any]) -> list[Finding]:
    """The per-account lock-out is on and within bounds: LOCKOUT_THRESHOLD failures in
    LOCKOUT_WINDOW seconds lock the email for LOCKOUT_DURATION seconds."""
    problems = []
    threshold = values.get("LOCKOUT_THRESHOLD")
    if not _whole(threshold) or threshold not in LOCKOUT_THRESHOLDS:
        problems.append(f"LOCKOUT_THRESHOLD is {threshold!r} (1 to 100 failures)")
    low, high = LOCKOUT_SECONDS
    for name in ("LOCKOUT_WINDOW", "LOCKOUT_DURATION"):
        seconds = values.get(name)
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) \
                or not low <= seconds <= high:
            problems.append(f"{name} is {seconds!r} ({low} to {high} seconds)")
    if not problems:
        return []
    return [Finding("mypack.E094", f"the login lock-out is off or out of bounds: "
                                   f"{'; '.join(problems)}; the defaults are 5 failures in "
                                   "900 seconds, locked for 900")]


def check_auth_rate_limit(values: Mapping[str, Any]) -> list[Finding]:
    """Flask-Limiter on, and AUTH_RATE_LIMIT a limit that lets a client make at most
    MAX_AUTH_ATTEMPTS_PER_MINUTE login or registration posts a minute.

    Several limits ("10 per minute; 100 per day") all apply: the strictest counts.
    """
    from limits import parse_many

    value = values.get("AUTH_RATE_LIMIT")
    hint = "set e.g. '10 per minute' (the default)"
    if not values.get("RATELIMIT_ENABLED", True):
        return [Finding("mypack.E095", "RATELIMIT_ENABLED is off, so logins and registrations "
                                       "are not limited per client; remove that setting")]
    try:
        limits = parse_many(value) if isinstance(value, str) else []
    except ValueError:
        limits = []
    if not limits:
        return [Finding("mypack.E095", f"AUTH_RATE_LIMIT {value!r} is not a rate limit, so "
                                       f"logins are not limited per client; {hint}")]
    # Within any minute a limit lets its amount through, once per window the minute holds.
    per_minute = min(limit.amount * math.ceil(60 / limit.get_expiry()) for limit in limits)
    if per_minute <= MAX_AUTH_ATTEMPTS_PER_MINUTE:
        return []
    return [Finding("mypack.E095", f"AUTH_RATE_LIMIT {value!r} lets one client try "
                                   f"{per_minute} passwords a minute (at most "
                                   f"{MAX_AUTH_ATTEMPTS_PER_MINUTE}); {hint}")]


def check_password_length(values: Mapping[str, Any]) -> list[Finding]:
    """New passwords need at least 8 characters, and no minimum above 64 is asked."""
    minimum = values.get("PASSWORD_MIN_LENGTH")
    if _whole(minimum) and minimum in PASSWORD_MIN_LENGTHS:
        return []
    return [Finding("mypack.E096", f"PASSWORD_MIN_LENGTH is {minimum!r}; set a whole number "
                                   f"from {PASSWORD_MIN_LENGTHS.start} to "
                                   f"{PASSWORD_MIN_LENGTHS.stop - 1} (8, the default, is what "
                                   "OWASP ASVS asks)")]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
