"""Checks of the job broker and of mail: the broker's URL (and, like the database, that
it answers), the outbox's timing, and what production mail needs.

``/readyz`` does not ask the broker: the outbox keeps every mail while it is down
(README, Background jobs and mail), so an outage of the broker is no reason to take
the site out of its balancer. ``mypack check`` is where an operator learns of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from mypack.checks.findings import Finding, reason

#: The brokers mypack is tested on.
BROKER_SCHEMES = ("amqp", "amqps", "redis", "rediss")
#: Where a broker's guest account is safe: RabbitMQ itself refuses it from elsewhere.
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")


def eager(values: Mapping[str, Any]) -> bool:
    return bool(values.get("CELERY_TASK_ALWAYS_EAGER"))


def check_jobs(values: Mapping[str, Any]) -> list[Finding]:
    """Every configuration: a broker URL mypack can use, and claims that outlast tasks."""
    findings = []
    broker = str(values.get("CELERY_BROKER_URL") or "")
    if not eager(values) and urlsplit(broker).scheme not in BROKER_SCHEMES:
        findings.append(Finding("mypack.E100", f"CELERY_BROKER_URL {_hide(broker)!r} is not a "
                                               "RabbitMQ (amqp://) or Redis (redis://) URL"))
    claim, limit = values.get("OUTBOX_CLAIM_SECONDS"), values.get("CELERY_TASK_TIME_LIMIT")
    if not isinstance(claim, (int, float)) or not isinstance(limit, (int, float)) \
            or claim <= limit:
        findings.append(Finding("mypack.E102", f"OUTBOX_CLAIM_SECONDS ({claim}) must be above "
                                               f"CELERY_TASK_TIME_LIMIT ({limit}): a mail whose "
                                               "task is still running could be sent twice"))
    hand_over, sweep = values.get("OUTBOX_HAND_OVER"), values.get("OUTBOX_SWEEP_SECONDS")
    if hand_over not in ("commit", "sweep"):
        findings.append(Finding("mypack.E110", f"OUTBOX_HAND_OVER is {hand_over!r}: "
                                               "'commit' or 'sweep'"))
    elif hand_over == "sweep" and not eager(values) and not sweep:
        findings.append(Finding("mypack.E111", "OUTBOX_HAND_OVER is 'sweep' but "
                                               "OUTBOX_SWEEP_SECONDS is 0: no mail would "
                                               "ever be handed over"))
    if values.get("MAIL_USE_TLS") and values.get("MAIL_USE_SSL"):
        findings.append(Finding("mypack.E103", "MAIL_USE_TLS (STARTTLS, port 587) and "
                                               "MAIL_USE_SSL (port 465) are both on; choose one"))
    return findings


def check_broker(values: Mapping[str, Any]) -> list[Finding]:
    """The broker answers (unless jobs run in-process), as the database must."""
    from kombu import Connection

    broker = str(values.get("CELERY_BROKER_URL") or "")
    if eager(values) or urlsplit(broker).scheme not in BROKER_SCHEMES:
        return []
    timeout = values.get("CELERY_BROKER_CONNECTION_TIMEOUT") or 2
    try:
        with Connection(broker, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu's and the socket's many ways to fail
        return [Finding("mypack.E101", f"job broker {_hide(broker)} unreachable: "
                                       f"{reason(exc)}; mail waits in the outbox meanwhile")]
    return []


def check_jobs_deploy(values: Mapping[str, Any]) -> list[Finding]:
    """Production (``--deploy``): jobs in workers, a broker account of its own, real mail
    with links to the public site."""
    findings = []
    if eager(values):
        findings.append(Finding("mypack.E104", "CELERY_TASK_ALWAYS_EAGER is on: jobs (mail) "
                                               "would run inside requests; run mypack worker"))
    broker = urlsplit(str(values.get("CELERY_BROKER_URL") or ""))
    if broker.username == "guest" and broker.hostname not in LOCAL_HOSTS:
        findings.append(Finding("mypack.E105", "CELERY_BROKER_URL uses RabbitMQ's guest "
                                               "account on another machine; give mypack a "
                                               "user and password of its own"))
    if values.get("MAIL_BACKEND") != "smtp":
        findings.append(Finding("mypack.E106", f"MAIL_BACKEND is {values.get('MAIL_BACKEND')!r}"
                                               ": mail would not leave; use \"smtp\""))
    site = urlsplit(str(values.get("SITE_URL") or ""))
    if site.scheme != "https" or not site.hostname or site.hostname in LOCAL_HOSTS:
        findings.append(Finding("mypack.E107", f"SITE_URL {values.get('SITE_URL')!r} is not the "
                                               "site's public https:// address; links in mail "
                                               "are built from it"))
    sender = parseaddr(str(values.get("MAIL_DEFAULT_SENDER") or ""))[1]
    domain = sender.rpartition("@")[2]
    if "@" not in sender or "." not in domain or domain.endswith((".local", ".localhost")):
        findings.append(Finding("mypack.E108", f"MAIL_DEFAULT_SENDER "
                                               f"{values.get('MAIL_DEFAULT_SENDER')!r} is not an "
                                               "address of the site's own domain"))
    if values.get("MAIL_PASSWORD") and not (values.get("MAIL_USE_TLS") or
                                            values.get("MAIL_USE_SSL")) \
            and values.get("MAIL_SERVER") not in LOCAL_HOSTS:
        findings.append(Finding("mypack.W109", "the SMTP password goes to "
                                               f"{values.get('MAIL_SERVER')} unencrypted; turn "
                                               "on MAIL_USE_TLS or MAIL_USE_SSL"))
    return findings


def _hide(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url
