"""``make bench``: mypack measured under gunicorn and Apache mod_wsgi against a bare-Flask
baseline (see README, Performance)."""
