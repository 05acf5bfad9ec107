"""The one paginator: a page of a query's rows, counted and sliced, for the HTML lists
(the menu, the staff and console lists) and the API's (mypack.api.pagination adds
its page arguments, links and ``Link`` header), and the page number a query string
asks for.

A foundation module: it imports only mypack.extensions from mypack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from math import ceil

from flask import abort
from sqlalchemy import Select, func, select

from mypack.extensions import db

#: The highest page number a list is asked for: a larger one would only make the
#: database compute a useless offset (or overflow SQLite's).
MAX_PAGE = 10**6
_PAGE_NUMBER = re.compile(rf"[0-9]{{1,{len(str(MAX_PAGE))}}}")


@dataclass
class Page:
    """The rows of page ``number`` and what the page links need."""

    number: int
    per_page: int
    total: int
    items: list = field(default_factory=list)

    @property
    def pages(self) -> int:
        """The number of the last page (1 for no rows: page 1 always exists)."""
        return max(1, ceil(self.total / self.per_page))

    def links(self, around: int = 2) -> list[int | None]:
        """The page numbers to link: the first, the last and those ``around`` this
        one; None where numbers are left out."""
        wanted = {1, self.pages, *range(self.number - around, self.number + around + 1)}
        numbers = sorted(n for n in wanted if 1 <= n <= self.pages)
        links: list[int | None] = []
        for number in numbers:
            if links and number - links[-1] > 1:
                links.append(None)
            links.append(number)
        return links


def page_number(raw: str | None) -> int:
    """The page number of a query string's ``page`` (1 when absent).

    :raise 400: not a whole number from 1 to MAX_PAGE.
    """
    if raw is None or raw == "":
        return 1
    if not _PAGE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, "The page must be a whole number from 1.")
    return int(raw)


def paginate(statement: Select, number: int, per_page: int, options=(),
             scalars: bool = True, past_the_last: bool = False) -> Page:
    """Page ``number`` of ``statement``'s rows in two queries (the count, the rows).

    ``options`` (loader options such as ``joinedload``) apply to the rows only; the
    items are the first column's values, or whole rows when ``scalars`` is false.

    :raise 404: past the last page (page 1 always exists, even empty), unless
        ``past_the_last``: then such a page is answered, without rows (the API's way).
    """
    total = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery()))
    page = Page(number=number, per_page=per_page, total=total or 0)
    if number > page.pages and not past_the_last:
        abort(404, f"There is no page {number}; the last one is {page.pages}.")
    result = db.session.execute(
        statement.options(*options).limit(per_page).offset((number - 1) * per_page))
    page.items = list(result.scalars() if scalars else result)
    return page
