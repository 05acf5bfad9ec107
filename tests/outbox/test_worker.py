"""Mail through real workers: ``mypack worker`` (and ``mypack beat``) on RabbitMQ or
Redis, PostgreSQL, and a real SMTP server; the broker stopped while orders are placed;
a worker killed in the middle of sending; a mail server that refuses (tried again with
growing pauses, then given up on), or that is down and comes back.

The test's process stands for the web server: it places orders through the API, with
jobs handed to the broker as in production.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from datetime import datetime

import pytest

from tests.factories import EMAILS, add_items, add_people, auth, count, outbox_rows
from tests.support.jobs import (
    BROKERS,
    JobProcess,
    broker_reachable,
    delete_queue,
    job_settings,
    worker,
)
from tests.support.servers import free_port
from tests.support.smtp import SmtpServer
from tests.support.system import ROOT, command, unavailable


@pytest.fixture(params=sorted(BROKERS))
def broker(request):
    url = BROKERS[request.param]
    problem = broker_reachable(url)
    if problem:
        unavailable(f"the {request.param} broker at {url} is not available ({problem})")
    return url


@pytest.fixture
def shop(make_app, migrated_url, broker, smtp_server):
    """The web side on PostgreSQL, handing jobs to ``broker`` on a queue of its own as
    each commit ends (OUTBOX_HAND_OVER = "commit"; the default, "sweep", has a test of
    its own); ``shop.settings`` are what its workers need too."""
    settings = job_settings(broker, migrated_url, OUTBOX_HAND_OVER="commit",
                            OUTBOX_SWEEP_SECONDS=1,
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
        # Routine sweeps are not logged (one every OUTBOX_SWEEP_SECONDS); handing over is.
        assert "outbox-sweep" not in beat.output()
        assert "mypack.outbox.sweep[" not in running.output()
        assert "outbox sweep: handed over 3 message(s): 1, 2, 3" in running.output()
    assert len(smtp_server.messages) == 3
    assert len(set(message_ids(smtp_server))) == 3
    assert all(row.sent_at is not None for row in outbox_rows(shop))


def test_with_the_hand_over_left_to_the_sweep_beat_hands_the_receipt_over_at_once(
        make_app, shop, instance_path, smtp_server):
    # OUTBOX_HAND_OVER = "sweep", the default: the web process publishes nothing; the
    # sweep takes the row without waiting its grace (nobody else would hand it over).
    settings = {**shop.settings, "OUTBOX_HAND_OVER": "sweep", "OUTBOX_SWEEP_GRACE_SECONDS": 600}
    web = make_app(**settings)
    web.item_ids = shop.item_ids
    order_id = order(web)
    assert web.extensions["outbox"].wait(10)
    [row] = outbox_rows(web)
    assert row.dispatched_at is None and row.sent_at is None
    with worker(instance_path, settings) as running, \
            JobProcess("beat", instance_path, settings):
        [mail] = smtp_server.wait_for(1, timeout=30)
        assert mail["Subject"].startswith(f"Your order #{order_id} ")
        running.wait_for_line("outbox sweep: handed over 1 message(s): 1")
    [row] = outbox_rows(web)
    assert row.sent_at is not None


def test_a_web_process_that_leaves_the_hand_over_to_the_sweep_never_loads_celery(
        migrated_url, tmp_path):
    # Its memory (README, Performance): a fresh interpreter, an order placed.
    program = f"""
