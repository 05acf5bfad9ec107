"""Every model, imported in one place so the metadata (and so migrations) sees all tables."""

from mypack.audit import AuditEvent
from mypack.auth.models import ApiToken, LoginThrottle, User
from mypack.menu.models import MenuItem, Supplier
from mypack.orders.models import Order, OrderLine
from mypack.outbox.models import OutboxMessage
from mypack.periodic.models import JobRun

__all__ = ["ApiToken", "AuditEvent", "LoginThrottle", "MenuItem", "Order", "OrderLine",
           "JobRun", "OutboxMessage", "Supplier", "User"]
