"""mypack check --deploy: the login checks (remember cookie, idle timeout, session
protection, CSRF, password hashing and length, lock-out, rate limits and their storage)."""

import pytest

from mypack.checks.accounts import account_findings
from mypack.config import ProductionConfig


def ids(**changes):
    values = {**ProductionConfig.defaults(), "RATELIMIT_STORAGE_URI": "redis://cache:6379",
              **changes}
    return [finding.id for finding in account_findings(values)]


def test_production_defaults_pass():
    assert ids() == []


@pytest.mark.parametrize("changes, expected", [
    ({"REMEMBER_COOKIE_SECURE": False}, "mypack.E080"),
    ({"REMEMBER_COOKIE_HTTPONLY": False}, "mypack.E081"),
    ({"REMEMBER_COOKIE_SAMESITE": "None"}, "mypack.E082"),
    ({"REMEMBER_COOKIE_DURATION": 365 * 24 * 3600}, "mypack.E083"),
    ({"SESSION_IDLE_TIMEOUT": 0}, "mypack.E084"),
    ({"SESSION_IDLE_TIMEOUT": 13 * 3600}, "mypack.E084"),
    ({"WTF_CSRF_ENABLED": False}, "mypack.E090"),
    ({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}, "mypack.E092"),
    ({"PASSWORD_HASH_METHOD": "scrypt:32768:8:1"}, "mypack.E092"),
    ({"PASSWORD_HASH_METHOD": "pbkdf2:sha1:900000"}, "mypack.E092"),
    ({"RATELIMIT_STORAGE_URI": "memory://"}, "mypack.W093"),
    ({"SESSION_PROTECTION": None}, "mypack.E085"),
    ({"SESSION_PROTECTION": "off"}, "mypack.E085"),
    ({"SESSION_PROTECTION": "Basic"}, "mypack.E085"),  # Flask-Login ignores it: off
    ({"LOCKOUT_THRESHOLD": 0}, "mypack.E094"),
    ({"LOCKOUT_THRESHOLD": None}, "mypack.E094"),
    ({"LOCKOUT_THRESHOLD": 101}, "mypack.E094"),
    ({"LOCKOUT_THRESHOLD": "5"}, "mypack.E094"),
    ({"LOCKOUT_WINDOW": 0}, "mypack.E094"),
    ({"LOCKOUT_DURATION": 30}, "mypack.E094"),
    ({"LOCKOUT_DURATION": 7 * 24 * 3600}, "mypack.E094"),
    ({"RATELIMIT_ENABLED": False}, "mypack.E095"),
    ({"AUTH_RATE_LIMIT": ""}, "mypack.E095"),
    ({"AUTH_RATE_LIMIT": None}, "mypack.E095"),
    ({"AUTH_RATE_LIMIT": "lots"}, "mypack.E095"),
    ({"AUTH_RATE_LIMIT": "1000 per minute"}, "mypack.E095"),
    ({"AUTH_RATE_LIMIT": "2 per second"}, "mypack.E095"),
    ({"AUTH_RATE_LIMIT": "86400 per day"}, "mypack.E095"),  # all of them in one minute
    ({"PASSWORD_MIN_LENGTH": 6}, "mypack.E096"),
    ({"PASSWORD_MIN_LENGTH": 0}, "mypack.E096"),
    ({"PASSWORD_MIN_LENGTH": None}, "mypack.E096"),
    ({"PASSWORD_MIN_LENGTH": 65}, "mypack.E096"),
    ({"PASSWORD_MIN_LENGTH": "12"}, "mypack.E096"),
])
def test_each_weakness_is_found(changes, expected):
    assert ids(**changes) == [expected]


@pytest.mark.parametrize("method", ["pbkdf2:sha256:600000", "pbkdf2:sha256:1200000",
                                    "scrypt:131072:8:1"])
def test_asvs_hashing_passes(method):
    assert ids(PASSWORD_HASH_METHOD=method) == []


@pytest.mark.parametrize("changes", [
    {"SESSION_PROTECTION": "strong"},
    {"LOCKOUT_THRESHOLD": 1}, {"LOCKOUT_THRESHOLD": 100},
    {"LOCKOUT_WINDOW": 60, "LOCKOUT_DURATION": 86400}, {"LOCKOUT_WINDOW": 3600.0},
    {"AUTH_RATE_LIMIT": "60 per minute"}, {"AUTH_RATE_LIMIT": "1/second"},
    {"AUTH_RATE_LIMIT": "5 per minute; 50 per day"},
    {"AUTH_RATE_LIMIT": "1000 per day; 20/minute"},  # the strictest limit counts
    {"PASSWORD_MIN_LENGTH": 8}, {"PASSWORD_MIN_LENGTH": 64},
])
def test_bounds_that_pass(changes):
    assert ids(**changes) == []


def test_csrf_exempt_views_are_listed():
    values = {**ProductionConfig.defaults(), "RATELIMIT_STORAGE_URI": "redis://cache:6379"}
    (finding,) = account_findings(values, exempt_views=["api.tokens"])
    assert finding.id == "mypack.W091" and "api.tokens" in finding.message