import sys
from mypack import create_app
from tests.factories import add_items, add_people, auth
app = create_app("testing", {str(tmp_path)!r}, SQLALCHEMY_DATABASE_URI={migrated_url!r},
                 OUTBOX_HAND_OVER="sweep", CELERY_TASK_ALWAYS_EAGER=False,
                 CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:1//")
add_people(app, ("customer",))
item = add_items(app)["Espresso"]
answer = app.test_client().post("/api/v1/orders", headers=auth("customer"),
                                json={{"lines": [{{"item_id": item, "quantity": 1}}]}})
assert answer.status_code == 201, answer.text
print(sorted(name for name in sys.modules if name.split(".")[0] in ("celery", "kombu")))
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"


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


def records(running, text: str) -> list[list[str]]:
    """The worker's log records whose message holds ``text``, as their TEXT_FORMAT
    fields: time, level, pid, job id, logger, message, place."""
    return [line.split("|") for line in running.output().splitlines()
            if "|" in line and text in line.split("|")[5]]


def logged_at(record: list[str]) -> datetime:
    return datetime.strptime(record[0], "%Y-%m-%d %H:%M:%S,%f")


def delivery_task_ids(running) -> set[str]:
    """The ids Celery itself gives the delivery tasks it receives (each retry, too)."""
    return set(re.findall(r"Task mypack\.outbox\.deliver\[([0-9a-f-]+)\] received",
                          running.output()))


def test_a_refusing_mail_server_is_tried_again_by_the_worker_then_given_up(
        shop, instance_path, smtp_server):
    from mypack.extensions import db
    from mypack.orders.models import Order

    # Pauses of 1 s, then 2 s, then 2 s (doubled, up to the longest), then no fifth try.
    settings = {**shop.settings, "OUTBOX_RETRY_SECONDS": 1, "OUTBOX_RETRY_MAX_SECONDS": 2,
                "OUTBOX_MAX_ATTEMPTS": 4}
    smtp_server.refuse = "451 4.3.0 Try again later"
    with worker(instance_path, settings) as running:
        order_id = order(shop)
        assert shop.answered_in < 1  # the order does not wait for the mail server
        running.wait_for_line("outbox: gave up on order_receipt mail 1 ", timeout=30)
        time.sleep(2.5)  # longer than any pause: no try after the last
        assert smtp_server.refused == 4
    assert smtp_server.messages == []
    failed = records(running, "outbox: order_receipt mail 1 to customer@example.com failed")
    [gave_up] = records(running, "outbox: gave up on order_receipt mail 1 ")
    assert [record[5].split(": ", 1)[1] for record in failed] == [
        f"order_receipt mail 1 to customer@example.com failed (try {n} of 4): "
        f"SMTPDataError: (451, b'4.3.0 Try again later'); trying again in {pause} s"
        for n, pause in ((1, 1), (2, 2), (3, 2))]
    assert gave_up[5] == ("outbox: gave up on order_receipt mail 1 to customer@example.com "
                          "after 4 tries: SMTPDataError: (451, b'4.3.0 Try again later')")
    # The worker really waited each pause before the next try.
    times = [logged_at(record) for record in [*failed, gave_up]]
    gaps = [(times[n + 1] - times[n]).total_seconds() for n in range(3)]
    assert all(pause - 0.01 <= gap < pause + 3 for gap, pause in zip(gaps, (1, 2, 2),
                                                                      strict=True)), gaps
    # Every line is a WARNING of the worker that names the job: the Celery task, which
    # keeps its id through its retries.
    [task_id] = delivery_task_ids(running)
    for record in [*failed, gave_up]:
        assert (record[1], record[3], record[4]) == ("WARNING", task_id, "mypack.outbox.tasks")
    assert f"mypack.outbox.deliver[{task_id}] retry: Retry in 2s" in running.output()
    [row] = outbox_rows(shop)
    assert row.failed_at is not None and row.sent_at is None and row.claimed_at is None
    assert row.attempts == 4 and row.last_error == "SMTPDataError: (451, b'4.3.0 Try again later')"
    # The order stands, as it was placed.
    assert count(shop, Order) == 1
    with shop.app_context():
        placed = db.session.get(Order, order_id)
        assert placed is not None and placed.status == "placed"


def test_a_mail_server_that_is_down_is_tried_again_and_mails_once_when_it_is_up(
        shop, instance_path):
    port = free_port()  # nothing listens there
    settings = {**shop.settings, "MAIL_PORT": port, "OUTBOX_RETRY_SECONDS": 1,
                "OUTBOX_RETRY_MAX_SECONDS": 1, "OUTBOX_MAX_ATTEMPTS": 30}
    with worker(instance_path, settings) as running:
        order(shop)
        running.wait_for_line("outbox: order_receipt mail 1 to customer@example.com failed "
                              "(try 2 of 30): ConnectionRefusedError", timeout=30)
        late = SmtpServer(port).start()
        try:
            [mail] = late.wait_for(1, timeout=10)
            running.wait_for_line("outbox: sent order_receipt mail 1 ")
            time.sleep(2.5)  # more than a pause: no try after the one that sent it
            assert len(late.messages) == 1
        finally:
            late.stop()
    assert mail["To"] == EMAILS["customer"] and mail["Message-ID"].startswith("<outbox.1.")
    failed = records(running, "outbox: order_receipt mail 1 to customer@example.com failed")
    assert len(failed) >= 2
    assert all(record[1] == "WARNING" and "ConnectionRefusedError" in record[5]
               for record in failed)
    [task_id] = delivery_task_ids(running)
    [sent] = records(running, "outbox: sent order_receipt mail 1 ")
    assert {record[3] for record in [*failed, sent]} == {task_id}
    [row] = outbox_rows(shop)
    assert row.sent_at is not None and row.failed_at is None and row.last_error is None
    assert row.attempts == len(failed) + 1
