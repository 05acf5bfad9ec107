"""``mypack check --deploy``: every finding by its id, silencing, the Apache and gunicorn
files, and the shipped production example passing on a real database."""

import re
import runpy
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from mypack.checks import CHECKS, check_gunicorn_conf, check_settings, check_vhost
from mypack.config import load_settings
from mypack.instance import PACKAGE_DIR, write_secret_key
from tests.support.system import ROOT, run_mypack

PRODUCTION_EXAMPLE = ROOT / "deploy" / "production.config.py"
#: A key that passes every check: 65 characters, no pattern, no placeholder.
STRONG_KEY = "Qm8dT2xLw9Pz-Vb4Nc7Hs1Kj6Rf3Ye5Ua0Wg8Xt2Zo9Lp4Mi7Bq1Cn6Dv3Es5Fh0Gk"
PLACEHOLDER_KEY = "please-change-me-to-a-long-random-string-before-going-live-0123"
#: What a production instance needs besides its secret_key file to pass --deploy.
GOOD = {"TRUSTED_HOSTS": ["cafe.example.com"],
        "SQLALCHEMY_DATABASE_URI": "postgresql://cafe:pw@db.internal/cafe",
        # A shared store for the rate-limit counters (memory:// gets W093).
        "RATELIMIT_STORAGE_URI": "redis://cache.internal:6379/0",
        # Mail with links to the public site, from an address of its domain.
        "SITE_URL": "https://cafe.example.com",
        "MAIL_DEFAULT_SENDER": "mypack café <orders@cafe.example.com>"}


@pytest.fixture
def prod_instance(instance_path) -> Path:
    """An instance folder as ``mypack init`` leaves it: mode 0750, secret_key 0600."""
    instance_path.chmod(0o750)
    write_secret_key(instance_path)
    return instance_path


def deploy_ids(instance_path: Path, config: str = "postgres", **overrides) -> set[str]:
    """The ids ``check --deploy`` finds in the settings and files (no database needed)."""
    settings = load_settings(config, instance_path, {**GOOD, **overrides})
    return {finding.id for finding in check_settings(settings, deploy=True)}


# --- the catalogue ------------------------------------------------------------------------

def test_every_id_is_catalogued_emitted_and_documented():
    source = "".join(path.read_text() for path in (ROOT / "mypack").rglob("*.py"))
    used = re.findall(r'"(mypack\.[EW]\d{3})"', source)
    readme = (ROOT / "README.md").read_text()
    assert set(used) == set(CHECKS)
    for check_id in CHECKS:
        # Once in the catalogue, at least once where it is reported.
        assert used.count(check_id) >= 2, f"{check_id} is never reported"
        assert f"| `{check_id}` |" in readme, f"{check_id} missing from the README's table"


# --- settings -----------------------------------------------------------------------------

def test_a_good_production_configuration_passes(prod_instance):
    assert deploy_ids(prod_instance) == set()


