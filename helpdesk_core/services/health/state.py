"""What a batch of results reads and writes, as plain rows and few statements.

Recording runs for every result of every check, so it keeps no ORM objects of its own:
:class:`Devices` reads the batch's checks, the other checks of their devices and the
devices they sit behind as plain rows (a few queries per batch), and :class:`Writes`
holds the batch's new check state, records and outages until :meth:`Writes.flush`
writes them with one executemany statement each. ORM objects stay for the rare
ticket work (:mod:`.recording` flushes the writes first, so the ORM sees the database
as the results so far left it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, NamedTuple, Sequence

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ...contracts import CheckStatus
from ...models import Asset, AssetCheck, CheckOutage, CheckRecord, Ticket
from . import rules

# How far up a chain of "depends on" the rules look (a loop in the data ends there too).
UPSTREAM_DEPTH = 4


@dataclass(slots=True)
class CheckRow:
    """One check as the rules see it; the recorder updates it result by result, so later
    results of the batch (this check's, its device's other checks') see the new state.
    Field names are :class:`~helpdesk_core.models.AssetCheck`'s."""

    id: int
    asset_id: int
    check_type: str
    enabled: bool
    failure_threshold: int | None
    recovery_threshold: int | None
    last_status: str | None
    consecutive_failures: int | None
    consecutive_successes: int | None
    state_history: str | None
    flapping: bool | None
    confirmed_down: bool | None
    last_message: str | None
    last_latency_ms: float | None
    last_checked_at: dt.datetime | None

    def state(self) -> rules.CheckState:
        return rules.CheckState(self.last_status, self.consecutive_failures or 0,
                                self.consecutive_successes or 0, self.state_history or "",
                                bool(self.flapping), bool(self.confirmed_down))

    def advance(self, after: rules.CheckState, message: str, latency: float | None,
                now: dt.datetime) -> None:
        """Take the state after one result."""
        self.last_status, self.last_message = after.last_status, message
        self.last_latency_ms, self.last_checked_at = latency, now
        self.consecutive_failures, self.consecutive_successes = after.failures, after.successes
        self.state_history, self.flapping = after.history, after.flapping
        self.confirmed_down = after.down


# What a result changes: written back per check, once per flush.
_STATE_FIELDS = ("last_status", "last_message", "last_latency_ms", "last_checked_at",
                 "consecutive_failures", "consecutive_successes", "state_history",
                 "flapping", "confirmed_down")


class AssetRow(NamedTuple):
    """What the rules need of a device."""

    id: int
    depends_on_id: int | None
    active: bool
    criticality: str
    service_key: str


# The statements, built once: table columns (no ORM entities to compile per batch) and
# expanding parameters, so each execution reuses the statement's cache key.
_CHECK_TABLE, _ASSET_TABLE = AssetCheck.__table__, Asset.__table__
_CHECK_COLUMNS = [_CHECK_TABLE.c[f.name] for f in fields(CheckRow)]
_ASSET_COLUMNS = [_ASSET_TABLE.c[name] for name in AssetRow._fields]
_READ_BATCH = (select(*_CHECK_COLUMNS, *_ASSET_COLUMNS)
               .join(_ASSET_TABLE, _ASSET_TABLE.c.id == _CHECK_TABLE.c.asset_id)
               .where(_CHECK_TABLE.c.id.in_(bindparam("ids", expanding=True)))
               .order_by(_CHECK_TABLE.c.id).with_for_update(of=_CHECK_TABLE))
_READ_UPSTREAM = select(*_ASSET_COLUMNS).where(
    _ASSET_TABLE.c.id.in_(bindparam("ids", expanding=True)))
_READ_SIBLINGS = select(*_CHECK_COLUMNS).where(
    _CHECK_TABLE.c.asset_id.in_(bindparam("ids", expanding=True)))
# The SET clause is the parameters' keys: every state column.
_WRITE_STATE = update(_CHECK_TABLE).where(_CHECK_TABLE.c.id == bindparam("_id"))
_WRITE_RECORDS = insert(CheckRecord.__table__)
_WRITE_OUTAGES = insert(CheckOutage.__table__)


class Devices:
    """The devices of one batch: their checks, the devices they sit behind, and (filled
    by the caller) the open tickets of all of them.

    :param check_ids: the batch's checks; their rows are locked (``FOR UPDATE`` on
        PostgreSQL, in id order so two batches cannot deadlock). :attr:`batch` holds
        those that exist.
    """

    def __init__(self, session: Session, check_ids: Sequence[int]) -> None:
        self.batch: dict[int, CheckRow] = {}
        self.assets: dict[int, AssetRow] = {}
        width = len(_CHECK_COLUMNS)
        if session.autoflush:  # as an ORM query would: the caller's changes first
            session.flush()
        connection = session.connection()
        for row in connection.execute(_READ_BATCH, {"ids": list(check_ids)}):
            self.batch[row[0]] = CheckRow(*row[:width])
            self.assets.setdefault(row[width], AssetRow(*row[width:]))
        self._read_upstream(connection)
        self.checks: dict[int, list[CheckRow]] = {asset_id: [] for asset_id in self.assets}
        for row in connection.execute(_READ_SIBLINGS, {"ids": list(self.assets)}):
            check = self.batch.get(row[0]) or CheckRow(*row)
            self.checks[check.asset_id].append(check)
        self.tickets: dict[int, Ticket] = {}

    def _read_upstream(self, connection: Connection) -> None:
        """The chains of devices the batch's devices depend on, a level per query."""
        wanted = {a.depends_on_id for a in self.assets.values()} - {None} - set(self.assets)
        for _ in range(UPSTREAM_DEPTH):
            if not wanted:
                break
            found = [AssetRow(*row) for row in connection.execute(
                _READ_UPSTREAM, {"ids": list(wanted)})]
            self.assets.update((asset.id, asset) for asset in found)
            wanted = {asset.depends_on_id for asset in found} - {None} - set(self.assets)

    def upstream(self, asset: AssetRow) -> tuple[bool, Ticket | None]:
        """Whether a device *asset* depends on is failing, and the nearest such one's
        open ticket."""
        down, ticket, seen = False, None, {asset.id}
        current = self.assets.get(asset.depends_on_id) if asset.depends_on_id else None
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.active and any(c.enabled and rules.is_bad(c.last_status)
                                      for c in self.checks.get(current.id, [])):
                down = True
                if ticket is None:
                    ticket = self.tickets.get(current.id)
            current = (self.assets.get(current.depends_on_id)
                       if current.depends_on_id else None)
        return down, ticket

    def others_well(self, check: CheckRow) -> bool:
        return all(other.last_status in (None, CheckStatus.OK.value)
                   and not other.flapping
                   for other in self.checks.get(check.asset_id, [])
                   if other.id != check.id and other.enabled)


class Writes:
    """The batch's plain writes, held until :meth:`flush`: one UPDATE of the changed
    checks by primary key, one INSERT of the records, one of the new outages."""

    def __init__(self) -> None:
        self._checks: dict[int, CheckRow] = {}
        self._records: list[dict[str, Any]] = []
        self._outages: list[dict[str, Any]] = []

    def record(self, check: CheckRow, values: dict[str, Any]) -> None:
        """Keep one result of *check* (whose row already holds its new state)."""
        self._checks[check.id] = check
        self._records.append({"check_id": check.id, "status": check.last_status,
                              "message": check.last_message, "values": values,
                              "latency_ms": check.last_latency_ms,
                              "checked_at": check.last_checked_at})

    def new_outage(self, check: CheckRow, now: dt.datetime, message: str) -> dict[str, Any]:
        """A new outage of *check*; the caller may still change the returned values."""
        outage = {"check_id": check.id, "asset_id": check.asset_id, "started_at": now,
                  "ended_at": None, "message": message, "confirmed": False,
                  "ticket_id": None}
        self._outages.append(outage)
        return outage

    def flush(self, session: Session) -> None:
        """Write what is held, and give the ORM objects of these checks that the session
        holds (a test's, the ticket work's) their new state."""
        if not (self._checks or self._records or self._outages):
            return
        connection = session.connection()
        if self._checks:
            # In id order, as the ORM's unit of work wrote them.
            rows = sorted(self._checks.values(), key=lambda row: row.id)
            connection.execute(_WRITE_STATE, [dict(zip(_STATE_FIELDS, _state_of(row)),
                                                   _id=row.id) for row in rows])
            _sync(session, rows)
        if self._records:
            connection.execute(_WRITE_RECORDS, self._records)
        if self._outages:
            connection.execute(_WRITE_OUTAGES, self._outages)
        self._checks, self._records, self._outages = {}, [], []


def _state_of(row: CheckRow) -> tuple:
    return tuple(getattr(row, name) for name in _STATE_FIELDS)


def _sync(session: Session, rows: Sequence[CheckRow]) -> None:
    identity = session.identity_map
    if not len(identity):
        return
    for row in rows:
        check = identity.get((AssetCheck, (row.id,), None))
        if check is not None:
            for name, value in zip(_STATE_FIELDS, _state_of(row)):
                set_committed_value(check, name, value)


__all__ = ["AssetRow", "CheckRow", "Devices", "Writes", "UPSTREAM_DEPTH"]
