"""The release of mypack: read by setup.py, the pages' footer, /healthz and the API's
document. A module of its own, so the layers below the app factory can say it without
importing ``mypack``'s ``create_app``."""

__version__ = "0.1.0"
