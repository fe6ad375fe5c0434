"""The city's monthly report for the People's Committee: its figures, section by section.

A report is a list of :class:`Section` objects (a table, which columns to chart, and
how). The builders in :data:`SECTION_BUILDERS` make them from grouped queries only, so
the number of queries does not grow with the number of tickets; the XLSX and PDF files
(:mod:`helpdesk_core.monthly_files`) are drawn from the sections alone, so a new section
needs a builder and nothing else.

Help given at the counter comes from the students' quick log
(:mod:`.counter_help`).

Storage and scheduling (generate, keep one per month, deliver) are in
:mod:`.monthly_store`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from ..calendar import DEFAULT_TIMEZONE
from ..i18n import gettext
from ..models import (Asset, Source, Status, StudentAssignment, Ticket, TicketEvent,
                      TicketRating, Ward)
from ..text import fold
from . import counter_help, reports, workflow

log = logging.getLogger(__name__)

TOP_ASSETS = 10


# --- the report's shape -------------------------------------------------------------

@dataclass
class Section:
    """One part of the report: a table and the chart drawn from it.

    :param key: a stable identifier (sheet order, tests).
    :param title: the heading, already translated.
    :param columns: the column headings; the first column holds the row labels.
    :param rows: one list per row: a label, then numbers (or text, or None).
    :param chart: ``"bar"`` (horizontal bars: long lists such as 94 wards), ``"column"``,
        ``"pie"``, or ``"none"``.
    :param series: indexes of the columns the chart shows (numbers only).
    :param total: an optional last row (not charted).
    :param note: a sentence under the heading (how the figures are counted).
    :param percent: indexes of columns that are percentages (for number formats).
    """

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: str = "column"
    series: tuple[int, ...] = (1,)
    total: list[Any] | None = None
    note: str = ""
    percent: tuple[int, ...] = ()


@dataclass
class Report:
    """The whole report of one month."""

    month: dt.date
    period: reports.Period
    title: str
    sections: list[Section] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        """The section called *key* (KeyError if there is none)."""
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)


@dataclass(frozen=True)
class Context:
    """What every builder gets besides the session and the period."""

    category_labels: Mapping[str, str]
    wards: list[tuple[int, str, str]]  # (id, code, name) of active wards, in name order


Builder = Callable[[Session, reports.Period, Context], Section]


def month_period(month: dt.date, tz_name: str = DEFAULT_TIMEZONE) -> reports.Period:
    """The local calendar days of the month containing *month*."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return reports.Period(first, following - dt.timedelta(days=1), tz_name)


def previous_month(day: dt.date) -> dt.date:
    """The first day of the month before *day*'s."""
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# --- sections ------------------------------------------------------------------------

def tickets_per_ward(session: Session, period: reports.Period, ctx: Context) -> Section:
    """Tickets filed and resolved in the month, for every ward (none missing)."""
    filed = dict(session.execute(
        select(Ticket.ward_id, func.count())
        .where(Ticket.created_at >= period.start_utc, Ticket.created_at < period.end_utc)
        .group_by(Ticket.ward_id)).all())
    compliance, overall = reports.sla_compliance(session, period)
    resolved = {row.ward_id: row.resolved for row in compliance}
    rows = [[name, int(filed.get(ward_id, 0)), int(resolved.get(ward_id, 0))]
            for ward_id, _code, name in ctx.wards]
    return Section("wards", gettext("Tickets per ward"),
                   [gettext("Ward"), gettext("Filed"), gettext("Resolved")], rows,
                   chart="bar", series=(1, 2),
                   total=[gettext("All wards"), sum(int(v) for v in filed.values()),
                          overall.resolved],
                   note=gettext("Filed: tickets opened in the month. Resolved: tickets "
                                "resolved in the month, whenever they were filed."))


def tickets_per_category(session: Session, period: reports.Period, ctx: Context) -> Section:
    """Tickets filed in the month per category, with their share."""
    counts = session.execute(
        select(Ticket.category, func.count())
        .where(Ticket.created_at >= period.start_utc, Ticket.created_at < period.end_utc)
        .group_by(Ticket.category)).all()
    total = sum(int(c) for _k, c in counts)
    rows = sorted(([ctx.category_labels.get(k, k), int(c), _percent(int(c), total)]
                   for k, c in counts), key=lambda r: (-r[1], fold(r[0])))
    return Section("categories", gettext("Tickets per category"),
                   [gettext("Category"), gettext("Filed"), gettext("Share (%)")], rows,
                   chart="pie", series=(1,), percent=(2,),
                   total=[gettext("Total"), total, 100.0 if total else None])


