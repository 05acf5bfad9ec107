"""Deploy checks of logins: remember cookie, idle timeout, CSRF, password hashing,
where the rate-limit counters live."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mypack.checks.findings import Finding, as_seconds, cookie_findings

#: The longest "remember me" --deploy accepts: 30 days.
MAX_REMEMBER_SECONDS = 30 * 24 * 60 * 60
#: OWASP ASVS 5.0, appendix C.
MIN_PBKDF2_SHA256_ITERATIONS = 600_000
MIN_SCRYPT_N = 2 ** 17


def account_findings(values: Mapping[str, Any], exempt_views=()) -> list[Finding]:
    """Everything about logins that a production installation must get right."""
    return [*check_remember_cookie(values), *check_idle_timeout(values),
            *check_csrf(values, exempt_views), *check_password_hashing(values),
            *check_rate_limit_storage(values)]


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
