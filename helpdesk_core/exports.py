"""Spreadsheet exports: every cell made inert, then written as CSV.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula to Excel and LibreOffice (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``), and a
ticket's title is typed by anyone at a front desk. OWASP's rule: prefix such a cell with a
single quote, so it is shown as text. Every export goes through :func:`inert_cell` (a
later XLSX export too), and the CSV ones through :func:`csv_chunks`.
"""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any, Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so Excel reads the file as UTF-8 (Vietnamese names)
CHUNK_ROWS = 500
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_CONTENT_TYPE = "application/pdf"


def inert_cell(value: Any) -> Any:
    """*value*, with a leading quote when a spreadsheet would run it as a formula.

    Only text is touched: numbers stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def inert_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of *row* through :func:`inert_cell`."""
    return [inert_cell(value) for value in row]


def csv_chunks(header: Iterable[Any], rows: Iterable[Iterable[Any]],
               chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """The CSV text of *header* and *rows* (every cell inert), in chunks for streaming.

    The first chunk starts with a byte-order mark.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(inert_row(header))
    yield BOM + _drain(buffer)
    for count, row in enumerate(rows, 1):
        writer.writerow(inert_row(row))
        if count % chunk_rows == 0:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def started(rows: Iterable[Any]) -> Iterator[Any]:
    """*rows* with its first item already fetched.

    Call it before a response starts streaming: the first query runs (and fails, if it
    must) while an error page can still be sent, not after a 200 has gone out.
    """
    iterator = iter(rows)
    try:
        first = next(iterator)
    except StopIteration:
        return iter(())
    return itertools.chain([first], iterator)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
