"""mypack check --deploy: the login checks (remember cookie, idle timeout, CSRF,
password hashing, rate-limit storage)."""

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
])
def test_each_weakness_is_found(changes, expected):
    assert ids(**changes) == [expected]


@pytest.mark.parametrize("method", ["pbkdf2:sha256:600000", "pbkdf2:sha256:1200000",
                                    "scrypt:131072:8:1"])
def test_asvs_hashing_passes(method):
    assert ids(PASSWORD_HASH_METHOD=method) == []


def test_csrf_exempt_views_are_listed():
    values = {**ProductionConfig.defaults(), "RATELIMIT_STORAGE_URI": "redis://cache:6379"}
    (finding,) = account_findings(values, exempt_views=["api.tokens"])
    assert finding.id == "mypack.W091" and "api.tokens" in finding.message
