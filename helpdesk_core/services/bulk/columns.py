"""Columns of the import files: their Vietnamese headers and how a cell is read and written.

A cell is read into a Python value (``parse``) and written back as text (``show``) that
reads into the same value, so an export re-imports unchanged. Headers and descriptions
are the file format (always Vietnamese, as the city's files are); error messages go
through gettext.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ... import i18n
from ...exports import FORMULA_STARTS
from ...text import fold, nfc
from .reader import clean, has_control

YES = ("có", "co", "x", "yes", "true", "1", "y")
NO = ("không", "khong", "no", "false", "0", "n", "")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")


class CellError(ValueError):
    """A cell that cannot be read; the message is already in the user's language."""


def text_cell(value: Any) -> str:
    """A cell as text: NFC, stripped, without the quote an export put before ``=+-@``."""
    text = nfc(clean(value))
    if has_control(text):
        raise CellError(i18n.gettext("The cell holds control characters."))
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
        text = text[1:]
    return text


@dataclass(frozen=True)
class Column:
    """One column: its key (the service's field name), header, description and example."""

    key: str
    header: str
    help: str
    example: str = ""
    parse: Callable[[str], Any] = staticmethod(lambda text: text)  # type: ignore[assignment]
    show: Callable[[Any], str] = staticmethod(  # type: ignore[assignment]
        lambda value: "" if value is None else str(value))
    required: bool = False
    aliases: tuple[str, ...] = field(default=())

    def read(self, raw: Any) -> Any:
        text = text_cell(raw)
        if self.required and not text:
            raise CellError(i18n.gettext("This column must not be empty."))
        if len(text) > 2000:
            raise CellError(i18n.gettext("At most %(max)d characters.", max=2000))
        return self.parse(text)

    def matches(self, header: str) -> bool:
        wanted = {_fold_header(self.header), _fold_header(self.key)} | {
            _fold_header(a) for a in self.aliases}
        return _fold_header(header) in wanted


def _fold_header(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", fold(text or ""))


def text(key: str, header: str, help: str, example: str = "", max_len: int = 255,
         required: bool = False) -> Column:
    def parse(value: str) -> str:
        if len(value) > max_len:
            raise CellError(i18n.gettext("At most %(max)d characters.", max=max_len))
        return value
    return Column(key, header, help, example, parse=parse, required=required)


def boolean(key: str, header: str, help: str, default: bool) -> Column:
    def parse(value: str) -> bool:
        folded = fold(value)
        if not value:
            return default
        if folded in YES:
            return True
        if folded in NO:
            return False
        raise CellError(i18n.gettext("Write \"có\" or \"không\"."))
    return Column(key, header, help, "có" if default else "không", parse=parse,
                  show=lambda v: "có" if v else "không")


def date(key: str, header: str, help: str, example: str, required: bool = True) -> Column:
    def parse(value: str) -> dt.date | None:
        if not value:
            return None
        value = value.split(" ")[0]  # a date cell of Excel arrives as a datetime
        for pattern in DATE_FORMATS:
            try:
                return dt.datetime.strptime(value, pattern).date()
            except ValueError:
                continue
        raise CellError(i18n.gettext("Write the date as dd/mm/yyyy, e.g. 30/04/2026."))
    return Column(key, header, help, example, parse=parse, required=required,
                  show=lambda v: v.strftime("%d/%m/%Y") if v else "")


def number(key: str, header: str, help: str, example: str, kind: type = int,
           default: Any = None) -> Column:
    def parse(value: str) -> Any:
        if not value:
            return default
        try:
            result = float(value.replace(",", "."))
        except ValueError:
            raise CellError(i18n.gettext("Write a number.")) from None
        if not abs(result) < 1e9 or (kind is int and not result.is_integer()):
            raise CellError(i18n.gettext("Write a whole number.") if kind is int
                            else i18n.gettext("Write a number."))
        return kind(result)
    return Column(key, header, help, example, parse=parse,
                  show=lambda v: "" if v is None else (f"{v:g}" if kind is float else str(v)))


def choice(key: str, header: str, help: str, labels: dict[str, str], default: str | None,
           example: str = "") -> Column:
    """A value from *labels* (stored value -> Vietnamese label); both are accepted."""
    by_text = {fold(label): value for value, label in labels.items()}
    by_text.update({fold(value): value for value in labels})

    def parse(value: str) -> str | None:
        if not value:
            if default is None:
                raise CellError(i18n.gettext("This column must not be empty."))
            return default
        if fold(value) not in by_text:
            raise CellError(i18n.gettext("Write one of: %(values)s.",
                                         values=", ".join(labels.values())))
        return by_text[fold(value)]
    return Column(key, header, help, example or next(iter(labels.values())), parse=parse,
                  show=lambda v: labels.get(v, v or ""))
