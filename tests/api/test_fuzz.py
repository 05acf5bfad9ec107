"""schemathesis, as a real client, against mypack's API and its own OpenAPI document
(security bar 17; issue 16, points 17 and 19).

schemathesis's own runner (its ``run`` command, over HTTP) drives a server on the
test's database, SQLite, PostgreSQL and MariaDB, with every check on and three phases:
the document's examples, the coverage phase (boundary values and negative cases: each
constraint of each parameter broken on purpose) and generated requests. Generation is
deterministic, so CI sees the same requests every run. Ids in paths and in an order's
lines come mostly from the records the test made, so every operation is reached with
data (moves of real orders, deletes of real items), not only its 404s.

Passing means: no 5xx, every status and body as documented, every request the
document forbids refused with a 4xx, every request it allows accepted. The test also
counts the answers by operation, and each operation must have answered 2xx at least
once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from flask import request, request_finished
from werkzeug.serving import make_server

from mypack.extensions import db

ADMIN = ("admin@example.com", "Fuzz-Admin-Pass-1")
#: Operations that cannot answer 2xx to the fuzzer's account: it is a confirmed admin
#: (schemathesis 4 applies an operation's own auth to every operation), so asking for
#: a confirmation link is its documented 409; tests/api/test_confirmation.py has the
#: 202.
NO_SUCCESS_FOR_THE_FUZZER = {"POST /api/v1/me/confirmation": {409}}
#: Requests per operation in the generated phase (the coverage phase adds its own).
MAX_EXAMPLES = 25
#: How often a path id is one of the records made here, not one schemathesis invents.
KNOWN_ID = 0.9

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def seed(app) -> dict[str, list[int]]:
    """An admin, customers, suppliers, items, orders and tokens; their ids by kind."""
    from mypack.auth import service, tokens
    from mypack.menu.models import MenuItem, Supplier
    from mypack.orders.service import place_order

    with app.app_context():
        customers = [service.register(f"customer{n}@example.com", f"Customer {n}",
                                      "Fuzz-Customer-Pass-1", confirmed=True)
                     for n in range(4)]
        # Made last, so no boundary value of an id (1, 0, the largest) is the
        # fuzzer's own account.
        admin = service.register(ADMIN[0], "Admin", ADMIN[1], role="admin", confirmed=True)
        suppliers = [Supplier(name=f"Supplier {n}") for n in range(6)]
        items = [MenuItem(name=f"Item {n}", category=("coffee", "tea", "food")[n % 3],
                          price=Decimal("2.50") + n, supplier=suppliers[n % 4])
                 for n in range(12)]
        db.session.add_all(suppliers + items)
        db.session.commit()
        # The first 8 items are on orders, the last 4 on none: deleting an item then
        # has a 2xx to reach (an item on orders is a 409) as well as its 409.
        orders = [place_order(customers[n % 4], {items[n % 8].id: 1 + n % 3}, f"fuzz-{n:04d}")
                  for n in range(20)]
        made = [tokens.create(admin, f"till {n}")[1] for n in range(6)]
        return {"items": [item.id for item in items],
                "suppliers": [supplier.id for supplier in suppliers],
                "orders": [order.id for order in orders],
                "users": [admin.id] + [customer.id for customer in customers],
                "customers": [customer.id for customer in customers],
                "tokens": [token.id for token in made]}


def config(ids: dict[str, list[int]]) -> str:
    """schemathesis.toml: the admin's Basic credentials, deterministic generation, and
    path ids (and an order's item ids) drawn mostly from the records made."""
    bound = {"path.item_id": "items", "path.supplier_id": "suppliers",
             "path.order_id": "orders", "path.user_id": "users", "path.token_id": "tokens",
             "body.lines[*].item_id": "items"}
    lines = [
        "[auth]",
        f'basic = {{ username = "{ADMIN[0]}", password = "{ADMIN[1]}" }}',
        "[generation]",
        "deterministic = true",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        "[phases.stateful]",
        "enabled = false",  # the document declares no links to follow
    ]
    for kind, values in ids.items():
        lines += [f"[dictionaries.{kind}]", f"values = {json.dumps(values)}"]
    # A move names the status the caller saw: the orders made are all placed, and a
    # pair drawn from the five statuses is rarely a move from there. Half the moves
    # start from placed, to one of the two statuses it leads to.
    lines += ["[dictionaries.seen]", 'values = ["placed"]',
              "[dictionaries.next]", 'values = ["preparing", "cancelled"]']
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{kind}", probability = {KNOWN_ID} }}'
              for key, kind in bound.items()]
    lines += ['"body.from" = { dictionary = "seen", probability = 0.5 }',
              '"body.to" = { dictionary = "next", probability = 0.5 }']
    # Changes to accounts go to the customers only: the admin the fuzzer signs in as
    # could otherwise be demoted or deactivated by its own requests (once another
    # account was made admin), and every later request would be a 401.
    lines += ["[[operations]]", 'include-name = "PATCH /api/v1/users/{user_id}"',
              'parameters = { "path.user_id" = { dictionary = "customers", '
              'probability = 1.0 } }']
    return "\n".join(lines) + "\n"


class Answers:
    """The statuses each API operation answered, as Flask routed it."""

    def __init__(self, app):
        self.by_operation: dict[str, list[int]] = defaultdict(list)
        self._lock = threading.Lock()
        request_finished.connect(self.record, app)

    def record(self, sender, response, **extra) -> None:
        rule = request.url_rule.rule if request.url_rule else None
        if rule and rule.startswith("/api/v1/"):
            operation = f"{request.method} {rule.replace('<int:', '{').replace('>', '}')}"
            with self._lock:
                self.by_operation[operation].append(response.status_code)


@pytest.fixture
def api_server(make_app, migrated_url):
    """The API on the test's database, served over HTTP on a free 127.0.0.1 port and
    stopped after the test. Limits that would lock the fuzzer out are raised."""
    app = make_app(SQLALCHEMY_DATABASE_URI=migrated_url, AUTH_RATE_LIMIT="100000 per minute",
                   LOCKOUT_THRESHOLD=10**6)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_schemathesis_finds_no_failure_and_reaches_every_operation(api_server, tmp_path):
    app, url = api_server
    ids = seed(app)
    settings = tmp_path / "schemathesis.toml"
    settings.write_text(config(ids))
    answers = Answers(app)
    result = subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(settings), "run", f"{url}/api/v1/openapi.json",
         "--checks", "all", "--phases", "examples,coverage,fuzzing", "--workers", "1",
         "--no-color", "--output-truncate", "false"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-12000:]
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "patch", "put", "delete")}
    assert f"Tested: {len(operations)}" in report, report[-3000:]
    unanswered = operations - set(answers.by_operation)
    assert not unanswered, f"never reached: {sorted(unanswered)}"
    no_success = {operation: sorted(set(answers.by_operation[operation]))
                  for operation in operations
                  if not any(200 <= status < 300 for status in answers.by_operation[operation])
                  and not set(answers.by_operation[operation])
                  <= NO_SUCCESS_FOR_THE_FUZZER.get(operation, set())}
    assert not no_success, f"no 2xx answer (statuses seen): {no_success}"
    # The status move of real orders, not only 404s (issue 16, point 19).
    moves = answers.by_operation["POST /api/v1/orders/{order_id}/status"]
    assert moves.count(200) >= 3, sorted(moves)
