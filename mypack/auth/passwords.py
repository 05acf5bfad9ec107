"""Password hashing and policy.

Hashes use PASSWORD_HASH_METHOD (pbkdf2-sha256 with 600,000 iterations, OWASP ASVS
5.0); a hash made with weaker parameters is replaced at the next successful login.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "resources" / "common-passwords.txt"
#: Longer passwords are refused: hashing megabytes of input on request is a DoS.
MAX_LENGTH = 1024


def hash_password(password: str) -> str:
    """Hash with the configured method and a random salt."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against a stored hash (constant-time comparison)."""
    return check_password_hash(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than the configured ones."""
    method = password_hash.split("$", 1)[0]
    return method != current_app.config["PASSWORD_HASH_METHOD"]


@lru_cache(maxsize=1)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def waste_time_like_a_check(password: str) -> None:
    """Spend what a real check costs, for unknown emails: the response time must not
    tell whether an account exists."""
    verify_password(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords everybody tries first."""
    return frozenset(line.strip().lower() for line in COMMON_PASSWORDS.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return f"Use at least {minimum} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords() or (email and lowered == email.lower()):
        return "This password is too common; choose another."
    if len(set(password)) < 3:
        return "This password is too easy to guess; choose another."
    return None
