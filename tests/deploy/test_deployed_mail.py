"""Mail end to end through the real servers (issue 18, point 12): the site under Apache
mod_wsgi or gunicorn, a real ``mypack worker`` and ``mypack beat`` of the deployment on
RabbitMQ, and the test's SMTP server. A customer orders (the receipt arrives), staff mark the order
ready (that mail arrives), and a password is reset by mail.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from mypack.menu.models import MenuItem
from tests.support.browser import Browser, place_order, register_and_login
from tests.support.jobs import BROKERS, JobProcess, broker_reachable, delete_queue, worker
from tests.support.servers import Apache, Gunicorn, as_service_user
from tests.support.smtp import SITE, parts
from tests.support.system import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgres"])]

PASSWORD, NEW = "Flat-White-42", "New-Macchiato-9"
SERVERS = {"apache": Apache, "gunicorn": Gunicorn}


@pytest.fixture
def mailing(deployed, server, smtp_server, tmp_path):
    """The deployment, its mail going to the test's SMTP server through a worker of its
    own (its venv, its service user) on RabbitMQ; a coffee on the menu."""
    broker = BROKERS["amqp"]
    problem = broker_reachable(broker)
    if problem:
        unavailable(f"RabbitMQ at {broker} is not available ({problem})")
    queue = f"mypack-test-{uuid.uuid4().hex[:12]}"
    deployed.configure(**{**deployed.settings, "SITE_URL": SITE, "CELERY_BROKER_URL": broker,
                          "CELERY_TASK_DEFAULT_QUEUE": queue, **smtp_server.settings()})
    engine = create_engine(server.url)
    with Session(engine) as session:
        coffee = MenuItem(name="Flat white", category="coffee", price=Decimal("3.20"))
        session.add(coffee)
        session.commit()
        deployed.coffee = coffee.id
    engine.dispose()
    # As production runs them: a worker, and beat, whose sweep hands the mail over
    # (OUTBOX_HAND_OVER's default).
    own = {"command": [*as_service_user(), deployed.venv / "bin" / "mypack"],
           "environment": {"PATH": "/usr/bin:/bin", "HOME": str(deployed.root)},
           "log_dir": tmp_path}
    running = worker(deployed.instance, {"LOG_TO_STDERR": True}, **own)
    beat = JobProcess("beat", deployed.instance, {"LOG_TO_STDERR": True}, **own)
    try:
        yield deployed
    finally:
        beat.stop()
        running.stop()
        delete_queue(broker, queue)


def move(url: str, email: str, order_id: int, seen: str, to: str) -> int:
    """A status move through the API, with Basic credentials, behind the TLS proxy."""
    match = re.fullmatch(r"http://([^:/]+):(\d+)", url)
    credentials = base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()
    connection = http.client.HTTPConnection(match[1], int(match[2]), timeout=30)
    try:
        connection.request("POST", f"/api/v1/orders/{order_id}/status",
                           body=json.dumps({"from": seen, "to": to}),
                           headers={"Authorization": f"Basic {credentials}",
                                    "Content-Type": "application/json",
                                    "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_receipt_ready_and_password_reset_arrive_by_mail(mailing, smtp_server, kind):
    with SERVERS[kind](mailing) as site:
        customer = Browser(site.url)
        register_and_login(customer, "ada@example.com", PASSWORD)
        [welcome] = smtp_server.wait_for(1)
        assert welcome["To"] == "ada@example.com"
        assert welcome["Subject"] == "Confirm your email address at mypack café"
        link = re.search(re.escape(SITE) + r"(/auth/confirm/[A-Za-z0-9_.\-]+)",
                         parts(welcome)[0])
        status, _, _ = customer.get("/orders/new")
        assert status == 403  # not before the link is used
        status, _, _ = customer.submit(link[1], {})
        assert status == 302
        order_path = place_order(customer, {mailing.coffee: 2})
        order_id = int(order_path.rsplit("/", 1)[1])
        receipt = smtp_server.wait_for(2)[1]
        assert receipt["To"] == "ada@example.com"
        assert receipt["Subject"] == f"Your order #{order_id} at mypack café"
        text, html = parts(receipt)
        assert "6.40" in text and f"{SITE}{order_path}" in text and f"{SITE}{order_path}" in html

        # The café's admin (staff's rights, and more), as an operator makes one: confirmed,
        # so mailed nothing.
        mailing.mypack("create-admin", "--email", "sam@example.com", "--name", "Sam",
                       "--password-stdin", input=PASSWORD + "\n")
        assert move(site.url, "sam@example.com", order_id, "placed", "preparing") == 200
        assert move(site.url, "sam@example.com", order_id, "preparing", "ready") == 200
        ready = smtp_server.wait_for(3)[2]
        assert ready["Subject"] == f"Your order #{order_id} is ready for collection"

        stranger = Browser(site.url)
        status, _, _ = stranger.submit("/auth/reset", {"email": "ada@example.com"})
        assert status == 302
        reset = smtp_server.wait_for(4)[3]
        link = re.search(re.escape(SITE) + r"(/auth/reset/[A-Za-z0-9_.\-]+)", parts(reset)[0])
        status, _, _ = stranger.submit(link[1], {"password": NEW, "confirm": NEW})
        assert status == 302
        status, _, _ = Browser(site.url).submit("/auth/login", {"email": "ada@example.com",
                                                                "password": NEW})
        assert status == 302
        # Every mail once, each with its own Message-ID.
        assert len({message["Message-ID"] for message in smtp_server.messages}) == 4
