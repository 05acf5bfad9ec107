"""The WSGI application for gunicorn: ``gunicorn mypack.wsgi:application``.

The instance folder comes from ``MYPACK_INSTANCE`` (set by deploy/gunicorn.conf.py
and the systemd unit). Apache uses start.wsgi instead, which cannot be loaded by
module path.
"""

from mypack.startup import make_application

application = make_application()
