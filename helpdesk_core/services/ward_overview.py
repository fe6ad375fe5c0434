"""The coordinators' view of all wards: one sortable table, and a heat map of wards x weeks.

Every active ward has a row in both, also a ward with no ticket at all. The figures come
from a fixed handful of grouped queries (:mod:`.reports` for the live load and SLA
compliance), whatever the number of tickets.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import Ticket, Ward
from ..text import fold
from . import reports, roster
from .monthly import active_wards

HEAT_LEVELS = 5  # colour classes heat-1 .. heat-5 (heat-0: no ticket)


def students_on_duty(session: Session, now: dt.datetime,
                     ward_ids: frozenset[int] | None = None) -> dict[int, int]:
    """Students on duty at *now* on their ward's roster, per ward id (wards without
    any are absent); none outside a ward's working hours. A fixed number of queries."""
    if ward_ids is None:
        ward_ids = frozenset(session.scalars(select(Ward.id).where(Ward.active.is_(True))))
    on_duty = roster.on_duty_by_ward(session, ward_ids, now)
    return {ward_id: len(students) for ward_id, students in on_duty.items() if students}


@dataclass(frozen=True)
class WardRow:
    """One ward in the coordinators' table."""

    ward_id: int
    code: str
    name: str
    open: int
    at_risk: int
    breached: int
    resolved: int
    met: int
    on_duty: int

    @property
    def on_time(self) -> float | None:
        """Share (%) of the period's resolved tickets that met their target."""
        return round(100.0 * self.met / self.resolved, 1) if self.resolved else None


# Column -> sort key. Missing shares sort as if below 0 %, so they gather at one end.
SORT_KEYS = {
    "name": lambda r: (fold(r.name), r.code),
    "open": lambda r: (r.open, fold(r.name)),
    "at_risk": lambda r: (r.at_risk, fold(r.name)),
    "breached": lambda r: (r.breached, fold(r.name)),
    "on_time": lambda r: (-1.0 if r.on_time is None else r.on_time, fold(r.name)),
    "on_duty": lambda r: (r.on_duty, fold(r.name)),
}


def ward_table(session: Session, now: dt.datetime, today: dt.date, period: reports.Period,
               sort: str = "name", descending: bool = False) -> list[WardRow]:
    """Every active ward: open, at risk, breached now; on-time share in *period*; students
    on duty *now*. Sorted by *sort* (a key of :data:`SORT_KEYS`; unknown: by name)."""
    load = reports.ward_load(session, now)
    compliance, _overall = reports.sla_compliance(session, period)
    sla = {row.ward_id: row for row in compliance}
    duty = students_on_duty(session, now, frozenset(w.ward_id for w in load))
    rows = [WardRow(w.ward_id, w.code, w.name, w.open, w.at_risk, w.breached,
                    sla[w.ward_id].resolved if w.ward_id in sla else 0,
                    sla[w.ward_id].met if w.ward_id in sla else 0,
                    duty.get(w.ward_id, 0)) for w in load]
    key = SORT_KEYS.get(sort, SORT_KEYS["name"])
    return sorted(rows, key=key, reverse=descending)


# --- heat map ------------------------------------------------------------------------

@dataclass
class HeatRow:
    ward_id: int
    code: str
    name: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class Heatmap:
    """Tickets filed per ward and ISO week (weeks start on Monday)."""

    weeks: list[dt.date]  # the Monday of each ISO week
    rows: list[HeatRow] = field(default_factory=list)

    @property
    def maximum(self) -> int:
        return max((max(r.counts) for r in self.rows if r.counts), default=0)

    def level(self, count: int) -> int:
        """0 for no ticket, else 1..:data:`HEAT_LEVELS` in proportion to the busiest cell."""
        top = self.maximum
        if count <= 0 or top <= 0:
            return 0
        return max(1, min(HEAT_LEVELS, math.ceil(HEAT_LEVELS * count / top)))

    @staticmethod
    def label(week: dt.date) -> str:
        """``W10``-style ISO week number (the year is in the period)."""
        return f"{week.isocalendar()[1]:02d}"


def iso_weeks(period: reports.Period) -> list[dt.date]:
    """Mondays of the ISO weeks that overlap *period*."""
    first = period.start - dt.timedelta(days=period.start.weekday())
    return [first + dt.timedelta(days=7 * i)
            for i in range((period.end - first).days // 7 + 1)]


def ward_week_heatmap(session: Session, period: reports.Period) -> Heatmap:
    """Tickets filed in *period* per active ward and ISO week, in one grouped query.

    Weeks are cut at local Monday midnight (``CASE`` over the boundaries, as in
    :func:`.reports.weekly_volumes`); every active ward has a row.
    """
    weeks = iso_weeks(period)
    bounds = [dt.datetime.combine(w + dt.timedelta(days=7), dt.time(), period.tz)
              .astimezone(dt.timezone.utc) for w in weeks]
    week_of = case(*[(Ticket.created_at < bound, index) for index, bound in enumerate(bounds)],
                   else_=len(weeks) - 1)
    counts: dict[int, list[int]] = {}
    for ward_id, week, count in session.execute(
            select(Ticket.ward_id, week_of, func.count())
            .where(Ticket.created_at >= period.start_utc, Ticket.created_at < period.end_utc)
            .group_by(Ticket.ward_id, week_of)):
        counts.setdefault(int(ward_id), [0] * len(weeks))[int(week)] += int(count)
    heat = Heatmap(weeks)
    for ward_id, code, name in active_wards(session):
        heat.rows.append(HeatRow(ward_id, code, name, counts.get(ward_id, [0] * len(weeks))))
    return heat