@pytest.mark.parametrize("config, overrides, expected", [
    ("development", {}, {"mypack.E002", "mypack.E041", "mypack.E046", "mypack.E048",
                         "mypack.E080", "mypack.E104", "mypack.E106"}),
    ("postgres", {"DEBUG": True}, {"mypack.E010"}),
    ("postgres", {"SECRET_KEY_FALLBACKS": ["dev"]}, {"mypack.E017"}),
    # Long and of 6 characters, but a pattern repeated (E018); short (E017).
    ("postgres", {"SECRET_KEY_FALLBACKS": ["a1b2c3" * 9, "short"]},
     {"mypack.E017", "mypack.E018"}),
    ("postgres", {"SECRET_KEY": STRONG_KEY}, {"mypack.E012"}),
    ("postgres", {"TESTING": True}, {"mypack.E003"}),
    ("testing", {}, {"mypack.E002", "mypack.E003", "mypack.E041", "mypack.E046",
                     "mypack.E048", "mypack.E080", "mypack.E092", "mypack.E104",
                     "mypack.E106"}),
    ("production", {"SQLALCHEMY_DATABASE_URI": None}, {"mypack.E023"}),
    ("production", {"SQLALCHEMY_DATABASE_URI": "sqlite:///cafe.db"}, {"mypack.E024"}),
    ("production", {"SQLALCHEMY_DATABASE_URI": "sqlite:///cafe.db",
                    "ALLOW_SQLITE_IN_PRODUCTION": True}, {"mypack.W025"}),
    ("postgres", {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}}, {"mypack.E026"}),
    ("postgres", {"LOG_FORMAT": "xml"}, {"mypack.E031"}),
    ("postgres", {"LOG_LEVEL": "LOUD"}, {"mypack.E032"}),
    ("postgres", {"LOG_FLUSH_SECONDS": -1}, {"mypack.E033"}),
    ("postgres", {"LOG_FLUSH_SECONDS": "1"}, {"mypack.E033"}),
    ("postgres", {"TRUSTED_HOSTS": None}, {"mypack.E040"}),
    ("postgres", {"TRUSTED_HOSTS": []}, {"mypack.E040"}),
    ("postgres", {"TRUSTED_HOSTS": "cafe.example.com"}, {"mypack.E040"}),
    # Any host, or every site under a public suffix.
    ("postgres", {"TRUSTED_HOSTS": ["*"]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": ["*.example.com"]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": ["cafe.example.com", ".com"]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": [".COM."]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": [".uk"]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": [".co.uk"]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": [".com.au"]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": [".github.io"]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": ["."]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": ["cafe.example.com", None]}, {"mypack.E058"}),
    ("postgres", {"TRUSTED_HOSTS": [".example.com", ".cafe.co.uk", "127.0.0.1", "[::1]",
                                    "cafe.example.com:8443", "co.uk"]}, set()),
    # X-Forwarded-Host trusted with nothing to check it against.
    ("postgres", {"TRUSTED_HOSTS": None, "PROXY_FIX_X_HOST": 1}, {"mypack.E040", "mypack.E059"}),
    ("postgres", {"TRUSTED_HOSTS": [], "PROXY_FIX_X_HOST": 1}, {"mypack.E040", "mypack.E059"}),
    ("postgres", {"PROXY_FIX_X_HOST": 1}, set()),
    ("postgres", {"SESSION_COOKIE_SECURE": False}, {"mypack.E041"}),
    ("postgres", {"SESSION_COOKIE_HTTPONLY": False}, {"mypack.E042"}),
    ("postgres", {"SESSION_COOKIE_SAMESITE": None}, {"mypack.E043"}),
    ("postgres", {"SESSION_COOKIE_SAMESITE": "None"}, {"mypack.E043"}),
    ("postgres", {"SESSION_COOKIE_SAMESITE": "strict"}, set()),
    ("postgres", {"PERMANENT_SESSION_LIFETIME": 43201}, {"mypack.E044"}),
    ("postgres", {"PERMANENT_SESSION_LIFETIME": timedelta(days=31)}, {"mypack.E044"}),
    ("postgres", {"PERMANENT_SESSION_LIFETIME": "12h"}, {"mypack.E044"}),
    ("postgres", {"PERMANENT_SESSION_LIFETIME": timedelta(hours=8)}, set()),
    ("postgres", {"MAX_CONTENT_LENGTH": None}, {"mypack.E045"}),
    ("postgres", {"MAX_CONTENT_LENGTH": 0}, {"mypack.E045"}),
    # Jobs and mail.
    ("postgres", {"CELERY_BROKER_URL": "sqs://queue"}, {"mypack.E100"}),
    ("postgres", {"CELERY_BROKER_URL": "redis://:pw@mq.internal:6379/1"}, set()),
    ("postgres", {"OUTBOX_CLAIM_SECONDS": 120}, {"mypack.E102"}),
    ("postgres", {"MAIL_USE_TLS": True, "MAIL_USE_SSL": True}, {"mypack.E103"}),
    ("postgres", {"OUTBOX_HAND_OVER": "later"}, {"mypack.E110"}),
    ("postgres", {"OUTBOX_HAND_OVER": "sweep", "OUTBOX_SWEEP_SECONDS": 0}, {"mypack.E111"}),
    ("postgres", {"CELERY_TASK_ALWAYS_EAGER": True}, {"mypack.E104"}),
    ("postgres", {"CELERY_BROKER_URL": "amqp://guest:guest@mq.internal//"}, {"mypack.E105"}),
    ("postgres", {"CELERY_BROKER_URL": "amqp://mypack:s3cret@mq.internal/mypack"}, set()),
    ("postgres", {"MAIL_BACKEND": "console"}, {"mypack.E106"}),
    ("postgres", {"SITE_URL": "http://cafe.example.com"}, {"mypack.E107"}),
    ("postgres", {"SITE_URL": "https://127.0.0.1:5000"}, {"mypack.E107"}),
    ("postgres", {"SITE_URL": "cafe.example.com"}, {"mypack.E107"}),
    ("postgres", {"MAIL_DEFAULT_SENDER": "mypack café <noreply@localhost>"}, {"mypack.E108"}),
    ("postgres", {"MAIL_DEFAULT_SENDER": "orders"}, {"mypack.E108"}),
    ("postgres", {"MAIL_SERVER": "smtp.example.net", "MAIL_PASSWORD": "pw"}, {"mypack.W109"}),
    ("postgres", {"MAIL_SERVER": "smtp.example.net", "MAIL_PASSWORD": "pw",
                  "MAIL_USE_TLS": True}, set()),
])
def test_each_setting_problem_has_its_id(prod_instance, config, overrides, expected):
    assert deploy_ids(prod_instance, config, **overrides) == expected


@pytest.mark.parametrize("key, expected", [
    (None, "mypack.E013"),
    ("a1b2c3d4e5" * 4, "mypack.E014"),
    ("ab" * 40, "mypack.E015"),
    ("changeme" * 8, "mypack.E016"),
    # Long and varied enough, but a short pattern repeated.
    ("x" * 63 + "abcde", "mypack.E018"),
    ("abcdefgh" * 8, "mypack.E018"),
    ("Qm8dT2xLw9Pz-" * 5, "mypack.E018"),
    ("9f8e7d6c5b4a" * 6 + "tail", "mypack.E018"),
    # A placeholder phrase, however long.
    (PLACEHOLDER_KEY, "mypack.E019"),
    ("your-secret-key-here-it-must-be-longer-than-fifty-characters-9", "mypack.E019"),
    ("Replace this with something random, at least fifty characters!!", "mypack.E019"),
    ("THIS-IS-NOT-FOR-PRODUCTION-DO-NOT-USE-IT-EVER-PLEASE-1234567890", "mypack.E019"),
    ("my dev key for the cafe application running on my own laptop 1", "mypack.E019"),
    ("a8Zq-7vLm-example-4RtY-9pQw-2XcV-6bNm-1KjH-5GfD-3sAz-0PoI-8UyT", "mypack.E019"),
])
def test_each_secret_key_problem_has_its_id(prod_instance, key, expected):
    key_file = prod_instance / "secret_key"
    key_file.unlink()
    if key is not None:
        key_file.write_text(key)
        key_file.chmod(0o600)
    assert deploy_ids(prod_instance) == {expected}


@pytest.mark.parametrize("key", [
    STRONG_KEY,
    "correct-horse-battery-staple-orbit-lantern-velvet-quarry-mosaic-thistle",
    "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2",  # hex digits
])
def test_a_long_varied_key_without_a_placeholder_passes(prod_instance, key):
    (prod_instance / "secret_key").write_text(key)
    assert deploy_ids(prod_instance) == set()


@pytest.mark.parametrize("fallbacks, expected", [
    (["abcdefgh" * 8], {"mypack.E018"}),
    ([STRONG_KEY, PLACEHOLDER_KEY], {"mypack.E019"}),
    # One finding per weak key: E017 already refuses one of a single character.
    ([STRONG_KEY, PLACEHOLDER_KEY, "x" * 60], {"mypack.E017", "mypack.E019"}),
])
def test_fallback_keys_are_checked_like_the_key(prod_instance, fallbacks, expected):
    assert deploy_ids(prod_instance, SECRET_KEY_FALLBACKS=fallbacks) == expected


@pytest.mark.parametrize("policy", [
    "default-src 'self' 'unsafe-inline'; object-src 'none'",
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-r4nd0m'; object-src 'none'",
    "default-src 'self'; script-src-attr 'unsafe-inline'; object-src 'none'",
    "default-src 'self'; script-src 'self' data:; object-src 'none'",
    "object-src 'none'",  # no script-src, no default-src: any script runs
    "default-src *; object-src 'none'",
    "default-src 'self'; img-src https:; object-src 'none'",
    "default-src 'self'; connect-src https://*; object-src 'none'",
    "default-src 'self'; object-src 'none'; form-action *",
])
def test_a_csp_with_inline_script_or_any_host_is_refused(prod_instance, policy):
    assert deploy_ids(prod_instance, CONTENT_SECURITY_POLICY=policy) == {"mypack.E097"}


@pytest.mark.parametrize("policy", [
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: "
    "https://*.example.com; object-src 'none'",
    "default-src 'none'; script-src 'self' https://cdn.example.com; object-src 'none'; "
    "upgrade-insecure-requests",
])
def test_a_strict_csp_passes(prod_instance, policy):
    assert deploy_ids(prod_instance, CONTENT_SECURITY_POLICY=policy) == set()


def test_the_deploy_checks_need_deploy(prod_instance):
    settings = load_settings("postgres", prod_instance,
                             {**GOOD, "TRUSTED_HOSTS": None, "SESSION_COOKIE_SECURE": False})
    assert check_settings(settings) == []
    assert {f.id for f in check_settings(settings, deploy=True)} == {"mypack.E040", "mypack.E041"}


# --- files and folders --------------------------------------------------------------------

def test_an_open_secret_key_file_is_an_error_only_with_deploy(prod_instance):
    (prod_instance / "secret_key").chmod(0o640)
    settings = load_settings("postgres", prod_instance, GOOD)
    assert [f.id for f in check_settings(settings)] == ["mypack.W011"]
    assert [f.id for f in check_settings(settings, deploy=True)] == ["mypack.E011"]


@pytest.mark.parametrize("folder_mode, expected", [
    (0o750, set()),
    (0o700, set()),
    (0o755, {"mypack.W052"}),
    (0o751, {"mypack.W052"}),
    (0o753, {"mypack.W052", "mypack.E054"}),
])
def test_the_instance_folder_is_closed_to_others(prod_instance, folder_mode, expected):
    prod_instance.chmod(folder_mode)
    assert deploy_ids(prod_instance) == expected


@pytest.mark.parametrize("body, mode, expected", [
    ("DB_PASSWORD = 'hunter2'\n", 0o640, set()),
    ("DB_PASSWORD = 'hunter2'\n", 0o644, {"mypack.E053"}),
    ("SQLALCHEMY_DATABASE_URI = 'postgresql://cafe:hunter2@db/cafe'\n", 0o644, {"mypack.E053"}),
    ("SQLALCHEMY_DATABASE_URI = 'postgresql://cafe@db/cafe'\n", 0o644, set()),
    ("LOG_LEVEL = 'INFO'\n", 0o644, set()),
    ("LOG_LEVEL = 'INFO'\n", 0o646, {"mypack.E054"}),
])
def test_secrets_in_config_py_are_not_world_readable(prod_instance, body, mode, expected):
    config = prod_instance / "config.py"
    config.write_text(body)
    config.chmod(mode)
    settings = load_settings("postgres", prod_instance,
                             {k: v for k, v in GOOD.items() if k != "SQLALCHEMY_DATABASE_URI"})
    assert {f.id for f in check_settings(settings, deploy=True)} == expected


@pytest.mark.parametrize("inside, expected", [
    ("instance", {"mypack.E050"}),
    ("static/instance", {"mypack.E050", "mypack.E051"}),
])
def test_an_instance_folder_inside_the_installed_package(tmp_path, inside, expected):
    # A copy of the package imported first (PYTHONPATH), as if installed there.
    shutil.copytree(PACKAGE_DIR, tmp_path / "mypack",
                    ignore=shutil.ignore_patterns("__pycache__"))
    instance = tmp_path / "mypack" / inside
    env = {"PYTHONPATH": str(tmp_path)}
    assert run_mypack("--instance", str(instance), "init", env=env).returncode == 0
    result = run_mypack("--instance", str(instance), "--config", "postgres", "check", "--deploy",
                        env=env)
    found = set(re.findall(r"^(mypack\.E05\d):", result.stdout, re.M))
    assert found == expected, result.stdout
    assert f"is inside the installed package {tmp_path / 'mypack'}" in result.stdout


# --- silencing, through the command line --------------------------------------------------

@pytest.fixture
def sqlite_production(tmp_path) -> Path:
    """A migrated production instance whose only finding is the warning W025."""
    instance = tmp_path / "instance"
    assert run_mypack("--instance", str(instance), "init").returncode == 0
    (instance / "config.py").write_text(
        "CONFIG = 'production'\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{tmp_path / 'cafe.sqlite'}'\n"
        "ALLOW_SQLITE_IN_PRODUCTION = True\n"
        "TRUSTED_HOSTS = ['cafe.example.com']\n"
        "RATELIMIT_STORAGE_URI = 'redis://cache.internal:6379/0'\n"
        "SITE_URL = 'https://cafe.example.com'\n"
        "MAIL_DEFAULT_SENDER = 'orders@cafe.example.com'\n")
    assert run_mypack("--instance", str(instance), "db", "upgrade").returncode == 0
    return instance


def check_deploy(instance: Path, *args: str, env: dict | None = None):
    return run_mypack("--instance", str(instance), "check", "--deploy", *args, env=env)


def test_a_warning_does_not_fail_the_check(sqlite_production):
    result = check_deploy(sqlite_production)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("mypack.W025: SQLite serves production")
    assert "no errors, 1 warning(s)" in result.stdout


@pytest.mark.parametrize("how", ["option", "short option", "config.py", "environment"])
def test_a_warning_can_be_silenced(sqlite_production, how):
    args, env = [], None
    if how == "option":
        args = ["--silence", "mypack.W025"]
    elif how == "short option":
        args = ["--silence", "w025"]
    elif how == "config.py":
        with (sqlite_production / "config.py").open("a") as config:
            config.write("SILENCED_CHECKS = ['mypack.W025']\n")
    else:
        env = {"MYPACK_SILENCED_CHECKS": "mypack.W011,mypack.W025"}
    result = check_deploy(sqlite_production, *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "W025" not in result.stdout
    assert result.stdout == "no problems found, 1 silenced\n"
    assert result.stderr == ""


def test_an_error_cannot_be_silenced(sqlite_production):
    with (sqlite_production / "config.py").open("a") as config:
        config.write("TRUSTED_HOSTS = None\nSILENCED_CHECKS = ['mypack.E040']\n")
    result = check_deploy(sqlite_production, "--silence", "mypack.E041", "--silence", "W999")
    assert result.returncode == 1
    assert "mypack.E040: TRUSTED_HOSTS is not set" in result.stdout
    assert "note: mypack.E040 is an error and cannot be silenced" in result.stderr
    assert "note: mypack.E041 is an error and cannot be silenced" in result.stderr
    assert "note: mypack.W999 is not a check id" in result.stderr
    assert result.stderr.endswith("1 error(s), 1 warning(s) found\n")


# --- the shipped production example -------------------------------------------------------

def test_the_production_example_holds_no_secret():
    values = {k: v for k, v in runpy.run_path(str(PRODUCTION_EXAMPLE)).items() if k.isupper()}
    assert values["CONFIG"] == "postgres"
    assert "SECRET_KEY" not in values and "SECRET_KEY_FALLBACKS" not in values
    assert values["DB_PASSWORD"] == ""
    assert values["TRUSTED_HOSTS"] == ["cafe.example.com"]


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_the_production_example_passes_check_deploy(backend, database_url, tmp_path):
    instance = tmp_path / "instance"
    assert run_mypack("--instance", str(instance), "init").returncode == 0
    shutil.copyfile(PRODUCTION_EXAMPLE, instance / "config.py")
    # Only what depends on the host: its database server and a log folder of the test's own.
    url = make_url(database_url)
    env = {"MYPACK_CONFIG": backend, "MYPACK_DB_HOST": url.host, "MYPACK_DB_PORT": str(url.port),
           "MYPACK_DB_NAME": url.database, "MYPACK_DB_USER": url.username,
           "MYPACK_DB_PASSWORD": url.password, "MYPACK_LOG_DIR": str(tmp_path / "logs")}
    upgrade = run_mypack("--instance", str(instance), "db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    result = check_deploy(instance, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    # The example silences W093 (per-process rate-limit counters) and says why.
    assert result.stdout == "no problems found, 1 silenced\n"


# --- Apache vhost -------------------------------------------------------------------------

GOOD_VHOST = """\
<VirtualHost *:443>
    ServerName cafe.example.com
    # A daemon process group, its options over continuation lines.
    WSGIDaemonProcess mypack \\
        processes=2 threads=5 display-name=%{GROUP} \\
        queue-timeout=45 request-timeout=60
    WSGIProcessGroup mypack
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / /srv/mypack/start.wsgi process-group=mypack application-group=%{GLOBAL}
    WSGIPassAuthorization On
    Alias /static/ /srv/mypack/venv/lib/python3.11/site-packages/mypack/static/
</VirtualHost>
"""


@pytest.fixture
def good_settings(prod_instance):
    return load_settings("postgres", prod_instance, GOOD)


def vhost_ids(tmp_path: Path, text: str, settings) -> list[str]:
    path = tmp_path / "mypack.conf"
    path.write_text(text)
    return [finding.id for finding in check_vhost(path, settings)]


def test_a_good_vhost_passes(tmp_path, good_settings):
    assert vhost_ids(tmp_path, GOOD_VHOST, good_settings) == []


@pytest.mark.parametrize("old, new, expected", [
    ("    WSGIPassAuthorization On\n", "", ["mypack.E061"]),
    ("WSGIPassAuthorization On", "WSGIPassAuthorization Off", ["mypack.E061"]),
    ("WSGIPassAuthorization On", "# WSGIPassAuthorization On", ["mypack.E061"]),
    (" request-timeout=60", "", ["mypack.E063"]),
    ("request-timeout=60", "request-timeout=0", ["mypack.E063"]),
    ("request-timeout=60", "request-timeout=10", ["mypack.W067"]),
    ("queue-timeout=45 ", "", ["mypack.E064"]),
    ("queue-timeout=45", "queue-timeout=0", ["mypack.E064"]),
    # The continuation lines are part of the directive: cut them off and the timeouts go.
    ("display-name=%{GROUP} \\", "display-name=%{GROUP}", ["mypack.E063", "mypack.E064"]),
    ("WSGIDaemonProcess mypack", "# WSGIDaemonProcess mypack", ["mypack.E062"]),
    ("WSGIApplicationGroup %{GLOBAL}", "WSGIApplicationGroup %{RESOURCE}", ["mypack.E065"]),
    ("    WSGIApplicationGroup %{GLOBAL}\n", "", []),  # application-group= on the alias suffices
    (" application-group=%{GLOBAL}", "", []),
])
def test_each_vhost_problem_has_its_id(tmp_path, good_settings, old, new, expected):
    assert old in GOOD_VHOST
    assert vhost_ids(tmp_path, GOOD_VHOST.replace(old, new), good_settings) == expected


def test_a_vhost_without_any_application_group(tmp_path, good_settings):
    text = GOOD_VHOST.replace("    WSGIApplicationGroup %{GLOBAL}\n", "")
    text = text.replace(" application-group=%{GLOBAL}", "")
    assert vhost_ids(tmp_path, text, good_settings) == ["mypack.E065"]


@pytest.mark.parametrize("served", ["parent", "instance"])
def test_a_vhost_must_not_serve_the_instance_folder(tmp_path, good_settings, served):
    instance = good_settings.instance_path
    target = instance.parent if served == "parent" else instance
    text = GOOD_VHOST.replace("</VirtualHost>", f'    Alias /files/ "{target}/"\n</VirtualHost>')
    assert vhost_ids(tmp_path, text, good_settings) == ["mypack.E066"]
    text = GOOD_VHOST.replace("</VirtualHost>", f"    DocumentRoot {target}\n</VirtualHost>")
    assert vhost_ids(tmp_path, text, good_settings) == ["mypack.E066"]


@pytest.mark.parametrize("make", ["missing", "directory", "binary"])
def test_an_unreadable_vhost_is_a_finding(tmp_path, make):
    path = tmp_path / "mypack.conf"
    if make == "directory":
        path.mkdir()
    elif make == "binary":
        path.write_bytes(b"\xff\xfe\x00WSGI")
    findings = check_vhost(path)
    assert [f.id for f in findings] == ["mypack.E060"]
    assert str(path) in findings[0].message


# --- gunicorn config ----------------------------------------------------------------------

GOOD_GUNICORN = """\
import os

bind = "127.0.0.1:8000"
workers = 2
# Computed, as real config files do: the check runs the file to see the value.
timeout = int(os.environ.get("MYPACK_TEST_GUNICORN_TIMEOUT", "30"))
forwarded_allow_ips = "127.0.0.1,::1"
preload_app = False
"""


def gunicorn_ids(tmp_path: Path, text: str, settings=None) -> list[str]:
    path = tmp_path / "gunicorn.conf.py"
    path.write_text(text)
    return [finding.id for finding in check_gunicorn_conf(path, settings)]


def test_a_good_gunicorn_config_passes(tmp_path, good_settings):
    assert gunicorn_ids(tmp_path, GOOD_GUNICORN, good_settings) == []


@pytest.mark.parametrize("line, expected", [
    ("del timeout", ["mypack.E071"]),
    ("timeout = 0", ["mypack.E071"]),
    ("timeout = 'soon'", ["mypack.E071"]),
    ("timeout = '45'", []),  # gunicorn accepts a number as text
    ("timeout = 10", ["mypack.W074"]),
    ("forwarded_allow_ips = '*'", ["mypack.E072"]),
    ("forwarded_allow_ips = '127.0.0.1, *'", ["mypack.E072"]),
    ("forwarded_allow_ips = ['10.0.0.2', '*']", ["mypack.E072"]),
    ("forwarded_allow_ips = ['10.0.0.2']", []),
    ("preload_app = True", ["mypack.E073"]),
    ("preload_app = 'yes'", ["mypack.E073"]),
    ("preload_app = 'false'", []),
])
def test_each_gunicorn_problem_has_its_id(tmp_path, good_settings, line, expected):
    assert gunicorn_ids(tmp_path, GOOD_GUNICORN + line + "\n", good_settings) == expected


@pytest.mark.parametrize("text, fragment", [
    ("timeout = \n", "SyntaxError"),
    ("import mypack_no_such_module\n", "ModuleNotFoundError"),
    ("raise SystemExit(3)\n", "SystemExit"),
])
def test_a_failing_gunicorn_config_is_a_finding(tmp_path, text, fragment):
    path = tmp_path / "gunicorn.conf.py"
    path.write_text(text)
    (finding,) = check_gunicorn_conf(path)
    assert finding.id == "mypack.E070"
    assert f"error in gunicorn config {path}: {fragment}" in finding.message


# --- server files through the command line ------------------------------------------------

def test_server_files_through_the_command_line(sqlite_production, tmp_path):
    vhost, conf = tmp_path / "mypack.conf", tmp_path / "gunicorn.conf.py"
    vhost.write_text(GOOD_VHOST)
    conf.write_text(GOOD_GUNICORN)
    good = check_deploy(sqlite_production, "--silence", "W025", "--vhost", str(vhost),
                        "--gunicorn-conf", str(conf))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout == "no problems found, 1 silenced\n"

    vhost.write_text(GOOD_VHOST.replace("WSGIPassAuthorization On", ""))
    conf.write_text(GOOD_GUNICORN + "preload_app = True\n")
    bad = check_deploy(sqlite_production, "--silence", "W025", "--vhost", str(vhost),
                       "--gunicorn-conf", str(conf))
    assert bad.returncode == 1
    assert "Traceback" not in bad.stdout + bad.stderr
    assert re.findall(r"^mypack\.\w+", bad.stdout, re.M) == ["mypack.E061", "mypack.E073"]


def test_missing_server_files_are_findings_not_tracebacks(sqlite_production, tmp_path):
    result = check_deploy(sqlite_production, "--vhost", str(tmp_path / "none.conf"),
                          "--gunicorn-conf", str(tmp_path / "none.py"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"mypack.E060: cannot read vhost {tmp_path / 'none.conf'}: No such file" in result.stdout
    assert (f"mypack.E070: cannot read gunicorn config {tmp_path / 'none.py'}: No such file"
            in result.stdout)


def test_an_unreachable_broker_is_an_error_with_its_password_hidden(sqlite_production):
    # Port 1: nothing listens. Jobs in-process need no broker at all.
    env = {"MYPACK_CELERY_BROKER_URL": "amqp://mypack:s3cret@127.0.0.1:1//"}
    result = check_deploy(sqlite_production, env=env)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if "E101" in line]
    assert line.startswith("mypack.E101: job broker amqp://mypack:***@127.0.0.1:1// unreachable")
    assert "s3cret" not in result.stdout
    result = run_mypack("--instance", str(sqlite_production), "check",
                        env={**env, "MYPACK_CELERY_TASK_ALWAYS_EAGER": "true"})
    assert "E101" not in result.stdout
