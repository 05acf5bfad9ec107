"""Periodic jobs (Celery beat): pruning what is no longer needed, reminders of orders
ready and not collected, and the summary mails of staff and admins.

Each runs once per period however many schedulers were started (two ``mypack beat``
by mistake, one per node): a run first claims its period in the ``job_runs`` table,
whose primary key is (job, period), so the database lets exactly one claim in.
"""
