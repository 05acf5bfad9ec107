"""Exceptions that carry a message meant for the operator, not a traceback."""


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix.

    Raised at start-up (``create_app``) and by CLI commands; the CLI and ``start.wsgi``
    print the message as one line instead of a traceback.
    """
