"""The admin console under ``/admin``: a dashboard, and the model admin for users,
suppliers, menu items, orders and the audit log.

Admins only. Staff get 403 like customers: they run the café from the staff pages
(items, suppliers, the queue), while the console can change accounts and roles and
shows the audit log, which are an administrator's business. Nobody logged in goes
to the login page and comes back.

Every change made here goes through the same services as the rest of the site
(``mypack.auth.service``, ``mypack.menu.service``, ``mypack.orders.service``), so the
same rules hold and account changes are audited.
"""

from mypack.admin import (  # noqa: F401  (their routes register on bp)
    audit,
    dashboard,
    items,
    orders,
    suppliers,
    users,
)
from mypack.admin.console import bp

__all__ = ["bp"]
