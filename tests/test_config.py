"""Configuration: selection by name, load order, backend URLs and engine options,
production refusals."""

import ast
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from mypack import create_app
from mypack.config import CONFIGS, load_settings
from mypack.exceptions import ConfigError

STRONG_KEY = "Qm8dT2xLw9Pz-" * 5  # 65 characters, 13 distinct
PROD = {"SECRET_KEY": STRONG_KEY, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://u:p@h/d"}


def write_instance_config(instance_path: Path, body: str) -> None:
    (instance_path / "config.py").write_text(body)


# --- selection -----------------------------------------------------------------------

def test_default_is_development(instance_path):
    assert load_settings(instance_path=instance_path).config_class.name == "development"


def test_instance_config_chooses(instance_path):
    write_instance_config(instance_path, 'CONFIG = "testing"\n')
    settings = load_settings(instance_path=instance_path)
    assert settings.config_class.name == "testing"
    assert settings.sources["CONFIG"] == str(instance_path / "config.py")


def test_environment_beats_instance_config(instance_path, monkeypatch):
    write_instance_config(instance_path, 'CONFIG = "development"\n')
    monkeypatch.setenv("MYPACK_CONFIG", "testing")
    assert load_settings(instance_path=instance_path).config_class.name == "testing"


def test_argument_beats_environment(instance_path, monkeypatch):
    monkeypatch.setenv("MYPACK_CONFIG", "development")
    settings = load_settings("testing", instance_path=instance_path)
    assert settings.config_class.name == "testing"
    assert settings.sources["CONFIG"] == "create_app argument"


def test_the_readme_documents_every_configuration_and_no_other():
    # The README's table, "| `name` | `Class` | for |": its rows are the names and
    # classes that exist, no more and no fewer.
    readme = Path(__file__).parent.parent.joinpath("README.md").read_text()
    table = readme.split("### Choosing a configuration", 1)[1].split("\n\n", 2)[1]
    documented = {row.split("|")[1].strip(" `"): row.split("|")[2].strip(" `")
                  for row in table.splitlines()[2:]}
    assert documented == {name: config.__name__ for name, config in CONFIGS.items()}


def test_unknown_name_lists_the_valid_ones(instance_path):
    with pytest.raises(ConfigError) as error:
        create_app("staging", instance_path=instance_path)
    message = str(error.value)
    assert "'staging'" in message
    for name in CONFIGS:
        assert name in message


# --- load order ----------------------------------------------------------------------

def test_layers_override_in_documented_order(instance_path, monkeypatch):
    write_instance_config(instance_path, "LOG_LEVEL = 'WARNING'\nREADYZ_TIMEOUT = 7\n"
                                         "LOG_BACKUP_COUNT = 3\nSECRET_KEY = 'from-config'\n")
    (instance_path / "secret_key").write_text("from-file-" + "x1y2z3" * 10)
    monkeypatch.setenv("MYPACK_READYZ_TIMEOUT", "9")
    monkeypatch.setenv("MYPACK_LOG_BACKUP_COUNT", "4")
    settings = load_settings("testing", instance_path, {"LOG_BACKUP_COUNT": 5})
    values, sources = settings.values, settings.sources
    assert values["LOG_LEVEL"] == "WARNING"
    assert sources["LOG_LEVEL"] == str(instance_path / "config.py")
    assert values["SECRET_KEY"].startswith("from-file-")
    assert sources["SECRET_KEY"] == str(instance_path / "secret_key")
    assert values["READYZ_TIMEOUT"] == 9 and sources["READYZ_TIMEOUT"].startswith("environment")
    assert values["LOG_BACKUP_COUNT"] == 5 and sources["LOG_BACKUP_COUNT"] == "create_app overrides"
    assert sources["MAX_CONTENT_LENGTH"] == "TestingConfig default"


def test_environment_values_are_parsed_as_json(instance_path, monkeypatch):
    monkeypatch.setenv("MYPACK_LOG_TO_STDERR", "true")
    monkeypatch.setenv("MYPACK_DB_NAME", "cafe")
    values = load_settings("testing", instance_path).values
    assert values["LOG_TO_STDERR"] is True
    assert values["DB_NAME"] == "cafe"


def test_environment_is_read_when_loading_not_at_import(instance_path, monkeypatch):
    # Setting a variable after mypack.config was imported still takes effect.
    monkeypatch.setenv("MYPACK_DB_HOST", "db.internal")
    settings = load_settings("postgres", instance_path, {"SECRET_KEY": STRONG_KEY})
    assert make_url(settings.values["SQLALCHEMY_DATABASE_URI"]).host == "db.internal"


def test_no_class_body_reads_the_environment():
    tree = ast.parse(Path(__file__).parent.parent.joinpath("mypack/config.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, (ast.Assign, ast.AnnAssign)):
                    source = ast.unparse(statement)
                    assert "environ" not in source and "getenv" not in source, source


def test_instance_config_errors_are_one_clear_message(instance_path):
    write_instance_config(instance_path, "LOG_LEVEL = \n")
    with pytest.raises(ConfigError, match=r"error in .*config\.py: SyntaxError"):
        load_settings("testing", instance_path)


# --- database URL and engine options ---------------------------------------------------

def test_postgres_url_from_parts(instance_path):
    write_instance_config(instance_path, "DB_HOST = 'pg.example'\nDB_NAME = 'cafe'\n"
                                         "DB_USER = 'barista'\nDB_PASSWORD = 'p@ss:w/rd'\n")
    values = load_settings("postgres", instance_path, {"SECRET_KEY": STRONG_KEY}).values
    url = make_url(values["SQLALCHEMY_DATABASE_URI"])
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql+psycopg2", "pg.example", 5432, "cafe", "barista", "p@ss:w/rd")


def test_mysql_url_from_environment(instance_path, monkeypatch):
    monkeypatch.setenv("MYPACK_DB_HOST", "mysql.example")
    monkeypatch.setenv("MYPACK_DB_PORT", "3307")
    monkeypatch.setenv("MYPACK_DB_PASSWORD", "hunter2")
    values = load_settings("mysql", instance_path, {"SECRET_KEY": STRONG_KEY}).values
    url = make_url(values["SQLALCHEMY_DATABASE_URI"])
    assert (url.drivername, url.host, url.port, url.password) == (
        "mysql+mysqldb", "mysql.example", 3307, "hunter2")


def test_production_builds_the_url_when_given_a_driver(instance_path):
    values = load_settings("production", instance_path,
                           {"SECRET_KEY": STRONG_KEY, "DB_DRIVER": "mysql+mysqldb",
                            "DB_PORT": 3307, "DB_HOST": "db"}).values
    assert values["SQLALCHEMY_DATABASE_URI"] == "mysql+mysqldb://mypack@db:3307/mypack"


def test_full_uri_wins_over_parts(instance_path):
    write_instance_config(instance_path, "DB_HOST = 'ignored'\n"
                                         "SQLALCHEMY_DATABASE_URI = 'postgresql://a@given/db'\n")
    values = load_settings("postgres", instance_path, {"SECRET_KEY": STRONG_KEY}).values
    # A bare "postgresql" gets the psycopg2 driver mypack ships.
    assert values["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://a@given/db"


def test_a_malformed_database_url_is_a_clear_error(instance_path):
    with pytest.raises(ConfigError, match="SQLALCHEMY_DATABASE_URI is not a database URL"):
        load_settings("testing", instance_path, {"SQLALCHEMY_DATABASE_URI": "not a url"})


def test_postgres_engine_options(instance_path):
    options = load_settings("postgres", instance_path,
                            {"SECRET_KEY": STRONG_KEY}).values["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert options["pool_size"] == 5
    assert options["connect_args"]["connect_timeout"] == 5
    assert options["connect_args"]["options"] == "-c statement_timeout=15000 -c lock_timeout=2000"


def test_mysql_engine_options(instance_path):
    options = load_settings("mysql", instance_path,
                            {"SECRET_KEY": STRONG_KEY}).values["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert options["pool_recycle"] == 3600 < 28800  # MySQL's default wait_timeout
    args = options["connect_args"]
    assert args["charset"] == "utf8mb4"
    assert args["init_command"] == ("SET SESSION sql_mode='TRADITIONAL', "
                                    "innodb_lock_wait_timeout=2, lock_wait_timeout=2")
    assert args["connect_timeout"] == 5 and args["read_timeout"] == 15


def test_engine_options_are_overridable(instance_path):
    write_instance_config(instance_path, "DB_POOL_SIZE = 12\nDB_STATEMENT_TIMEOUT = 3\n"
                                         "DB_LOCK_TIMEOUT = 2\n"
                                         "SQLALCHEMY_ENGINE_OPTIONS = {'echo_pool': True,"
                                         " 'connect_args': {'application_name': 'till'}}\n")
    settings = load_settings("postgres", instance_path, {"SECRET_KEY": STRONG_KEY})
    options = settings.values["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_size"] == 12 and options["echo_pool"] is True
    assert options["connect_args"]["options"] == "-c statement_timeout=3000 -c lock_timeout=2000"
    assert options["connect_args"]["application_name"] == "till"
    assert "config.py" in settings.sources["SQLALCHEMY_ENGINE_OPTIONS"]


def test_development_uses_sqlite_in_the_instance_folder(instance_path):
    values = load_settings("development", instance_path).values
    assert values["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance_path / 'mypack.sqlite'}"


# --- production refusals ---------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"SECRET_KEY": None}, "no SECRET_KEY"),
    ({"SECRET_KEY": "a1b2c3d4e5" * 4}, r"too short \(40 characters"),
    ({"SECRET_KEY": "ab" * 40}, "fewer than 5 distinct characters"),
    ({"SECRET_KEY": "changeme"}, "well-known default"),
    ({"SECRET_KEY": "changeme" * 8}, "well-known default"),
    ({"SECRET_KEY_FALLBACKS": ["dev"]}, "SECRET_KEY_FALLBACKS entry 1 is a well-known"),
    ({"DEBUG": True}, "DEBUG must be off"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"}, "SQLite is not a production database"),
])
def test_production_refuses(instance_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_app("production", instance_path, **{**PROD, **overrides})


def test_production_may_allow_sqlite_explicitly(instance_path):
    app = create_app("production", instance_path, SECRET_KEY=STRONG_KEY,
                     SQLALCHEMY_DATABASE_URI="sqlite:///x.db", ALLOW_SQLITE_IN_PRODUCTION=True)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///x.db"


@pytest.mark.parametrize("name", ["postgres", "mysql"])
def test_backend_classes_are_production(instance_path, name):
    with pytest.raises(ConfigError, match="DEBUG must be off"):
        create_app(name, instance_path, SECRET_KEY=STRONG_KEY, DEBUG=True)


def test_production_accepts_a_strong_configuration(instance_path):
    app = create_app("production", instance_path, **PROD)
    assert not app.debug and app.config["SESSION_COOKIE_SECURE"] is True


def test_production_needs_a_database(instance_path):
    with pytest.raises(ConfigError, match="no database configured"):
        create_app("production", instance_path, SECRET_KEY=STRONG_KEY)


def session_app(instance_path, key):
    """A testing app with a route that stores a value in the session and one that reads it."""
    from flask import session

    app = create_app("testing", instance_path, SECRET_KEY=key)
    app.add_url_rule("/set", "set", lambda: session.update(cup="flat white") or "ok")
    app.add_url_rule("/get", "get", lambda: session.get("cup", "none"))
    return app


def test_key_rotation_with_fallbacks(instance_path):
    old_key, new_key = "old-" + "a1b2c3" * 10, "new-" + "d4e5f6" * 10
    old_client = session_app(instance_path, old_key).test_client()
    old_client.get("/set")
    cookie = old_client.get_cookie("session").value

    def read_session(app):
        client = app.test_client()
        client.set_cookie("session", cookie)
        return client.get("/get").text

    # The new key alone rejects the old session ...
    assert read_session(session_app(instance_path, new_key)) == "none"
    # ... and with the old key among the instance config's fallbacks it is still read.
    write_instance_config(instance_path, f"SECRET_KEY_FALLBACKS = [{old_key!r}]\n")
    rotated = session_app(instance_path, new_key)
    assert rotated.config["SECRET_KEY_FALLBACKS"] == [old_key]
    assert read_session(rotated) == "flat white"
