"""The transactional outbox: what must happen after a change commits (a mail) is written
in the same transaction as the change, then handed to the job system.

A row is never lost: the change and its row commit together or not at all. After
the commit, the process hands the new rows to Celery in a thread of its own
(:mod:`mypack.outbox.dispatch`), so a request never waits for the broker; rows that
could not be handed over (the broker down, the process gone) are handed over again by
the periodic sweep. The delivering task (:mod:`mypack.outbox.tasks`) claims its row
before sending and marks it sent after, so a task run twice sends once; each mail
keeps one Message-ID across tries, by which a second copy (a worker killed between
the SMTP server's answer and the mark) is recognised. A kind whose content must be
decided at sending time (a password-reset link) has a ``prepare`` function, registered
by the package it belongs to (:mod:`mypack.outbox.kinds`), which may also skip it.
"""
