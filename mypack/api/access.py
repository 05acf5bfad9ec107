"""The API's side of the role gate: mypack.auth.roles' checks, and the scope each
operation needs written into the OpenAPI document."""

from __future__ import annotations

import inspect

from flask_smorest import Blueprint

from mypack.auth import tokens
from mypack.auth.roles import role_required


def require(role: str | None = None, scope: str = tokens.READ):
    """Decorate an API view: a logged-in caller (401), with at least ``role`` (403),
    and, with a Bearer token, one of at least ``scope`` (403, ``insufficient_scope``).

    A request whose method is not safe always needs the write scope, whatever
    ``scope`` says (mypack.auth.roles.check); ``scope="write"`` on such an operation
    documents it (the OpenAPI document's ``x-token-scope`` and its description).
    """
    gate = role_required(role, scope)  # unknown roles and scopes fail at import

    def decorator(view):
        return _document_scope(gate(view), scope)
    return decorator


def _document_scope(view, scope: str):
    """Say in the OpenAPI document which scope the operation needs: its
    ``x-token-scope``, and a sentence of its description (from the docstring)."""
    if scope != tokens.READ:
        view.__doc__ = (f"{inspect.cleandoc(view.__doc__ or '')}\n\n"
                        f"A Bearer token needs the {scope} scope for this (403 for a "
                        f"token of a lesser scope).")
    return Blueprint.doc(**{"x-token-scope": scope})(view)
