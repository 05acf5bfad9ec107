"""The menu: the public menu (the site's home page) and the staff pages that keep it.

``views`` has the public pages, ``manage`` the staff pages under ``/staff``; the
rules of what may be deleted live in ``service``, the page arithmetic in ``pages``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint

bp = Blueprint("menu", __name__)

#: Every price on the site shows as this symbol and the amount with two decimals.
CURRENCY = "€"
CENT = Decimal("0.01")


@bp.app_template_filter("money")
def money(value: Decimal | int | str | None) -> str:
    """A price as the site shows it, ``€3.20`` (``€1,250.00``); nothing for None."""
    if value is None:
        return ""
    return f"{CURRENCY}{Decimal(value).quantize(CENT, ROUND_HALF_UP):,.2f}"


from mypack.menu import manage, views  # noqa: E402,F401  (routes register on bp)
