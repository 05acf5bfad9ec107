"""The instance folder: where a deployment keeps its config file, secret key and logs.

Nothing in it is part of the package or of git. Which folder is used:

1. the ``instance_path`` given to ``create_app`` (or ``mypack --instance``);
2. else the ``MYPACK_INSTANCE`` environment variable;
3. else the repository's ``instance/`` when running from a source checkout;
4. else Flask's default for an installed package, ``<sys.prefix>/var/mypack-instance``.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mypack.exceptions import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
#: The documented example, shipped inside the package so an installed mypack can copy it.
CONFIG_EXAMPLE = PACKAGE_DIR / "resources" / "config.example.py"
SECRET_KEY_FILE = "secret_key"
FOLDER_MODE = 0o750
SECRET_MODE = 0o600
CONFIG_MODE = 0o640
#: Values seen in tutorials and templates; a key built from them is no secret.
KNOWN_WEAK_KEYS = frozenset({
    "dev", "development", "secret", "secret-key", "secret_key", "secretkey", "changeme",
    "change-me", "change_me", "changethis", "replace-me", "your-secret-key",
    "super-secret", "supersecret", "password", "default", "test", "testing",
    "hard to guess string", "you-will-never-guess", "not-so-secret",
    "testing-secret-key-not-for-production",
})
MIN_SECRET_LENGTH = 50
MIN_SECRET_VARIETY = 5


def resolve_instance_path(instance_path: str | os.PathLike | None = None,
                          environ: Mapping[str, str] | None = None) -> Path:
    """Return the absolute instance folder, by the order in the module docstring."""
    environ = os.environ if environ is None else environ
    if instance_path:
        return Path(instance_path).expanduser().resolve()
    if environ.get("MYPACK_INSTANCE"):
        return Path(environ["MYPACK_INSTANCE"]).expanduser().resolve()
    checkout = PACKAGE_DIR.parent
    if (checkout / "setup.py").is_file() and (checkout / "instance").is_dir():
        return checkout / "instance"
    return Path(sys.prefix) / "var" / "mypack-instance"


def check_instance_folder(path: Path) -> bool:
    """Return whether the folder exists; raise ConfigError if it exists but is unusable."""
    if not path.exists():
        return False
    if not path.is_dir():
        raise ConfigError(f"instance folder {path} is not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ConfigError(f"instance folder {path} is not readable by this user")
    return True


def create_instance_folder(path: Path) -> bool:
    """Create the folder (mode 0750) if missing; return whether it was created."""
    if path.is_dir():
        return False
    try:
        path.mkdir(mode=FOLDER_MODE, parents=True)
        path.chmod(FOLDER_MODE)  # mkdir's mode is masked by the umask
    except OSError as exc:
        raise ConfigError(f"cannot create instance folder {path}: {exc.strerror}") from None
    return True


def secret_key_path(path: Path) -> Path:
    """Where the secret key file of an instance folder lives."""
    return path / SECRET_KEY_FILE


def read_secret_key(path: Path) -> str | bytes | None:
    """The key in ``<instance>/secret_key``, or None when there is no such file.

    A file of raw random bytes (``head -c 64 /dev/urandom``) works as well as text.
    """
    key_file = secret_key_path(path)
    try:
        raw = key_file.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {key_file}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw


def write_secret_key(path: Path, force: bool = False) -> bool:
    """Write a new key (64 random bytes, URL-safe text) with mode 0600.

    Return False, writing nothing, if the file exists and ``force`` is not set. The
    file is created with its final mode, so the key is never readable by others.
    """
    key_file = secret_key_path(path)
    if key_file.exists() and not force:
        return False
    _write_private(key_file, secrets.token_urlsafe(64) + "\n", SECRET_MODE)
    return True


def write_example_config(path: Path, force: bool = False) -> bool:
    """Copy the documented example to ``<instance>/config.py`` unless it exists."""
    target = path / "config.py"
    if target.exists() and not force:
        return False
    _write_private(target, CONFIG_EXAMPLE.read_text(), CONFIG_MODE)
    return True


def _write_private(target: Path, text: str, mode: int) -> None:
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def init_instance(path: Path, force: bool = False, new_secret_key: bool = False) -> list[str]:
    """Create the instance folder, secret key and config file; return what was done.

    Existing files are kept unless ``force`` is set; ``new_secret_key`` replaces only
    the key (for rotation, with the old key in SECRET_KEY_FALLBACKS).
    """
    done = []
    if create_instance_folder(path):
        done.append(f"created {path} (mode 0750)")
    else:
        done.append(f"kept {path}")
    logs = path / "logs"
    if create_instance_folder(logs):
        # Made now, by the service user running init, so the servers' logs
        # (gunicorn's errorlog) can be opened before the app creates it.
        done.append(f"created {logs} (mode 0750)")
    key_file = secret_key_path(path)
    replaced = key_file.exists()
    if write_secret_key(path, force or new_secret_key):
        done.append(f"wrote {key_file} (new random key, mode 0600)" + (
            "; sessions signed with the old key stay valid only if it is in "
            "SECRET_KEY_FALLBACKS" if replaced else ""))
    else:
        done.append(f"kept {key_file} (use --force to replace it)")
    if write_example_config(path, force):
        done.append(f"wrote {path / 'config.py'} from the documented example")
    else:
        done.append(f"kept {path / 'config.py'} (use --force to replace it)")
    return done


def secret_key_problems(values: Mapping[str, Any], path: Path) -> list[tuple[str, str]]:
    """What is wrong with SECRET_KEY and each SECRET_KEY_FALLBACKS entry.

    Each problem is a ``(check id, sentence)`` pair; ``mypack check`` shows the id.
    """
    key = values.get("SECRET_KEY")
    if not key:
        return [("mypack.E013",
                 f"no SECRET_KEY: {secret_key_path(path)} is missing; create it with: "
                 f"mypack --instance {path} init")]
    problems = _weakness("SECRET_KEY", key)
    for number, fallback in enumerate(values.get("SECRET_KEY_FALLBACKS") or [], start=1):
        # One id for every fallback problem: a weak old key is fixed the same way.
        problems.extend(("mypack.E017", message)
                        for _, message in _weakness(f"SECRET_KEY_FALLBACKS entry {number}",
                                                    fallback))
    return problems


def _weakness(name: str, key: str | bytes) -> list[tuple[str, str]]:
    text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
    lowered = text.lower()
    if any(lowered == weak or not lowered.replace(weak, "") for weak in KNOWN_WEAK_KEYS):
        return [("mypack.E016", f"{name} is a well-known default value; use a random key "
                                f"(mypack init writes one to instance/{SECRET_KEY_FILE})")]
    if len(text) < MIN_SECRET_LENGTH:
        return [("mypack.E014", f"{name} is too short ({len(text)} characters, "
                                f"need at least {MIN_SECRET_LENGTH})")]
    if len(set(text)) < MIN_SECRET_VARIETY:
        return [("mypack.E015", f"{name} has fewer than {MIN_SECRET_VARIETY} distinct characters")]
    return []
