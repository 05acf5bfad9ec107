"""A real SMTP server for the tests (aiosmtpd), on a free 127.0.0.1 port: it keeps what
arrives, parsed, and can refuse or stall on purpose."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.servers import free_port


class SmtpServer:
    """``messages`` holds every mail accepted; ``refuse`` answers each DATA with that
    reply instead (``"451 ..."``, ``"550 ..."``); ``stall`` seconds are waited in the
    MAIL command of the next session, before any mail is taken (a server that hangs).
    ``port``: listen there (a mail server that comes up where one was down), else on a
    free port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.refuse: str | None = None
        self.stall = 0.0
        self.stalled = False  # a session is (or was) held by ``stall``
        self.refused = 0
        self._arrived = threading.Condition()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # aiosmtpd's handler hooks
    async def handle_MAIL(self, server, session, envelope, address, options):
        stall, self.stall = self.stall, 0.0
        if stall:
            self.stalled = True
            await asyncio.sleep(stall)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refused += 1
            return self.refuse
        message = email.message_from_bytes(envelope.original_content,
                                           policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 Message accepted"

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """The messages once ``count`` have arrived; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.messages)} of {count} mails arrived "
                                         f"within {timeout} s")
                self._arrived.wait(left)
            return list(self.messages)

    def settings(self) -> dict:
        """The app settings that send mail here."""
        return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port,
                "MAIL_TIMEOUT": 5}


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and the HTML body of a mail."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None, "a mail has a text and an HTML part"
    return text.get_content(), html.get_content()


#: The site's public address in mail tests: links must be built from it, never from
#: the request's Host.
SITE = "https://cafe.example.com"


def mailing_app(make_app, url, smtp_server, **overrides):
    """An app on ``url`` whose mail goes to ``smtp_server``, with links to SITE."""
    return make_app(SQLALCHEMY_DATABASE_URI=url, SITE_URL=SITE, SITE_NAME="Café Test",
                    **smtp_server.settings(), **overrides)
