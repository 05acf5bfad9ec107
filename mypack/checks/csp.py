"""Deploy checks of CONTENT_SECURITY_POLICY: no plugins, no framing beyond
X-Frame-Options, no inline script and no source open to any host."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mypack.checks.findings import Finding

#: A source that any host matches: ``*``, a scheme alone (``https:``), a host ``*``.
ANY_HOST = re.compile(r"\*|(?:https?|wss?):|(?:[a-z][a-z0-9+.-]*://)?\*(?::(?:\d+|\*))?(?:/.*)?")
#: Sources that run script the page itself carries, or that an injection can supply.
INLINE_SCRIPT = ("'unsafe-inline'", "data:")
#: The directives that name where scripts come from, besides script-src itself.
SCRIPT_DIRECTIVES = ("script-src-elem", "script-src-attr")
#: Directives that list sources but do not end in -src.
OTHER_SOURCE_DIRECTIVES = ("base-uri", "form-action", "frame-ancestors")


def csp_sources(policy: str, directive: str) -> list[str] | None:
    """The sources of one directive of a Content-Security-Policy, None when it is absent.

    As browsers read it: directive names in any case, the first of duplicates wins.
    """
    for part in policy.split(";"):
        words = part.split()
        if words and words[0].lower() == directive:
            return [word.lower() for word in words[1:]]
    return None


def check_content_security_policy(values: Mapping[str, Any]) -> list[Finding]:
    """The CSP allows no plugins (object-src 'none'), and no framing beyond X-Frame-Options.

    Without a frame-ancestors directive, the X-Frame-Options: DENY mypack always sends
    forbids framing; with one, browsers follow it instead.
    """
    policy = str(values.get("CONTENT_SECURITY_POLICY") or "")
    findings = []
    objects = csp_sources(policy, "object-src")
    if objects is None:  # browsers fall back to default-src
        objects = csp_sources(policy, "default-src")
    if not policy:
        findings.append(Finding("mypack.E049", "CONTENT_SECURITY_POLICY is empty, so no "
                                               "Content-Security-Policy is sent; keep the "
                                               "default or write one with object-src 'none'"))
    elif objects not in ([], ["'none'"]):  # no sources at all means 'none' too
        findings.append(Finding("mypack.E049", "CONTENT_SECURITY_POLICY lets plugins load "
                                               "(no object-src 'none'); add object-src 'none'"))
    ancestors = csp_sources(policy, "frame-ancestors")
    if ancestors is not None and ancestors != ["'none'"]:
        findings.append(Finding("mypack.W055", "CONTENT_SECURITY_POLICY has frame-ancestors "
                                               f"{' '.join(ancestors) or '(empty)'}, which "
                                               "browsers follow instead of X-Frame-Options: "
                                               "DENY; use frame-ancestors 'none' unless those "
                                               "sites must frame this one"))
    return findings + check_open_sources(policy)


def check_open_sources(policy: str) -> list[Finding]:
    """No inline script ('unsafe-inline', data:) and no directive open to any host.

    Scripts are governed by script-src, else default-src; with neither, any script
    runs, inline included. 'unsafe-inline' is refused even beside a nonce or a hash
    (which make today's browsers ignore it): a nonce fixed in the settings is no
    secret, and mypack's pages need no inline script.
    """
    if not policy:
        return []  # E049 says so
    problems = []
    scripts = csp_sources(policy, "script-src")
    if scripts is None:
        scripts = csp_sources(policy, "default-src")
    if scripts is None:
        problems.append("no script-src or default-src, so any script runs, inline included")
    named = [part.split()[0].lower() for part in policy.split(";") if part.split()]
    for directive in dict.fromkeys(named):  # each once, in order
        if not directive.endswith("-src") and directive not in (*SCRIPT_DIRECTIVES,
                                                                *OTHER_SOURCE_DIRECTIVES):
            continue  # sandbox, report-uri, upgrade-insecure-requests ...
        sources = csp_sources(policy, directive) or []
        inline = [s for s in sources if s in INLINE_SCRIPT]
        if inline and (directive in ("script-src", *SCRIPT_DIRECTIVES)
                       or directive == "default-src" and csp_sources(policy, "script-src") is None):
            problems.append(f"{directive} {' '.join(inline)} runs inline script")
        if wide := [s for s in sources if ANY_HOST.fullmatch(s)]:
            problems.append(f"{directive} {' '.join(wide)} allows any host")
    if not problems:
        return []
    return [Finding("mypack.E097", f"CONTENT_SECURITY_POLICY: {'; '.join(problems)}; an injected "
                                   "<script> or a hostile host's file would run in the site's "
                                   "pages: keep the default (default-src 'self') and name "
                                   "hosts exactly")]
