"""The outbox's jobs: deliver one mail, and sweep up rows never handed over."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from flask import current_app

from mypack import mail
from mypack.outbox import kinds, service
from mypack.outbox.dispatch import hand_over, hands_over_at_commit

logger = logging.getLogger(__name__)

#: What a mail server that is down, slow or refusing raises; anything else is a bug
#: and fails the task loudly.
SMTP_ERRORS = (smtplib.SMTPException, OSError)


@shared_task(name="mypack.outbox.deliver", bind=True, max_retries=None)
def deliver(self, message_id: int) -> str:
    """Send outbox row ``message_id`` once: claimed first, marked sent after; a mail
    server that fails is tried again with growing pauses, up to OUTBOX_MAX_ATTEMPTS."""
    message = service.claim(message_id)
    if message == service.DONE:
        logger.info("outbox: message %s needs nothing (sent, given up on, or gone)",
                    message_id)
        return "done"
    if message == service.BUSY:
        # Another task holds it: a worker that died mid-send holds it until the claim
        # runs out; try again then.
        raise self.retry(countdown=service.claim_seconds())
    assert not isinstance(message, str)
    try:
        context = kinds.prepare(message.kind, message.recipient, message.context)
    except kinds.Skip as skip:
        service.mark_skipped(message, str(skip))
        logger.info("outbox: skipped %s mail %s to %s: %s", message.kind, message.id,
                    message.recipient, skip)
        return "skipped"
    created = message.created_at.strftime("%Y%m%d%H%M%S")
    header = f"<outbox.{message.id}.{created}@{mail.site_host()}>"
    try:
        mail.send(mail.build(message.kind, message.recipient, context, header))
    except SMTP_ERRORS as error:
        limit = current_app.config["OUTBOX_MAX_ATTEMPTS"]
        if message.attempts >= limit:
            service.give_up(message, error)
            logger.warning("outbox: gave up on %s mail %s to %s after %d tries: %s",
                           message.kind, message.id, message.recipient, message.attempts,
                           service.describe(error))
            return "failed"
        service.release(message, error)
        pause = min(current_app.config["OUTBOX_RETRY_SECONDS"] * 2 ** (message.attempts - 1),
                    current_app.config["OUTBOX_RETRY_MAX_SECONDS"])
        logger.warning("outbox: %s mail %s to %s failed (try %d of %d): %s; trying again "
                       "in %g s", message.kind, message.id, message.recipient,
                       message.attempts, limit, service.describe(error), pause)
        raise self.retry(countdown=pause) from None
    service.mark_sent(message)
    logger.info("outbox: sent %s mail %s to %s", message.kind, message.id, message.recipient)
    return "sent"


@shared_task(name="mypack.outbox.sweep")
def sweep() -> int:
    """Hand over again every row that was never handed over (the broker was down when
    it committed, its process ended first) or whose task was lost."""
    config = current_app.config
    # Rows their own process hands over get its time first; with "sweep", nobody else
    # will.
    grace = config["OUTBOX_SWEEP_GRACE_SECONDS"] if hands_over_at_commit(config) else 0
    message_ids = service.undelivered(grace)
    if message_ids:
        hand_over(message_ids, current_app.extensions["outbox"].broker)
        logger.info("outbox sweep: handed over %d message(s): %s", len(message_ids),
                    ", ".join(map(str, message_ids[:20])))
    return len(message_ids)
