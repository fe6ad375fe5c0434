"""Importing a file: every row checked and applied through the services, all or nothing.

A dry run does exactly what the import does, inside a transaction it then rolls back,
so rows may refer to wards, accounts or devices created earlier in the same file. The
import commits only when no row has an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.orm import Session

from ... import i18n
from ...errors import HelpdeskError, ValidationFailed
from ...models import User
from ...plugins import PluginRegistry
from .. import password_links
from .columns import CellError, Column
from .kinds import Context, Kind
from .reader import FileRefused, Sheet, read
from .registry import KINDS, kind_for

CREATED, CHANGED, UNCHANGED, FAILED = "created", "changed", "unchanged", "error"


@dataclass
class RowError:
    sheet: str
    row: int
    column: str  # the column's header ("" for the whole file or row)
    message: str


@dataclass
class RowResult:
    sheet: str
    row: int
    key: str
    action: str


@dataclass
class Outcome:
    """What an import did (or, in a dry run, would do)."""

    applied: bool = False
    rows: list[RowResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    links: list[tuple[User, str]] = field(default_factory=list)  # (account, token)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def import_file(session: Session, registry: PluginRegistry, data: bytes, filename: str,
                now: dt.datetime, *, apply: bool,
                progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Check (and with *apply*, store) every row of *data*; commit only without errors.

    :param progress: called with (rows done, rows in the file) every hundred rows.
    """
    outcome = Outcome()
    try:
        sheets = [(kind_for(sheet), sheet) for sheet in read(data, filename)]
    except FileRefused as refused:
        outcome.errors.append(RowError("", 0, "", i18n.gettext(refused.message,
                                                               **refused.params)))
        return outcome
    outcome.errors += [RowError(sheet.name, 1, "", i18n.gettext(
        "No kind of data has these columns: %(headers)s.", headers=", ".join(sheet.header)))
        for kind, sheet in sheets if kind is None and sheet.header]
    if not any(sheet.header for _, sheet in sheets):
        outcome.errors.append(RowError("", 0, "", i18n.gettext("The file is empty.")))
    if outcome.errors:
        return outcome
    order = {kind.key: n for n, kind in enumerate(KINDS)}
    ctx = Context(session, registry, now)
    try:
        ctx.load()
        total = sum(len(sheet.rows) for _, sheet in sheets)
        tick = (lambda n: progress(n, total)) if progress else None
        done = 0
        for kind, sheet in sorted(((k, s) for k, s in sheets if k), key=lambda p: order[p[0].key]):
            _import_sheet(ctx, kind, sheet, outcome, tick, done)
            done += len(sheet.rows)
            session.flush()  # rows saved without a flush of their own: stored (or refused) here
        if apply and not outcome.errors:
            outcome.links = [(user, password_links.issue(session, user, now))
                             for user in ctx.new_accounts]
            session.commit()
            outcome.applied = True
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    return outcome


def _import_sheet(ctx: Context, kind: Kind, sheet: Sheet, outcome: Outcome,
                  progress: Callable[[int], None] | None, before: int) -> None:
    columns = _columns(kind, sheet, outcome)
    if columns is None:
        return
    seen: dict[tuple, int] = {}
    for done, (number, cells) in enumerate(sheet.rows, 1):
        if progress and done % 100 == 0:
            progress(before + done)
        if _is_description(kind, cells, columns):
            continue
        values = _values(kind, sheet, number, cells, columns, outcome)
        if values is None:
            outcome.rows.append(RowResult(sheet.name, number, "", FAILED))
            continue
        key = kind.natural_key(values)
        label = " / ".join(str(part) for part in key if part != "serial" and part != "name")
        if key in seen:
            outcome.errors.append(RowError(sheet.name, number, kind.columns[0].header,
                                           i18n.gettext("Row %(row)d already has this %(what)s.",
                                                        row=seen[key], what=_key_words(kind))))
            outcome.rows.append(RowResult(sheet.name, number, label, FAILED))
            continue
        seen[key] = number
        outcome.rows.append(RowResult(sheet.name, number, label,
                                      _apply_row(ctx, kind, sheet, number, values, outcome)))
    if progress:
        progress(before + len(sheet.rows))


def _columns(kind: Kind, sheet: Sheet, outcome: Outcome) -> list[Column | None] | None:
    """The column of each header cell (None: an empty header); errors for unknown ones."""
    found: list[Column | None] = []
    for position, header in enumerate(sheet.header):
        column = next((c for c in kind.columns if c.matches(header)), None)
        if column is None and header:
            outcome.errors.append(RowError(sheet.name, 1, header,
                                           i18n.gettext("Unknown column.")))
        found.append(column)
    missing = [c.header for c in kind.columns if c.required and c not in found]
    if missing:
        outcome.errors.append(RowError(sheet.name, 1, "", i18n.gettext(
            "Missing columns: %(headers)s.", headers=", ".join(missing))))
    return None if outcome.errors else found


def _is_description(kind: Kind, cells: list[Any], columns: list[Column | None]) -> bool:
    """Whether this is the templates' description row (left in by the person filling it)."""
    texts = [(c, str(v).strip()) for c, v in zip(columns, cells) if c and v not in (None, "")]
    return bool(texts) and all(value == column.help for column, value in texts)


def _values(kind: Kind, sheet: Sheet, number: int, cells: list[Any],
            columns: list[Column | None], outcome: Outcome) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    failed = False
    for position, column in enumerate(columns):
        if column is None:
            continue
        raw = cells[position] if position < len(cells) else None
        try:
            values[column.key] = column.read(raw)
        except CellError as error:
            outcome.errors.append(RowError(sheet.name, number, column.header, str(error)))
            failed = True
    for column in kind.columns:
        if column.key not in values and not failed:
            values[column.key] = column.read(None)
    return None if failed else values


def _apply_row(ctx: Context, kind: Kind, sheet: Sheet, number: int, values: dict[str, Any],
               outcome: Outcome) -> str:
    try:
        existing = kind.find(ctx, values)
        if existing is not None and kind.same(ctx, existing, values):
            return UNCHANGED
        kind.save(ctx, existing, values)
        return CREATED if existing is None else CHANGED
    except ValidationFailed as failure:
        by_key = {c.key: c.header for c in kind.columns}
        for field_name, messages in (failure.field_errors or {}).items():
            column = kind.column_of(field_name)
            prefix = "" if column == field_name else f"{field_name}: "
            outcome.errors += [RowError(sheet.name, number, by_key.get(column, ""),
                                        prefix + str(m)) for m in messages]
        if not failure.field_errors:
            outcome.errors.append(RowError(sheet.name, number, "", failure.localized()))
    except (HelpdeskError, CellError) as error:
        message = error.localized() if isinstance(error, HelpdeskError) else str(error)
        outcome.errors.append(RowError(sheet.name, number, "", message))
    return FAILED


def _key_words(kind: Kind) -> str:
    return {"wards": i18n.gettext("ward code"), "calendar": i18n.gettext("ward and day"),
            "accounts": i18n.gettext("login"),
            "placements": i18n.gettext("student, ward and start date"),
            "devices": i18n.gettext("device (serial number or name)"),
            "checks": i18n.gettext("device and check type")}[kind.key]
