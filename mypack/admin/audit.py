"""The audit log, read-only: every account event, with search, event and period
filters, sort and CSV export. Rows are only ever added (``mypack.audit``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mypack.admin.console import bp
from mypack.admin.lists import Column, Filter, ModelList, contains_any
from mypack.admin.views import csv_export, list_page
from mypack.audit import EVENTS, AuditEvent
from mypack.database import utcnow

PERIODS = {"1d": ("last 24 hours", 1), "7d": ("last 7 days", 7), "30d": ("last 30 days", 30)}

AUDIT = ModelList(
    statement=lambda: select(AuditEvent),
    columns=[Column("time", "Time (UTC)", AuditEvent.created_at),
             Column("event", "Event", AuditEvent.event),
             Column("email", "Email", AuditEvent.email),
             Column("ip", "Address", AuditEvent.ip),
             Column("detail", "Detail")],
    default_sort="time", default_descending=True, tiebreak=AuditEvent.id,
    search=contains_any(AuditEvent.email, AuditEvent.ip, AuditEvent.detail,
                        AuditEvent.request_id),
    filters=[Filter("event", "Event", lambda: [(event, event) for event in EVENTS],
                    lambda event: AuditEvent.event == event),
             Filter("period", "When", lambda: [(k, v[0]) for k, v in PERIODS.items()],
                    lambda period: AuditEvent.created_at
                    >= utcnow() - timedelta(days=PERIODS[period][1]))],
    export=[("id", lambda e: e.id), ("time", lambda e: e.created_at),
            ("event", lambda e: e.event), ("user_id", lambda e: e.user_id),
            ("email", lambda e: e.email), ("ip", lambda e: e.ip),
            ("request_id", lambda e: e.request_id), ("detail", lambda e: e.detail)],
)


@bp.get("/audit")
def audit():
    """Audit events, newest first."""
    return list_page(AUDIT, "admin/audit.html", "Audit log")


@bp.get("/audit.csv")
def audit_csv():
    """The filtered audit log as CSV."""
    return csv_export(AUDIT, "audit")
