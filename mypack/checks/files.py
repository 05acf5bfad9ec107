"""Checks of files and folders: the secret key, the instance folder, the log folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mypack.checks.findings import Finding, file_mode
from mypack.config import is_secret_setting
from mypack.instance import PACKAGE_DIR


def check_secret_key_file(instance_path: Path, deploy: bool = False) -> list[Finding]:
    """The secret key file must not be open to group or others (an error with --deploy)."""
    from mypack.instance import secret_key_path

    key_file = secret_key_path(instance_path)
    mode = file_mode(key_file)
    if mode is None or not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return []
    return [Finding("mypack.E011" if deploy else "mypack.W011",
                    f"{key_file} has mode {mode:04o}; make it 0600 (chmod 600 {key_file})")]


def check_instance_location(instance_path: Path, package_dir: Path = PACKAGE_DIR) -> list[Finding]:
    """The instance folder (config.py with the database password, secret_key) lives
    outside the installed package: pip replaces that tree, and its static folder is
    served to anyone.
    """
    findings = []
    if instance_path.is_relative_to(package_dir):
        findings.append(Finding("mypack.E050", f"instance folder {instance_path} is inside the "
                                               f"installed package {package_dir}, where pip "
                                               "replaces files; move it out (e.g. "
                                               "/srv/mypack/instance) and point --instance or "
                                               "MYPACK_INSTANCE at it"))
    # Flask serves the package's static/ folder at /static/ (and Apache aliases it).
    static = package_dir / "static"
    if instance_path.is_relative_to(static):
        findings.append(Finding("mypack.E051", f"instance folder {instance_path} is inside the "
                                               f"static folder {static}, which anyone can "
                                               "download; move it out"))
    return findings


def check_instance_modes(settings) -> list[Finding]:
    """Others cannot enter the instance folder, change it or read secrets in config.py."""
    folder = settings.instance_path
    config = folder / "config.py"
    findings = []
    folder_mode, config_mode = file_mode(folder), file_mode(config)
    for path, mode in ((folder, folder_mode), (config, config_mode)):
        # config.py is Python the service runs: whoever can change it runs code as mypack.
        if mode is not None and mode & stat.S_IWOTH:
            findings.append(Finding("mypack.E054", f"{path} has mode {mode:04o}: others can "
                                                   f"change it; chmod o-w {path}"))
    if folder_mode is not None and folder_mode & (stat.S_IROTH | stat.S_IXOTH):
        findings.append(Finding("mypack.W052", f"instance folder {folder} has mode "
                                               f"{folder_mode:04o}: others can look inside; "
                                               f"chmod 750 {folder} (as mypack init does)"))
    secrets = secrets_in_config(settings)
    if secrets and config_mode is not None and config_mode & stat.S_IROTH:
        findings.append(Finding("mypack.E053", f"{config} sets {', '.join(secrets)} and has mode "
                                               f"{config_mode:04o}: others can read it; "
                                               f"chmod 640 {config}"))
    return findings


def secrets_in_config(settings) -> list[str]:
    """The secret settings (passwords, keys, a URL with a password) set in config.py."""
    from sqlalchemy.engine import make_url

    config = str(settings.instance_path / "config.py")
    names = []
    for key, value in settings.values.items():
        if settings.sources.get(key) != config or not value:
            continue
        if is_secret_setting(key):
            names.append(key)
        elif key == "SQLALCHEMY_DATABASE_URI" and make_url(value).password:
            names.append(key)
    return sorted(names)


def check_log_dir(log_dir: str) -> list[Finding]:
    """The log directory (or the folder that will hold it) is writable by this user."""
    if not log_dir:
        return []
    path = Path(log_dir)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return [Finding("mypack.E030", f"log directory {path} cannot be created: "
                                       f"{existing} is not a directory")]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [Finding("mypack.E030", f"log directory {path} is not writable by this user")]
    from mypack.logs import LOG_FILE

    log_file = path / LOG_FILE
    if log_file.exists() and not os.access(log_file, os.W_OK):
        return [Finding("mypack.E030", f"log file {log_file} is not writable by this user")]
    return []
