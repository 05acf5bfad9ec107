"""Mail through real workers: ``mypack worker`` (and ``mypack beat``) on RabbitMQ or
Redis, PostgreSQL, and a real SMTP server; the broker stopped while orders are placed;
a worker killed in the middle of sending.

The test's process stands for the web server: it places orders through the API, with
jobs handed to the broker as in production.
"""

from __future__ import annotations

import logging
import subprocess
import time

import pytest

from tests.factories import EMAILS, add_items, add_people, auth, outbox_rows
from tests.support.jobs import (
    BROKERS,
    JobProcess,
    broker_reachable,
    delete_queue,
    job_settings,
    worker,
)
from tests.support.system import command, unavailable


@pytest.fixture(params=sorted(BROKERS))
def broker(request):
    url = BROKERS[request.param]
    problem = broker_reachable(url)
    if problem:
        unavailable(f"the {request.param} broker at {url} is not available ({problem})")
    return url


@pytest.fixture
def shop(make_app, migrated_url, broker, smtp_server):
    """The web side on PostgreSQL, handing jobs to ``broker`` on a queue of its own;
    ``shop.settings`` are what its workers need too."""
    settings = job_settings(broker, migrated_url, OUTBOX_SWEEP_SECONDS=1,
                            OUTBOX_SWEEP_GRACE_SECONDS=1, **smtp_server.settings())
    app = make_app(**settings)
    app.settings = settings
    add_people(app, ("customer",))
    app.item_ids = add_items(app)
    yield app
    assert app.extensions["outbox"].wait(10)
    delete_queue(broker, settings["CELERY_TASK_DEFAULT_QUEUE"])


@pytest.fixture
def backend():
    """PostgreSQL, as in production (the outbox's own tests cover every backend)."""
    return "postgres"


def order(app) -> int:
    started = time.monotonic()
    response = app.test_client().post(
        "/api/v1/orders", headers=auth("customer"),
        json={"lines": [{"item_id": app.item_ids["Espresso"], "quantity": 1}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    app.answered_in = time.monotonic() - started
    return response.get_json()["id"]


def message_ids(smtp_server) -> list[str]:
    return sorted(message["Message-ID"] for message in smtp_server.messages)


def test_a_worker_sends_the_receipt_of_an_order(shop, instance_path, smtp_server):
    with worker(instance_path, shop.settings) as running:
        order_id = order(shop)
        [mail] = smtp_server.wait_for(1)
        assert mail["To"] == EMAILS["customer"]
        assert mail["Subject"].startswith(f"Your order #{order_id} ")
        # The worker's log line carries the job's id, as a request's carries its own.
        running.wait_for_line("outbox: sent order_receipt mail 1 ")
        line = next(line for line in running.output().splitlines()
                    if "outbox: sent order_receipt mail 1 " in line)
        assert line.split("|")[3] not in ("", "-")
    [row] = outbox_rows(shop)
    assert row.sent_at is not None and row.dispatched_at is not None


@pytest.mark.parametrize("broker", ["amqp"], indirect=True)  # the outage is RabbitMQ's
def test_orders_placed_while_rabbitmq_is_down_are_mailed_once_it_is_back(
        shop, instance_path, smtp_server, broker, caplog):
    rabbitmqctl = command("rabbitmqctl")
    caplog.set_level(logging.WARNING, logger="mypack.outages")
    subprocess.run([rabbitmqctl, "-q", "stop_app"], check=True, timeout=60)
    try:
        orders = [order(shop) for _ in range(3)]
        assert shop.answered_in < 1  # no request waits for the broker
        assert shop.extensions["outbox"].wait(30)
    finally:
        subprocess.run([rabbitmqctl, "-q", "start_app"], check=True, timeout=60)
    assert len(orders) == 3 and [row.sent_at for row in outbox_rows(shop)] == [None] * 3
    warnings = [r.getMessage() for r in caplog.records if "job broker" in r.getMessage()]
    assert len(warnings) == 1  # one per outage, not one per order
    # Nobody does anything: the sweep of `mypack beat` hands the rows over.
    with worker(instance_path, shop.settings) as running, \
            JobProcess("beat", instance_path, shop.settings) as beat:
        smtp_server.wait_for(3, timeout=60)
        time.sleep(3)  # several more sweeps: nothing is sent twice
        assert "Sending due task outbox-sweep" in beat.output()
        assert "outbox sweep: handed over 3 message(s): 1, 2, 3" in running.output()
    assert len(smtp_server.messages) == 3
    assert len(set(message_ids(smtp_server))) == 3
    assert all(row.sent_at is not None for row in outbox_rows(shop))


def test_a_worker_killed_while_sending_leaves_the_mail_to_another_sent_once(
        shop, instance_path, smtp_server):
    settings = {**shop.settings, "OUTBOX_CLAIM_SECONDS": 4, "CELERY_TASK_TIME_LIMIT": 3,
                "CELERY_TASK_SOFT_TIME_LIMIT": 2}
    smtp_server.stall = 60  # the first session hangs in MAIL FROM
    first = worker(instance_path, settings, "--pool", "prefork", "--concurrency", "1")
    try:
        order(shop)
        first.wait_for_line("mypack.outbox.deliver[")
        deadline = time.monotonic() + 20
        while not smtp_server.stalled and time.monotonic() < deadline:
            time.sleep(0.05)
        assert smtp_server.stalled, "the worker never reached the mail server"
    finally:
        first.kill()
    # RabbitMQ gives the task back at once (late acknowledgement) to another worker;
    # Redis only after its visibility timeout (an hour), so there the sweep hands the
    # row over once the dead worker's claim has run out. Either way the claim keeps
    # a second sender off until then, and the mail is sent once.
    with worker(instance_path, settings, "--pool", "prefork", "--concurrency", "1"), \
            JobProcess("beat", instance_path, settings):
        smtp_server.wait_for(1, timeout=60)
        time.sleep(3)  # more sweeps and redeliveries: nothing is sent twice
    assert len(smtp_server.messages) == 1
    [row] = outbox_rows(shop)
    assert row.sent_at is not None and row.attempts == 2
