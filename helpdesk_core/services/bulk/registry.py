"""The kinds of data that can be imported and exported, in the order they are applied."""

from __future__ import annotations

from .accounts import Accounts, Placements
from .columns import Column
from .devices import Checks, Devices
from .kinds import Kind
from .reader import Sheet
from .wards import Calendar, Wards

KINDS: tuple[Kind, ...] = (Wards(), Calendar(), Accounts(), Placements(), Devices(), Checks())
BY_KEY = {kind.key: kind for kind in KINDS}


def kind_for(sheet: Sheet) -> Kind | None:
    """The kind of a sheet: by its name (a workbook's sheet), else by most known headers."""
    for kind in KINDS:
        if Column("", kind.sheet, "").matches(sheet.name) or kind.key == sheet.name.lower():
            return kind
    best, score = None, 0
    for kind in KINDS:
        known = sum(1 for header in sheet.header if any(c.matches(header) for c in kind.columns))
        if known == len([h for h in sheet.header if h]) and known > score:
            best, score = kind, known
    return best
