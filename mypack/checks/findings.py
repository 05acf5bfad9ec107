"""What a check reports, and the small value readers the checks share."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One problem: an id such as ``mypack.E020`` and a sentence saying what to fix."""

    id: str
    message: str

    @property
    def is_error(self) -> bool:
        return ".E" in self.id

    def __str__(self) -> str:
        return f"{self.id}: {self.message}"


@dataclass
class Report:
    """What a check run found: the findings to show, the silenced ones, and notes."""

    findings: list[Finding]
    silenced: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(finding.is_error for finding in self.findings)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors


def as_list(value: Any) -> list[str]:
    """A list setting as a list: a list as given, text split at commas and spaces.

    Text is what an operator writes in ``MYPACK_SILENCED_CHECKS=mypack.W052,mypack.W025``
    (not JSON) or gunicorn's ``forwarded_allow_ips = "127.0.0.1,10.0.0.2"``.
    """
    if not value:
        return []
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, (list, tuple, set)):
        return [str(part) for part in value]
    return [str(value)]


def as_seconds(value: Any) -> float | None:
    """A duration as Flask accepts it (seconds or a timedelta) in seconds, else None."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def positive(value: Any) -> float | None:
    """A positive number of seconds from a setting's value, else None (unset, 0, junk)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def reason(exc: Exception) -> str:
    """An OS or decoding error as a few words, without a traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def file_mode(path: Path) -> int | None:
    """The permission bits of a file or folder, or None when it cannot be examined."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def cookie_findings(values: Mapping[str, Any], prefix: str, what: str,
                    ids: tuple[str, str, str]) -> list[Finding]:
    """A cookie's flags: ``{prefix}_SECURE``, ``_HTTPONLY`` on, ``_SAMESITE`` Lax or Strict.

    ``ids`` are the finding ids for the three, in that order.
    """
    findings = []
    if not values.get(f"{prefix}_SECURE"):
        findings.append(Finding(ids[0], f"{prefix}_SECURE is off, so the {what} also travels "
                                        "over plain HTTP; set it True"))
    if not values.get(f"{prefix}_HTTPONLY"):
        findings.append(Finding(ids[1], f"{prefix}_HTTPONLY is off, so scripts in the page can "
                                        f"read the {what}; set it True"))
    samesite = values.get(f"{prefix}_SAMESITE")
    if str(samesite).lower() not in ("lax", "strict"):
        findings.append(Finding(ids[2], f"{prefix}_SAMESITE is {samesite!r}, so other sites' "
                                        f"requests carry the {what}; set 'Lax' or 'Strict'"))
    return findings
