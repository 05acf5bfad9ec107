"""Orders: the customer's pages (order, review, confirm, list, cancel) and the staff
queue. The rules and the concurrency handling live in ``mypack.orders.service``;
the views only read forms and turn its exceptions into pages. Prices show through
the menu's ``money`` filter, like everywhere on the site.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("orders", __name__)


from mypack.orders import queue, views  # noqa: E402,F401  (routes register on bp)
