"""Where a login may send the browser afterwards: only somewhere on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Browsers treat backslashes as slashes and ignore tabs and newlines in URLs, so
    ``/\\evil.example`` and ``//evil.example`` both leave the site: anything but a
    plain absolute path is refused.
    """
    if not target or any(char in target for char in "\\\t\r\n\x00"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
