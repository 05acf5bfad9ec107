"""Every model, imported in one place so the metadata (and so migrations) sees all tables."""

from mypack.audit import AuditEvent
from mypack.auth.models import LoginThrottle, User

__all__ = ["AuditEvent", "LoginThrottle", "User"]