def sla_section(session: Session, period: reports.Period, ctx: Context) -> Section:
    """SLA compliance per ward, from :func:`.reports.sla_compliance` (every ward listed)."""
    compliance, overall = reports.sla_compliance(session, period)
    rows = [[r.name, r.resolved, r.met, r.percent] for r in compliance]
    return Section("sla", gettext("SLA compliance"),
                   [gettext("Ward"), gettext("Resolved"), gettext("Within target"),
                    gettext("Compliance (%)")], rows,
                   chart="bar", series=(3,), percent=(3,),
                   total=[overall.name, overall.resolved, overall.met, overall.percent],
                   note=gettext("Share of tickets resolved within their resolution target, "
                                "among those resolved in the period."))


def escalations_section(session: Session, period: reports.Period, ctx: Context) -> Section:
    """Escalations to the city hotline 1022 made in the month, per category."""
    counts = session.execute(
        select(Ticket.category, func.count(), func.count(distinct(Ticket.ward_id)))
        .select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "escalated",
               TicketEvent.new_value == str(workflow.LEVEL_CITY),
               TicketEvent.created_at >= period.start_utc,
               TicketEvent.created_at < period.end_utc)
        .group_by(Ticket.category)).all()
    rows = sorted(([ctx.category_labels.get(k, k), int(n), int(w)] for k, n, w in counts),
                  key=lambda r: (-r[1], fold(r[0])))
    return Section("escalations", gettext("Escalations to the city hotline 1022"),
                   [gettext("Category"), gettext("Escalations"), gettext("Wards")], rows,
                   chart="column", series=(1,),
                   total=[gettext("Total"), sum(r[1] for r in rows), None])


def failing_assets(session: Session, period: reports.Period, ctx: Context) -> Section:
    """The devices and services with the most tickets filed in the month."""
    tickets = func.count(Ticket.id)
    automatic = func.coalesce(func.sum(case((Ticket.source == Source.HEALTH_CHECK, 1),
                                            else_=0)), 0)
    rows = session.execute(
        select(Asset.name, Asset.kind, Ward.name, tickets, automatic)
        .select_from(Ticket).join(Asset, Asset.id == Ticket.asset_id)
        .outerjoin(Ward, Ward.id == Asset.ward_id)
        .where(Ticket.created_at >= period.start_utc, Ticket.created_at < period.end_utc)
        .group_by(Asset.id, Asset.name, Asset.kind, Ward.name)
        .order_by(tickets.desc(), Asset.id).limit(TOP_ASSETS)).all()
    city = gettext("City-wide")
    table = [[f"{name} ({ward or city})", int(n), int(auto), kind]
             for name, kind, ward, n, auto in rows]
    return Section("assets", gettext("Devices and services that failed most"),
                   [gettext("Device or service"), gettext("Tickets"),
                    gettext("Found by health checks"), gettext("Kind")], table,
                   chart="bar", series=(1,),
                   note=gettext("The %(num)d devices and services with the most tickets "
                                "filed in the month.", num=TOP_ASSETS))


