"""Orders: placing, cancelling and moving them through their statuses.

The domain: ``models`` (orders, their lines, the statuses and the moves between
them) and ``service`` (the rules, one transaction each, safe under concurrency).
The request layer on top: ``views`` (the customer's pages), ``queue`` (the staff
queue) and ``forms``; they read forms and leave failures to the domain's
exceptions (mypack.exceptions, answered by mypack.errors). Nothing here imports them.
"""
