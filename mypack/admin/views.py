"""What every model admin's views share: the list page, the CSV export, bulk actions
and the status code of a form page."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import abort, flash, redirect, render_template, request, url_for

from mypack.admin.forms import BulkForm
from mypack.admin.lists import ModelList
from mypack.auth.redirects import safe_next
from mypack.menu.forms import ConfirmForm


def form_status(form) -> int:
    """400 for a submitted form with errors (the page shows them), else 200."""
    return 400 if form.errors else 200


def list_page(spec: ModelList, template: str, title: str, *,
              actions: dict[str, str] | None = None, **context):
    """A list page: the rows the query string asks for, with the bulk actions' form."""
    query = spec.query(request.args)
    bulk = BulkForm(formdata=None, actions=actions) if actions else None
    return render_template(template, spec=spec, query=query, page=spec.page(query),
                           title=title, bulk=bulk, row_id=_row_id, **context)


def _row_id(row) -> int:
    """The id of a list row: the object's, or the first column's for whole rows."""
    return row.id if hasattr(row, "id") else row[0].id


def csv_export(spec: ModelList, name: str):
    """The list the query string asks for, every page, as CSV."""
    return spec.csv(spec.query(request.args), name)


def bulk_action(actions: dict[str, str], list_endpoint: str,
                apply: Callable[[str, list[int]], Iterable[str]]):
    """Run a bulk action posted from a list and go back to that list.

    ``apply(action, ids)`` does it and yields one message per row it refused (the
    others were done); the flash says how many were done.

    :raise 400: no rows ticked, an unknown action, a missing CSRF token.
    """
    form = BulkForm(actions=actions)
    if not form.validate_on_submit():
        abort(400, " ".join(error for errors in form.errors.values() for error in errors))
    ids = sorted(set(form.ids.data))
    refused = list(apply(form.action.data, ids))
    done = len(ids) - len(refused)
    flash(f"{actions[form.action.data]}: done for {done} of {len(ids)}.",
          "success" if not refused else "warning")
    for message in refused:
        flash(message, "error")
    return redirect(safe_next(form.next.data) or url_for(list_endpoint))


def confirm_delete(name: str, delete: Callable[[ConfirmForm], str],
                   refused: type[Exception] | tuple[type[Exception], ...], *,
                   list_endpoint: str, back_url: str, consequence: str | None = None,
                   blocker: str | None = None, form: ConfirmForm | None = None):
    """A delete's confirmation page (GET) and the delete itself (POST).

    ``delete(form)`` deletes through its service and returns the message to flash on
    the way back to ``list_endpoint``; when it raises ``refused`` nothing went and the
    page shows why (409). ``blocker`` is a reason known beforehand: the page offers
    no delete button then. A post without a valid CSRF token is a 400.
    """
    form = form or ConfirmForm()
    refusal, status = blocker, 200
    if form.validate_on_submit():
        try:
            message = delete(form)
        except refused as error:
            refusal, status = str(error), 409
        else:
            flash(message, "success")
            return redirect(url_for(list_endpoint))
    elif form.errors:
        status = 400
    return render_template("admin/delete.html", name=name, form=form, refusal=refusal,
                           can_delete=blocker is None, consequence=consequence,
                           back_url=back_url), status
