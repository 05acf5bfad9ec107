"""The public menu: the home page (search, category filter, pages) and an item's page."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, render_template, request

from mypack.extensions import db
from mypack.menu import service
from mypack.menu.models import CATEGORIES, MenuItem
from mypack.menu.prices import money
from mypack.pages import page_number, paginate
from mypack.text import SEARCH_LENGTH, control_characters

bp = Blueprint("menu", __name__)
# Every price on the site shows through this filter: {{ item.price | money }}.
bp.add_app_template_filter(money, "money")

#: Items on one page of the menu.
PAGE_SIZE = 20
#: Longer searches cannot match: names have at most 100 characters.
MAX_SEARCH = SEARCH_LENGTH


@bp.get("/")
def index():
    """The menu by category; ``?q=`` searches names, ``?category=`` filters, ``?page=``.

    Two queries whatever the menu's size: the count and the page.

    :raise 400: an unknown category, a search over 100 characters or with control
        characters, a page that is not a whole number.
    :raise 404: a page past the last.
    """
    search = request.args.get("q", "").strip()
    if len(search) > MAX_SEARCH:
        abort(400, f"Search for at most {MAX_SEARCH} characters.")
    if control_characters(search):
        # No name has them, and PostgreSQL refuses NUL in a query outright.
        abort(400, "Search for letters, digits and punctuation.")
    category = request.args.get("category") or None
    if category is not None and category not in CATEGORIES:
        abort(400, f"There is no such category. The categories are {', '.join(CATEGORIES)}.")
    page = paginate(service.menu_items(search, category),
                    page_number(request.args.get("page")), PAGE_SIZE)
    # The rows come in category order, so each category is one run of rows.
    groups = [(name, list(items)) for name, items in groupby(page.items,
                                                              key=lambda item: item.category)]
    return render_template("menu/index.html", page=page, groups=groups, q=search,
                           category=category, categories=CATEGORIES, max_search=MAX_SEARCH)


@bp.get("/items/<int:item_id>")
def item(item_id: int):
    """One item with its description.

    :raise 404: no such item.
    """
    item = db.get_or_404(MenuItem, item_id, description="There is no such item on the menu.")
    return render_template("menu/item.html", item=item)
