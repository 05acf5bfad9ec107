"""The baseline the benchmark compares mypack with: a bare Flask app, served by the
same servers with the same settings.

- ``/ok``: a constant answer, the least a Flask app can do (compared with /healthz);
- ``/items?per_page=20``: the items page of ``GET /api/v1/items`` written by hand:
  the same two queries (count, page in menu order) with raw psycopg2 and
  ``json.dumps``, the same JSON shape, one connection per thread.

Configured by ``MYPACK_BENCH_DSN`` (a libpq connection string). Served as
``baseline:app`` by gunicorn, and by mod_wsgi through a ``start.wsgi`` that imports it.
"""

from __future__ import annotations

import json
import math
import os
import threading

import psycopg2
from flask import Flask, Response, request

app = Flask(__name__)
_local = threading.local()

COUNT = "SELECT count(*) FROM menu_items"
PAGE = """
SELECT id, name, category, description, price, available, supplier_id, created_at, updated_at
FROM menu_items
ORDER BY CASE category WHEN 'coffee' THEN 0 WHEN 'tea' THEN 1 WHEN 'food' THEN 2
         WHEN 'other' THEN 3 ELSE 4 END, lower(name), id
LIMIT %s OFFSET %s
"""
FIELDS = ("id", "name", "category", "description", "price", "available", "supplier_id",
          "created_at", "updated_at")


def _connection():
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg2.connect(os.environ["MYPACK_BENCH_DSN"])
        connection.autocommit = True
    return connection


@app.get("/ok")
def ok():
    return "ok"


@app.get("/items")
def items():
    page = max(1, request.args.get("page", 1, type=int))
    per_page = min(100, max(1, request.args.get("per_page", 20, type=int)))
    with _connection().cursor() as cursor:
        cursor.execute(COUNT)
        (total,) = cursor.fetchone()
        cursor.execute(PAGE, (per_page, (page - 1) * per_page))
        rows = cursor.fetchall()
    found = []
    for row in rows:
        item = dict(zip(FIELDS, row, strict=True))
        item["price"] = f"{item['price']:.2f}"
        for stamp in ("created_at", "updated_at"):
            item[stamp] = item[stamp].isoformat() + "+00:00"
        found.append(item)
    last = max(1, math.ceil(total / per_page))

    def url(number):
        return f"/items?page={number}&per_page={per_page}"

    links = {"self": url(page), "next": url(page + 1) if page < last else None,
             "prev": url(page - 1) if page > 1 else None, "first": url(1), "last": url(last)}
    body = {"items": found, "total": total, "page": page, "per_page": per_page,
            "links": links}
    return Response(json.dumps(body), mimetype="application/json")
