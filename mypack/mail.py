"""Mail: Flask-Mailman, and messages built from templates.

Flask-Mailman (Django's mail API for Flask) rather than Flask-Mail: its backends are
settings (``MAIL_BACKEND``: ``smtp`` in production; ``console`` or ``file`` where
mail should only be looked at, as ``make run`` does; ``locmem`` for tests), it sends
a plain-text body with an HTML alternative, and it speaks SMTP with STARTTLS or SSL,
authentication and a timeout.

Every mail has a plain-text and an HTML part, from ``templates/mail/<kind>.txt`` and
``.html`` (the subject is the text template's first line). Links are absolute and
built from ``SITE_URL``, never from a request's Host header: mail is written by a
worker, which has no request, and a Host header is the client's to choose.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_mailman import EmailMultiAlternatives, Mail

mail = Mail()


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` on the site ``SITE_URL`` names (``_anchor``
    as with ``url_for``)."""
    anchor = values.pop("_anchor", None)
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(site.netloc, script_name=site.path or "/",
                                       url_scheme=site.scheme)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def site_host() -> str:
    return urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"


def build(kind: str, recipient: str, context: dict[str, Any], message_id: str):
    """The mail ``kind`` for ``recipient``: both parts rendered from ``context``."""
    values = {**context, "url": external_url, "site_name": current_app.config["SITE_NAME"]}
    subject, _, text = render_template(f"mail/{kind}.txt", **values).partition("\n")
    reply_to = current_app.config["MAIL_REPLY_TO"]
    message = EmailMultiAlternatives(
        subject=subject.strip(), body=text.lstrip("\n"), to=[recipient],
        reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": message_id})
    message.attach_alternative(render_template(f"mail/{kind}.html", **values), "text/html")
    return message


def send(message) -> None:
    """Send ``message`` on a connection of its own, closed whatever happens (the SMTP
    backend leaves a connection open when the server refuses a message)."""
    with current_app.extensions["mailman"].get_connection() as connection:
        connection.send_messages([message])