def students_section(session: Session, period: reports.Period, ctx: Context) -> Section:
    """Students placed in the month per university: how many, active, resolved, rating."""
    placed = (select(StudentAssignment.student_id, StudentAssignment.university)
              .where(StudentAssignment.starts_on <= period.end,
                     StudentAssignment.ends_on >= period.start)
              .distinct().subquery())
    counts = dict(session.execute(
        select(placed.c.university, func.count(distinct(placed.c.student_id)))
        .group_by(placed.c.university)).all())
    work = {u: (int(n), int(a)) for u, n, a in session.execute(
        select(placed.c.university, func.count(TicketEvent.id),
               func.count(distinct(TicketEvent.actor_id)))
        .select_from(TicketEvent).join(placed, placed.c.student_id == TicketEvent.actor_id)
        .where(TicketEvent.kind == "status", TicketEvent.new_value == Status.RESOLVED,
               TicketEvent.created_at >= period.start_utc,
               TicketEvent.created_at < period.end_utc)
        .group_by(placed.c.university))}
    rated = {u: (float(avg), int(n)) for u, avg, n in session.execute(
        select(placed.c.university, func.avg(TicketRating.rating), func.count(TicketRating.id))
        .select_from(TicketRating).join(placed, placed.c.student_id == TicketRating.student_id)
        .where(TicketRating.created_at >= period.start_utc,
               TicketRating.created_at < period.end_utc)
        .group_by(placed.c.university))}
    rows = []
    for university in sorted(counts, key=fold):
        resolved, active = work.get(university, (0, 0))
        average, n_rated = rated.get(university, (None, 0))
        rows.append([university, int(counts[university]), active, resolved,
                     round(average, 1) if average is not None else None, n_rated])
    return Section("students", gettext("Students' participation"),
                   [gettext("University"), gettext("Students placed"),
                    gettext("Students who resolved tickets"), gettext("Tickets resolved"),
                    gettext("Average rating (1-5)"), gettext("Ratings")], rows,
                   chart="column", series=(1, 3),
                   total=[gettext("Total"), sum(r[1] for r in rows), sum(r[2] for r in rows),
                          sum(r[3] for r in rows), None, sum(r[5] for r in rows)])


# --- help at the counter (logged by students: services/counter_help.py) -----------------

def counter_help_section(session: Session, period: reports.Period, ctx: Context) -> Section:
    """Help students gave at the counter: times and people, per kind of help."""
    columns = [gettext("Help given"), gettext("Times"), gettext("People")]
    labels = {**counter_help.kinds({}), **ctx.category_labels}
    by_kind = counter_help.sum_by(counter_help.counter_help_totals(session, period=period),
                                  "kind")
    rows = [[labels.get(str(kind), str(kind)), entries, people]
            for kind, (entries, people) in sorted(by_kind.items(),
                                                  key=lambda item: -item[1][1])]
    if not rows:
        return Section("counter_help", gettext("Help given at the counter"), columns, [],
                       chart="none", note=gettext("No help at the counter was logged this month."))
    return Section("counter_help", gettext("Help given at the counter"), columns, rows,
                   chart="column", series=(2,),
                   total=[gettext("Total"), sum(r[1] for r in rows), sum(r[2] for r in rows)])


# The report's sections in order; a builder added here appears in both files.
SECTION_BUILDERS: list[Builder] = [tickets_per_ward, tickets_per_category, sla_section,
                                   escalations_section, failing_assets, students_section,
                                   counter_help_section]


def active_wards(session: Session) -> list[tuple[int, str, str]]:
    """(id, code, name) of every active ward, in Vietnamese name order."""
    rows = session.execute(select(Ward.id, Ward.code, Ward.name)
                           .where(Ward.active.is_(True))).all()
    return sorted(((r[0], r[1], r[2]) for r in rows), key=lambda r: (fold(r[2]), r[1]))


def build_report(session: Session, month: dt.date, *,
                 category_labels: Mapping[str, str] | None = None,
                 tz_name: str = DEFAULT_TIMEZONE,
                 builders: Iterable[Builder] | None = None) -> Report:
    """The figures of *month* (any day of it), every section built from grouped queries.

    :param category_labels: category slug -> label (the plugins' names); slugs otherwise.
    """
    period = month_period(month, tz_name)
    ctx = Context(dict(category_labels or {}), active_wards(session))
    report = Report(period.start, period,
                    gettext("Ward helpdesk report, %(month)s", month=period.start.strftime("%m/%Y")))
    for builder in (SECTION_BUILDERS if builders is None else builders):
        report.sections.append(builder(session, period, ctx))
    wards = report.section("wards") if any(s.key == "wards" for s in report.sections) else None
    sla = report.section("sla") if any(s.key == "sla" for s in report.sections) else None
    report.summary = {
        "wards": len(ctx.wards),
        "filed": wards.total[1] if wards and wards.total else None,
        "resolved": wards.total[2] if wards and wards.total else None,
        "sla_percent": sla.total[3] if sla and sla.total else None,
    }
    return report
