"""Deploy checks of the Host header: TRUSTED_HOSTS names the site, and only the site.

Flask (Werkzeug's ``host_is_trusted``) compares the Host, after ProxyFix, with each
entry: a name matches itself, an entry that starts with a dot matches that domain and
every name under it. There is no wildcard: ``*`` matches only a Host of ``*``, and an
operator who wrote it meant "any host". An entry such as ``.com`` or ``.co.uk``
trusts every site registered under a public suffix.

Which suffixes are public is the Public Suffix List (publicsuffix.org), some 10,000
rules; mypack does not ship it. It refuses a dot entry of one label (``.com``,
``.uk``, ``.localhost``), of two where the first is a registry's category under a
country code (``.co.uk``, ``.com.au``, ``.gov.in``, ``.ac.jp``), and the best-known
shared-hosting suffixes (``.github.io``, ``.herokuapp.com``...). A site's own
``.example.com`` or ``.cafe.co.uk`` passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mypack.checks.findings import Finding

#: Second-level labels that registries open to the public under a country code:
#: .co.uk, .com.au, .org.br, .gov.in, .ac.jp, .ne.jp, .gob.mx, .gouv.fr ...
COUNTRY_CATEGORIES = frozenset({
    "ac", "co", "com", "edu", "go", "gob", "gouv", "gov", "govt", "gv", "ltd", "me", "mil",
    "ne", "net", "nhs", "nic", "nom", "or", "org", "plc", "sch",
})
#: Suffixes where anyone can get a name of their own (the list's private section).
SHARED_SUFFIXES = frozenset({
    "github.io", "gitlab.io", "herokuapp.com", "appspot.com", "azurewebsites.net",
    "cloudfront.net", "netlify.app", "vercel.app", "pages.dev", "workers.dev", "web.app",
    "firebaseapp.com", "blogspot.com", "onrender.com", "fly.dev", "ngrok.io",
})


def check_hosts(values: Mapping[str, Any]) -> list[Finding]:
    """TRUSTED_HOSTS is a list (E040) of the site's own names (E058); a Host taken
    from X-Forwarded-Host is checked against it (E059)."""
    return [*check_trusted_hosts(values), *check_host_entries(values),
            *check_forwarded_host(values)]


def trusted_hosts(values: Mapping[str, Any]) -> list | None:
    """TRUSTED_HOSTS when it is a non-empty list (or tuple), else None."""
    hosts = values.get("TRUSTED_HOSTS")
    return list(hosts) if isinstance(hosts, (list, tuple)) and hosts else None


def check_trusted_hosts(values: Mapping[str, Any]) -> list[Finding]:
    """TRUSTED_HOSTS lists the site's names, so a forged Host header gets 400."""
    hosts = values.get("TRUSTED_HOSTS")
    example = "e.g. TRUSTED_HOSTS = ['cafe.example.com']"
    if hosts is None:
        problem = "is not set, so any Host header is accepted and used in generated URLs"
    elif not isinstance(hosts, (list, tuple)):
        problem = f"must be a list of host names, not {type(hosts).__name__}"
    elif not hosts:
        problem = "is empty, so every request would get 400"
    else:
        return []
    return [Finding("mypack.E040", f"TRUSTED_HOSTS {problem}; list the site's names, {example}")]


def check_host_entries(values: Mapping[str, Any]) -> list[Finding]:
    """No entry trusts any host (``*``) or every site under a public suffix (``.com``)."""
    return [Finding("mypack.E058", f"TRUSTED_HOSTS entry {entry!r} {problem}; list the "
                                   "site's own names, e.g. 'cafe.example.com', or "
                                   "'.cafe.example.com' for it and its subdomains")
            for entry in trusted_hosts(values) or []
            if (problem := host_entry_problem(entry))]


def host_entry_problem(entry: Any) -> str | None:
    """What is wrong with one TRUSTED_HOSTS entry, or None."""
    if not isinstance(entry, str) or not entry.strip(". "):
        return "is not a host name"
    if "*" in entry:
        return "is not a wildcard (Flask matches '*' literally); it says 'any host'"
    if not entry.startswith("."):
        return None
    labels = entry.lower().strip(".").split(".")
    if len(labels) == 1 or ".".join(labels) in SHARED_SUFFIXES or (
            len(labels) == 2 and labels[0] in COUNTRY_CATEGORIES
            and len(labels[1]) == 2 and labels[1].isalpha()):
        return "trusts every site registered under a public suffix"
    return None


def check_forwarded_host(values: Mapping[str, Any]) -> list[Finding]:
    """With PROXY_FIX_X_HOST the Host comes from X-Forwarded-Host: only TRUSTED_HOSTS
    stops a forged one from reaching generated URLs."""
    count = values.get("PROXY_FIX_X_HOST", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return []  # off, or not a count (E057)
    if trusted_hosts(values):
        return []
    return [Finding("mypack.E059", f"PROXY_FIX_X_HOST is {count} but TRUSTED_HOSTS is not set: "
                                   "the X-Forwarded-Host a client or proxy sends becomes the "
                                   "site's name in redirects and links; set TRUSTED_HOSTS "
                                   "to the site's names, or PROXY_FIX_X_HOST = 0")]
