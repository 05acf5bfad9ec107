"""Packaging for mypack: ``pip install .`` gives the package, its templates, static
files and migrations, and the ``mypack`` console script."""

import re
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'^__version__ = "([^"]+)"', (HERE / "mypack" / "version.py").read_text(),
                    re.M).group(1)

TEST_REQUIRES = [
    "pytest>=8",
    # The suite also runs the rate limits against a shared Redis store.
    "redis>=5",
    # Drives Debian's /usr/bin/chromium (never a browser of its own) in the browser test.
    "playwright>=1.40",
    # Fuzzes the API against its own OpenAPI document.
    "schemathesis>=4",
    # A real SMTP server the mail tests start and read.
    "aiosmtpd>=1.4",
]

setup(
    name="mypack",
    version=VERSION,
    description="A café menu and ordering service for Apache mod_wsgi or gunicorn "
                "on PostgreSQL or MySQL",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.11",
    # Namespace discovery: the data folders (templates, static, migrations) are
    # packages too, so setuptools installs them as such instead of warning that it
    # may stop including them.
    packages=find_namespace_packages(include=["mypack", "mypack.*"]),
    # Templates, static files, migrations and the example config are listed in
    # MANIFEST.in and installed inside the package.
    include_package_data=True,
    zip_safe=False,
    install_requires=[
        "flask>=3.1,<4",
        "flask-sqlalchemy>=3.1,<4",
        "sqlalchemy>=2.0,<3",
        "flask-migrate>=4.0,<5",
        "alembic>=1.13",
        # Built from source against libpq / libmariadb, not the -binary wheels.
        "psycopg2>=2.9",
        "mysqlclient>=2.2",
        # Multi-process-safe rotating log file (mod_wsgi daemons, gunicorn workers).
        "concurrent-log-handler>=0.9.25",
        # Sessions and remember cookies, CSRF on every form, per-client rate limits.
        "flask-login>=0.6.3",
        "flask-wtf>=1.2",
        "flask-limiter>=3.5",
        # Anonymous reads of the public menu answered from a cache (per process or Redis).
        "flask-caching>=2.3",
        # The JSON API: marshmallow schemas validate requests and generate OpenAPI.
        "flask-smorest>=0.44",
        # One of the two supported servers; pure Python, so always installed.
        "gunicorn>=23",
        # Background jobs: the field's standard task queue, on RabbitMQ (amqp, its
        # client comes with it) or Redis; retries, late acknowledgement, periodic jobs.
        "celery>=5.4,<6",
        # Mail: Django's mail API for Flask (SMTP with STARTTLS/SSL, text and HTML
        # parts, console/file backends for development, locmem for tests).
        "flask-mailman>=1.1",
    ],
    extras_require={
        # The other: mod_wsgi built into the venv (needs apache2-dev for apxs).
        "apache": ["mod_wsgi>=5"],
        # Rate-limit counters shared by all processes (RATELIMIT_STORAGE_URI), the menu
        # cache, or the job broker (CELERY_BROKER_URL) on Redis: "redis://..."
        "redis": ["redis>=5"],
        "test": TEST_REQUIRES,
        "dev": TEST_REQUIRES + ["ruff>=0.6", "mypy>=1.11"],
    },
    entry_points={"console_scripts": ["mypack = mypack.cli:main"]},
    # The deployment kit lands in <venv>/share/mypack, so a deploy root needs no
    # source checkout: start.wsgi is copied from there, the rest is used in place.
    data_files=[
        ("share/mypack", ["start.wsgi", "deploy/gunicorn.conf.py", "deploy/deploy.sh",
                          "deploy/production.config.py"]),
        ("share/mypack/systemd", ["deploy/systemd/mypack.service",
                                  "deploy/systemd/mypack-health.service",
                                  "deploy/systemd/mypack-reload.path",
                                  "deploy/systemd/mypack-reload.service",
                                  "deploy/systemd/mypack-worker.service",
                                  "deploy/systemd/mypack-beat.service"]),
        ("share/mypack/logrotate", ["deploy/logrotate/mypack"]),
    ],
    classifiers=[
        "Framework :: Flask",
        "Programming Language :: Python :: 3",
        "Topic :: Internet :: WWW/HTTP :: WSGI :: Application",
    ],
)
