"""Where the site's parts live in the URL space: the one test of "is this an API
request" that error answers, the HTTPS redirect and the API's own guards share."""

from __future__ import annotations

#: The JSON API's mount point (its version is part of the path).
API_PREFIX = "/api/v1"
#: Everything under here is the API's, of any version: answered in JSON, never
#: redirected like a page.
API_ROOT = "/api"


def is_api_path(path: str) -> bool:
    """Whether a request path belongs to the JSON API (any version)."""
    return path == API_ROOT or path.startswith(API_ROOT + "/")
