"""Exceptions that carry a message meant for a person, not a traceback: the
operator's (ConfigError) and the domain's refusals (DomainError and its kinds)."""


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix.

    Raised at start-up (``create_app``) and by CLI commands; the CLI and ``start.wsgi``
    print the message as one line instead of a traceback.
    """


class DomainError(Exception):
    """A rule of mypack's domain refused what was asked.

    ``message`` says why, to the person who asked; ``fields`` says which of their
    values, ``{name: [messages]}``. Services raise the subclasses below, never builtin
    errors such as LookupError (a stray KeyError must stay a bug, a 500, not turn into
    a 404); mypack.errors answers them in one place, in JSON or HTML, and views catch
    them only where a form shows the message next to its fields.
    """

    #: The JSON error's ``code`` when the status's own (``forbidden``) would not tell a
    #: program what to do next; None for the status's.
    code: str | None = None

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class NotFound(DomainError):
    """No such record, or none the caller may see (404)."""


class Invalid(DomainError):
    """A value breaks a rule: a weak password, an unknown role, a bad name (422)."""


class Refused(DomainError):
    """The caller may not do this, whatever the values (403)."""


class Conflict(DomainError):
    """The records as they are now refuse it: changed meanwhile, still in use, already
    taken (409)."""


class Locked(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next is heard (429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
