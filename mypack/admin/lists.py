"""The model admin's lists: search, filters, sort and pages read from the query
string, and the CSV export of the same filtered rows.

A list is described once (:class:`ModelList`). :meth:`ModelList.query` refuses bad
input with a 400 that says what was wrong (an unknown filter value or sort key, an
overlong search, a page that is not a number) rather than guessing: a page never
shows rows other than those asked for, and the export is exactly the list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, abort, stream_with_context
from sqlalchemy import ColumnElement, Select, or_

from mypack.database import utcnow
from mypack.extensions import db
from mypack.pages import Page, page_number, paginate
from mypack.text import SEARCH_LENGTH, control_characters

#: The longest search text; longer ones are refused, not cut.
MAX_SEARCH = SEARCH_LENGTH
#: Rows fetched at a time while a CSV export streams.
EXPORT_BATCH = 500
#: A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

YES_NO = (("yes", "yes"), ("no", "no"))


@dataclass(frozen=True)
class Column:
    """A column of the list: ``sort`` is the expression it sorts by (None: it does not)."""

    key: str
    label: str
    sort: Any = None


@dataclass(frozen=True)
class Filter:
    """A select above the list: ``choices()`` gives (value, label) pairs; ``clause``
    turns a chosen value into the WHERE condition."""

    name: str
    label: str
    choices: Callable[[], Sequence[tuple[str, str]]]
    clause: Callable[[str], ColumnElement[bool]]


@dataclass(frozen=True)
class ListQuery:
    """What the query string asked of a list, checked."""

    search: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str = ""
    descending: bool = False
    page: int = 1

    def args(self, **changes) -> dict[str, Any]:
        """The query string of this list with ``changes`` (``page=None`` drops the page),
        for ``url_for``: links keep the search, filters and sort."""
        query = replace(self, **{k: v for k, v in changes.items() if k != "page"})
        args: dict[str, Any] = dict(query.filters)
        if query.search:
            args["q"] = query.search
        args["sort"] = ("-" if query.descending else "") + query.sort
        page = changes.get("page", self.page)
        if page and page > 1:
            args["page"] = page
        return args

    def sorted_by(self, key: str) -> dict[str, Any]:
        """The query string for a click on column ``key``'s heading: sort by it,
        the other way round if it already is; back to the first page."""
        descending = not self.descending if key == self.sort else False
        return self.args(sort=key, descending=descending, page=None)


class ModelList:
    """One model's list in the console.

    ``statement`` builds the base SELECT (its first column is the row's object, or
    whole rows when ``scalars`` is false); ``search`` turns the search text into a
    condition; ``export`` names the CSV's columns and how to get each from a row.
    """

    def __init__(self, *, statement: Callable[[], Select], columns: Sequence[Column],
                 default_sort: str, tiebreak: Any, export: Sequence[tuple[str, Callable]],
                 search: Callable[[str], ColumnElement[bool]] | None = None,
                 filters: Sequence[Filter] = (), options: Sequence = (),
                 scalars: bool = True, per_page: int = 50, default_descending: bool = False):
        self.statement, self.columns, self.filters = statement, columns, filters
        self.sorts = {column.key: column.sort for column in columns if column.sort is not None}
        if default_sort not in self.sorts:
            raise ValueError(f"{default_sort!r} is not a sortable column")
        self.default_sort, self.default_descending = default_sort, default_descending
        self.tiebreak, self.export, self.search = tiebreak, export, search
        self.options, self.scalars, self.per_page = options, scalars, per_page

    def query(self, args: Mapping[str, str]) -> ListQuery:
        """Read the search, filters, sort and page of a query string.

        :raise 400: a value the list does not offer, or a malformed one.
        """
        search = (args.get("q") or "").strip()
        if len(search) > MAX_SEARCH or control_characters(search):
            abort(400, f"The search is at most {MAX_SEARCH} printable characters.")
        if search and self.search is None:
            abort(400, "This list has no search.")
        filters = {}
        for item in self.filters:
            value = args.get(item.name) or ""
            if not value:
                continue
            if value not in {choice for choice, _ in item.choices()}:
                abort(400, f"{item.label}: there is no choice {value[:40]!r}.")
            filters[item.name] = value
        raw_sort = args.get("sort") or ""
        descending = raw_sort.startswith("-") if raw_sort else self.default_descending
        sort = raw_sort.removeprefix("-") if raw_sort else self.default_sort
        if sort not in self.sorts:
            abort(400, f"The list cannot be sorted by {sort[:40]!r}; "
                       f"it can by {', '.join(self.sorts)}.")
        return ListQuery(search=search, filters=filters, sort=sort, descending=descending,
                         page=page_number(args.get("page")))

    def select(self, query: ListQuery) -> Select:
        """The SELECT of the rows ``query`` asks for, sorted, not paged."""
        statement = self.statement().order_by(None)
        if query.search and self.search is not None:  # parse() refuses a search otherwise
            statement = statement.where(self.search(query.search))
        by_name = {item.name: item for item in self.filters}
        for name, value in query.filters.items():
            statement = statement.where(by_name[name].clause(value))
        order = self.sorts[query.sort]
        # The tiebreak (the primary key) keeps pages stable when sort values repeat.
        if query.descending:
            return statement.order_by(order.desc(), self.tiebreak.desc())
        return statement.order_by(order, self.tiebreak)

    def page(self, query: ListQuery) -> Page:
        """The page ``query`` asks for (two queries, plus the ``options``' own).

        :raise 404: past the last page.
        """
        return paginate(self.select(query), query.page, self.per_page, self.options,
                        scalars=self.scalars)

    def csv(self, query: ListQuery, name: str) -> Response:
        """Every row ``query`` selects (all pages), as a CSV download that streams in
        batches, so a long list costs neither the memory nor the wait of a whole file."""
        statement = self.select(query).options(*self.options).execution_options(
            yield_per=EXPORT_BATCH)

        def lines() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow([header for header, _ in self.export])
            result = db.session.execute(statement)
            for row in (result.scalars() if self.scalars else result):
                writer.writerow([csv_cell(value(row)) for _, value in self.export])
                if buffer.tell() > 64 * 1024:
                    yield _take(buffer)
            yield _take(buffer)

        filename = f"{name}-{utcnow():%Y%m%d-%H%M%S}.csv"
        return Response(stream_with_context(lines()), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def csv_cell(value) -> str:
    """A value as a CSV cell: times in UTC ISO 8601, yes/no for booleans, and text
    that a spreadsheet would run as a formula quoted with a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")  # stored as naive UTC
    if isinstance(value, (int, Decimal, date)):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def contains_any(*columns) -> Callable[[str], ColumnElement[bool]]:
    """A search in any of ``columns``, any case; ``%`` and ``_`` are plain characters."""
    def clause(text: str) -> ColumnElement[bool]:
        return or_(*(column.icontains(text, autoescape=True) for column in columns))
    return clause
