"""Reading an import file: XLSX (one sheet per kind) or CSV (one kind), as plain rows.

Refuses what cannot be read safely or faithfully, before anything is stored: a file
too large, too many rows, a sheet of no known kind, merged cells, formulas, text that
is not UTF-8, control characters. CSV may start with a byte-order mark and be separated
by commas or semicolons (what Excel writes on a Vietnamese Windows).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterator

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_UNPACKED = 200 * 1024 * 1024  # an XLSX is a zip: refuse a zip bomb before opening
MAX_COLUMNS = 60

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FileRefused(Exception):
    """The whole file cannot be imported: *message* is an English msgid, *params* its values."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


@dataclass
class Sheet:
    """The rows of one sheet (or CSV file): ``rows`` are (row number, cells)."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def read(data: bytes, filename: str) -> list[Sheet]:
    """The sheets of an uploaded file, by its name's extension (.xlsx or .csv)."""
    if len(data) > MAX_BYTES:
        raise FileRefused("The file is larger than %(max)d MB.", max=MAX_BYTES // 1024 // 1024)
    lower = (filename or "").lower()
    if lower.endswith(".xlsx"):
        return read_xlsx(data)
    if lower.endswith(".csv"):
        return [read_csv(data, lower.rsplit("/", 1)[-1][:-4])]
    raise FileRefused("Give an .xlsx or .csv file.")


def read_csv(data: bytes, name: str = "") -> Sheet:
    """One sheet from UTF-8 CSV text, with or without BOM, comma or semicolon separated."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("The file is not UTF-8 text. In Excel, save it as "
                          "\"CSV UTF-8 (Comma delimited)\".") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = list(_limited(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
    except csv.Error:
        raise FileRefused("The file is not valid CSV.") from None
    return _sheet(name, rows)


def _limited(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    for count, row in enumerate(rows, 1):
        if count > MAX_ROWS + 2:
            raise FileRefused("The file has more than %(max)d rows.", max=MAX_ROWS)
        yield row


def read_xlsx(data: bytes) -> list[Sheet]:
    """Every sheet of a workbook, refusing merged cells and formulas."""
    import openpyxl  # only imports need it
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
            raise FileRefused("The file is larger than %(max)d MB.",
                              max=MAX_BYTES // 1024 // 1024)
        merged = [info.filename for info in archive.infolist()
                  if info.filename.startswith("xl/worksheets/")
                  and b"<mergeCell " in archive.read(info.filename)]
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except FileRefused:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise FileRefused("The file is not an Excel workbook (.xlsx).") from None
    try:
        if merged:
            raise FileRefused("The workbook has merged cells. Unmerge them: every value "
                              "must be in its own cell.")
        return [_read_sheet(ws) for ws in book.worksheets]
    finally:
        book.close()


def _read_sheet(ws: Any) -> Sheet:
    rows: list[list[Any]] = []
    for number, row in enumerate(ws.iter_rows(), 1):
        if number > MAX_ROWS + 2:
            raise FileRefused("The file has more than %(max)d rows.", max=MAX_ROWS)
        cells = []
        for cell in row[:MAX_COLUMNS]:
            if getattr(cell, "data_type", None) == "f":
                raise FileRefused("Sheet %(sheet)s, cell %(cell)s holds a formula. Copy "
                                  "and paste values only.", sheet=ws.title,
                                  cell=cell.coordinate)
            cells.append(cell.value)
        rows.append(cells)
    return _sheet(ws.title, rows)


def _sheet(name: str, rows: list[list[Any]]) -> Sheet:
    """The header (first non-empty row) and the numbered rows after it."""
    numbered = [(n, row) for n, row in enumerate(rows, 1) if any(_present(v) for v in row)]
    if not numbered:
        return Sheet(name=name, header=[])
    if len(numbered) > MAX_ROWS + 2:
        raise FileRefused("The file has more than %(max)d rows.", max=MAX_ROWS)
    (_, header), body = numbered[0], numbered[1:]
    return Sheet(name=name, header=[clean(h) for h in header[:MAX_COLUMNS]],
                 rows=[(n, list(row[:MAX_COLUMNS])) for n, row in body])


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def clean(value: Any) -> str:
    """A header or cell as text: stripped, no trailing ``.0`` on whole numbers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def has_control(value: str) -> bool:
    return bool(CONTROL.search(value))
