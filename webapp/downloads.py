"""File downloads the pages share: streamed CSV with the house rules, local times."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from flask import Response, current_app, stream_with_context

from helpdesk_core import exports
from helpdesk_core.services import reports

DATE_FORMAT = "%d/%m/%Y"
CSV_DATETIME = "%d/%m/%Y %H:%M"


def local_datetime(value: dt.datetime | None) -> str:
    """*value* as dd/mm/yyyy hh:mm in the site's time zone ("" for none)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(CSV_DATETIME)


def csv_response(filename: str, header: list[str], rows: Iterator[list[Any]]) -> Response:
    """A streamed CSV download (UTF-8 with BOM, formula-safe cells: helpdesk_core.exports)."""
    # The header is written before streaming, while the request's locale is known; the
    # first rows are fetched before it too, so a failing query is an error page, not a
    # 200 whose download breaks off.
    body = stream_with_context(exports.csv_chunks([str(h) for h in header],
                                                  exports.started(rows),
                                                  reports.EXPORT_BATCH))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
