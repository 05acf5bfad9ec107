"""Shared helpers of the API's resources: list pages (``page``, ``per_page``,
``links``, the ``Link`` header) on the site's one paginator (mypack.pages), sorting
on allow-listed fields. The fields requests are read with are mypack.api.fields';
errors, with their fields, are answered by mypack.errors.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, request, url_for
from marshmallow import Schema, fields, validate
from sqlalchemy import Select

from mypack import pages

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
_SORT_KEY = re.compile(r"^-?[a-z_]{1,40}$")


# --- list pages -----------------------------------------------------------------------------

class PageArgsSchema(Schema):
    """``page`` and ``per_page`` of a list (its ``sort`` is the resource's:
    mypack.api.fields.sort_field)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=pages.MAX_PAGE))
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE,
                              validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PageLinksSchema(Schema):
    self = fields.String(required=True)
    next = fields.String(allow_none=True)
    prev = fields.String(allow_none=True)
    first = fields.String(required=True)
    last = fields.String(required=True)


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A list page of ``item_schema``: ``{"items", "total", "page", "per_page", "links"}``."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": fields.Integer(required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
        "links": fields.Nested(PageLinksSchema, required=True),
        "__doc__": f"A page of {item_schema.__name__.removesuffix('Schema').lower()}s.",
    })


def sort_clauses(sort: str | None, allowed: dict) -> list:
    """ORDER BY clauses for ``sort`` ("-price,name"), only on the ``allowed`` fields
    ({name: column expression}); anything else is a 400. A field named again is
    already sorted on: the first mention counts. An empty ``sort=`` is not a field
    either (left out, the list has its own order)."""
    if sort is None:
        return []
    clauses, seen = [], set()
    for key in sort.split(","):
        name = key.removeprefix("-")
        if not _SORT_KEY.fullmatch(key) or name not in allowed:
            abort(400, f"Sort on these fields only: {', '.join(sorted(allowed))} "
                       "(prefix '-' for descending).")
        if name in seen:
            continue
        seen.add(name)
        column = allowed[name]
        clauses.append(column.desc() if key.startswith("-") else column.asc())
    return clauses


def paginate(statement: Select, args: dict):
    """The page of ``statement`` that ``args`` ask for, as (body, headers): the
    body has the rows as ``items``; the headers a ``Link`` to the other pages. A page
    past the last is answered, without rows (the HTML lists answer 404)."""
    page, per_page = args["page"], args["per_page"]
    found = pages.paginate(statement, page, per_page, past_the_last=True)
    last = found.pages
    links = {
        "self": _page_url(page, per_page),
        "next": _page_url(page + 1, per_page) if page < last else None,
        "prev": _page_url(min(page - 1, last), per_page) if page > 1 else None,
        "first": _page_url(1, per_page),
        "last": _page_url(last, per_page),
    }
    header = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items()
                       if url and rel != "self")
    body = {"items": found.items, "total": found.total, "page": page, "per_page": per_page,
            "links": links}
    return body, {"Link": header}


def _page_url(page: int, per_page: int) -> str:
    view_args = request.view_args or {}
    # The request's other parameters, minus any that url_for would take as its own.
    query = {key: values for key, values in request.args.to_dict(flat=False).items()
             if not key.startswith("_") and key not in view_args and key != "endpoint"}
    query["page"], query["per_page"] = [str(page)], [str(per_page)]
    values: dict[str, Any] = {**view_args, **query}
    return url_for(str(request.endpoint), **values)


