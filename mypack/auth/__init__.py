"""Accounts: who a user is, how a request proves it, and what each role may do.

The domain: ``models`` (users, login throttles, API tokens), ``service`` (every change
to an account, with its rules, audited), ``passwords``, ``names``, ``tokens`` and
``reset`` (password reset by mail), ``confirmation`` (email confirmation) and ``links``
(the signed links both mail).
How a request proves who it is lives in ``credentials`` (session, remember cookie,
Basic, Bearer), the session cookie's rules in ``sessions``, the one role gate of
pages, API and console in ``roles``; ``setup`` wires them into the app.

The request layer on top: ``views``, ``token_views``, ``reset_views`` and
``confirmation_views`` (the pages), ``forms``, ``redirects`` and ``cli`` (``mypack user
...``). Nothing here imports them.
"""
