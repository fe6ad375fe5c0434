"""Generating, keeping and delivering the monthly report.

* :func:`generate` builds the month's figures and both files and stores them, replacing
  the month's report if there is one (coordinators regenerate on demand).
* :func:`ensure` keeps the one already stored: the scheduler's job calls it every day
  through :func:`run_due`, so running twice (or in two processes) keeps one report.
* :func:`run_due` makes last month's report from the city's first working day of the
  month on (a server that was down that day catches up the next).
* :func:`deliver_report` tells the coordinators through the notifications outbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from .. import i18n
from ..calendar import DEFAULT_TIMEZONE, WorkingCalendar
from ..models import CalendarDay, MonthlyReport, Notification, Role, User
from ..plugins import PluginRegistry
from . import monthly, notify_rules, outbox
from .notify_render import LINK, Rendered

# The first working day is at most this many days into a month (Tết can close a week).
MAX_DAYS_TO_FIRST_WORKING_DAY = 20


@dataclass(frozen=True)
class Options:
    """How reports are made here: the categories' labels, the PDF's font, the time zone."""

    font_path: str
    category_labels: Mapping[str, str]
    tz_name: str = DEFAULT_TIMEZONE


def get_report(session: Session, month: dt.date) -> MonthlyReport | None:
    """The stored report of the month containing *month*, or None."""
    return session.scalar(select(MonthlyReport).where(MonthlyReport.month == month.replace(day=1)))


def list_reports(session: Session) -> list[MonthlyReport]:
    """Stored reports, newest month first, without loading their files."""
    return list(session.scalars(select(MonthlyReport)
                                .options(defer(MonthlyReport.xlsx), defer(MonthlyReport.pdf))
                                .order_by(MonthlyReport.month.desc())))


def generate(session: Session, month: dt.date, options: Options, now: dt.datetime, *,
             actor: User | None = None) -> MonthlyReport:
    """Build the report of *month* and store it, replacing any stored one. Flushes only."""
    from ..monthly_files import render_pdf, render_xlsx  # ReportLab/openpyxl: loaded on use
    report = monthly.build_report(session, month, category_labels=options.category_labels,
                                  tz_name=options.tz_name)
    xlsx, pdf = render_xlsx(report), render_pdf(report, options.font_path)
    row = get_report(session, report.month)
    if row is None:
        row = MonthlyReport(month=report.month)
        session.add(row)
    row.generated_at = now
    row.generated_by_id = actor.id if actor is not None else None
    row.locale = str(i18n.get_locale())[:5]
    row.xlsx, row.pdf, row.summary = xlsx, pdf, dict(report.summary)
    session.flush()
    return row


def ensure(session: Session, month: dt.date, options: Options,
           now: dt.datetime) -> tuple[MonthlyReport, bool]:
    """The stored report of *month*, made now if there is none: ``(report, made)``.

    Two processes racing both build it; the unique month keeps one row, and the loser
    returns the winner's.
    """
    existing = get_report(session, month)
    if existing is not None:
        return existing, False
    nested = session.begin_nested()
    try:
        row = generate(session, month, options, now)
        nested.commit()
        return row, True
    except IntegrityError:
        nested.rollback()
        existing = get_report(session, month)
        if existing is None:
            raise
        return existing, False


def city_calendar(session: Session, tz_name: str = DEFAULT_TIMEZONE) -> WorkingCalendar:
    """The city's working days: Monday-Friday, public holidays, city-wide declared days."""
    from zoneinfo import ZoneInfo
    rows = session.execute(select(CalendarDay.day, CalendarDay.is_working)
                           .where(CalendarDay.ward_id.is_(None))).all()
    return WorkingCalendar(days_off=frozenset(d for d, working in rows if not working),
                           working_days=frozenset(d for d, working in rows if working),
                           tz=ZoneInfo(tz_name))


def first_working_day(calendar: WorkingCalendar, month: dt.date) -> dt.date:
    """The first day of *month* the city works."""
    day = month.replace(day=1)
    for _ in range(MAX_DAYS_TO_FIRST_WORKING_DAY):
        if calendar.is_working_day(day):
            return day
        day += dt.timedelta(days=1)
    return day


def due_month(calendar: WorkingCalendar, today: dt.date) -> dt.date | None:
    """Last month, once *today* is on or after this month's first working day; else None."""
    if today < first_working_day(calendar, today):
        return None
    return monthly.previous_month(today)


def run_due(session: Session, options: Options, now: dt.datetime) -> MonthlyReport | None:
    """The scheduler's step: make last month's report if it is due and not stored yet.

    :returns: the report made now, or None (not due yet, or already stored).
    """
    calendar = city_calendar(session, options.tz_name)
    month = due_month(calendar, now.astimezone(calendar.tz).date())
    if month is None:
        return None
    row, made = ensure(session, month, options, now)
    return row if made else None


# --- delivery ------------------------------------------------------------------------

def filename(report: MonthlyReport, extension: str) -> str:
    """``bao-cao-thang-2026-03.pdf``: the file's name for downloads and e-mails."""
    return f"bao-cao-thang-{report.month:%Y-%m}.{extension}"


def deliver_report(session: Session, registry: PluginRegistry, report: MonthlyReport,
                   now: dt.datetime) -> list[Notification]:
    """Tell every active coordinator that *report* is ready, on the channels they chose
    for reports (e-mail where it is configured): a link to its page, where the PDF and
    the Excel file wait behind the login, never the files themselves. Once per report:
    its month is the outbox key, so a job that runs twice sends once. Does not commit."""
    people = session.scalars(select(User).where(User.role == Role.COORDINATOR,
                                                User.active.is_(True)).order_by(User.id))
    month = f"{report.month:%m/%Y}"

    def words(locale: str) -> Rendered:
        with i18n.use_locale(locale):
            subject = i18n.gettext("Ward helpdesk report, %(month)s", month=month)
            text = i18n.gettext("The ward helpdesk's report of %(month)s is ready (PDF and "
                                "Excel): %(link)s", month=month, link=LINK)
        return Rendered(subject, text)
    return outbox.notify_users(session, registry, list(people), notify_rules.REPORT, words,
                               now=now, url="/dashboard/monthly",
                               key=f"report-{report.month:%Y-%m}",
                               data={"event": notify_rules.REPORT,
                                     "month": f"{report.month:%Y-%m}"})
