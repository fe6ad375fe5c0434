"""Exports and templates, as CSV (UTF-8 with BOM) or XLSX; every cell made inert.

An export writes each value as the text the importer reads back into the same value,
so exporting and importing the file again changes nothing. A template has the headers,
a description row (with an example in each description) and no data; the importer
skips the description row if it is left in.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from sqlalchemy.orm import Session

from ...exports import BOM, inert_cell
from ...plugins import PluginRegistry
from .kinds import Kind
from .registry import BY_KEY, KINDS

FORMATS = ("xlsx", "csv")


def rows(kind: Kind, session: Session, registry: PluginRegistry) -> Iterable[list[str]]:
    """The export's rows of *kind* as text cells, in the columns' order."""
    for values in kind.export(session, registry):
        yield [column.show(values[column.key]) for column in kind.columns]


def export(session: Session, registry: PluginRegistry, kind_key: str, fmt: str) -> bytes:
    """Every object of one kind (or ``all``: a workbook of every kind) as a file."""
    kinds = KINDS if kind_key == "all" else (BY_KEY[kind_key],)
    sheets = [(kind, list(rows(kind, session, registry))) for kind in kinds]
    return _write(sheets, fmt)


def template(kind_key: str, fmt: str) -> bytes:
    """An empty file of one kind (or ``all``) with its headers and description row."""
    kinds = KINDS if kind_key == "all" else (BY_KEY[kind_key],)
    return _write([(kind, [[c.help for c in kind.columns]]) for kind in kinds], fmt)


def _write(sheets: list[tuple[Kind, list[list[str]]]], fmt: str) -> bytes:
    if fmt == "csv":
        if len(sheets) != 1:
            raise ValueError("CSV holds one kind")
        kind, body = sheets[0]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in [[c.header for c in kind.columns], *body]:
            writer.writerow([inert_cell(v) for v in row])
        return (BOM + buffer.getvalue()).encode("utf-8")
    import openpyxl
    book = openpyxl.Workbook(write_only=True)
    for kind, body in sheets:
        sheet = book.create_sheet(kind.sheet)
        sheet.append([inert_cell(c.header) for c in kind.columns])
        for row in body:
            sheet.append([_xlsx_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value: Any) -> Any:
    """Text stays text in the workbook (a serial 0123 keeps its zero)."""
    return inert_cell(value)
