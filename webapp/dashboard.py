"""The coordinators' dashboard: wards at a glance, SLA compliance, weekly volumes,
students' activity, and CSV exports."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, NoReturn

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional
from wtforms.widgets import TextInput

from helpdesk_core import i18n
from helpdesk_core.errors import ValidationFailed
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import (AccessKind, Asset, AssetCheck, CounterHelp, Role, Shift,
                                  ShiftChange, Status, StudentAssignment, TicketEvent, Ward)
from helpdesk_core.services import reports, workflow

from . import registry, roster
from .admin_forms import TranslatedForm
from .downloads import DATE_FORMAT
from .downloads import csv_response as _csv_response
from .downloads import local_datetime as _local
from .errors import render_error
from .extensions import db
from .input_guard import int_arg
from .kept_widgets import KeptSelect
from .web import flash_error, now, roles_required, today

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# Colour-blind-safe palette (Okabe-Ito), one colour per category in chart order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")

coordinators = roles_required(Role.COORDINATOR, Role.ADMIN)


class PeriodForm(TranslatedForm):
    """The period (and, for exports, ward and status) read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    # Text boxes: the browser's date picker would show and send its own format.
    start = DateField(_l("From"), format=DATE_FORMAT, validators=[Optional()],
                      widget=TextInput(),
                      render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})
    end = DateField(_l("To"), format=DATE_FORMAT, validators=[Optional()], widget=TextInput(),
                    render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})
    # ~100 wards: the kept widget renders them once per language and choice.
    ward = SelectField(_l("Ward"), validators=[Optional()], validate_choice=False,
                       widget=KeptSelect())
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False,
                         widget=KeptSelect())

    def __init__(self, wards: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(request.args, **kwargs)
        self.ward.choices = [SelectChoice("", _l("All wards"))] + [
            SelectChoice(str(w.id), w.name) for w in wards]
        self.status.choices = [SelectChoice("", _l("All statuses")),
                               SelectChoice("open", _l("Open"))] + [
            SelectChoice(s, _l(workflow.STATUS_LABELS[s])) for s in Status.ALL]


def _period(form: PeriodForm) -> reports.Period:
    """The chosen period; on bad input the errors go on the form and the default is used."""
    default = reports.make_period(None, None, today(), tz_name=current_app.config["TIMEZONE"])
    if not form.validate():
        return default
    try:
        return reports.make_period(form.start.data, form.end.data, today(),
                                   tz_name=current_app.config["TIMEZONE"])
    except ValidationFailed as error:
        flash_error(error, form)
        return default


# Built once: the dashboard asks on every look.
_ACTIVE_WARDS = select(Ward.id, Ward.name).where(Ward.active.is_(True)).order_by(Ward.name)


def _active_wards() -> list[Any]:
    """Ids and names (rows, not Ward objects: the choices need no more)."""
    return db.session.execute(_ACTIVE_WARDS).all()


def _period_args(period: reports.Period) -> dict[str, str]:
    return {"start": period.start.strftime(DATE_FORMAT), "end": period.end.strftime(DATE_FORMAT)}


class PeriodCache:
    """Rendered figures kept for a few seconds in this worker process.

    SLA compliance and weekly volumes read hundreds of thousands of tickets at city
    scale and change slowly: kept ``DASHBOARD_CACHE_SECONDS``. The live figures (open,
    at risk, overdue, waiting) are kept ``DASHBOARD_LIVE_SECONDS`` under a key that
    changes with any ticket (:func:`_live_figures`). Each fragment says when it was
    counted. Keys carry the locale (the figures hold translated labels). Bounded in size.
    """

    MAX_ENTRIES = 64

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, seconds: float, compute, replaces: tuple = ()):
        """The value kept under *key*, else ``compute()`` kept for *seconds*; a new value
        drops the entries whose key starts with *replaces* (figures it supersedes)."""
        if seconds <= 0:
            return compute()
        clock = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > clock:
                return entry[1]
        value = compute()
        with self._lock:
            if replaces:
                for old in [k for k in self._entries if k[:len(replaces)] == replaces]:
                    del self._entries[old]
            if len(self._entries) >= self.MAX_ENTRIES:
                for stale in [k for k, (until, _) in self._entries.items() if until <= clock] or \
                        [min(self._entries, key=lambda k: self._entries[k][0])]:
                    del self._entries[stale]
            self._entries[key] = (clock + seconds, value)
        return value

    def forget(self, kind: str) -> None:
        """Drop the entries whose key starts with *kind*."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == kind]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


period_cache = PeriodCache()


def _period_figures(period: reports.Period, moment: dt.datetime) -> Markup:
    """SLA compliance and weekly volumes of *period*, rendered, kept for a short while
    (the fragment says when they were counted)."""
    seconds = float(current_app.config["DASHBOARD_CACHE_SECONDS"])
    key = (id(current_app._get_current_object()), str(i18n.get_locale()), period.start,
           period.end)

    def render() -> Markup:
        compliance, overall = reports.sla_compliance(db.session, period)
        volumes = reports.weekly_volumes(db.session, period)
        return Markup(render_template("dashboard/_period_figures.html", period=period,
                                      compliance=compliance, overall=overall,
                                      chart=volume_chart(volumes), as_of=moment))
    return period_cache.get(key, seconds, render)


# What a ticket's change or a new ward changes: the newest ticket event (filing, every
# change of status, assignee or priority records one) and the active wards. One indexed
# read, built once.
_LIVE_MARKER = select(
    select(func.max(TicketEvent.id)).scalar_subquery(),
    select(func.count()).select_from(Ward).where(Ward.active.is_(True)).scalar_subquery())


# What else the live figures show, changed through this process's sessions: its kept
# figures go at once (another worker's go within DASHBOARD_LIVE_SECONDS).
_LIVE_SOURCES = (Ward, StudentAssignment, Shift, ShiftChange, CounterHelp, Asset, AssetCheck)


@event.listens_for(Session, "after_flush")
def _forget_live_figures(session: Session, _context: Any) -> None:
    if any(isinstance(obj, _LIVE_SOURCES)
           for obj in itertools.chain(session.new, session.dirty, session.deleted)):
        period_cache.forget("live")


def _live_figures(period: reports.Period, moment: dt.datetime) -> Markup:
    """Open, at-risk and overdue tickets per ward, the health board's counts and the duty
    section, rendered and kept for ``DASHBOARD_LIVE_SECONDS`` while no ticket changes:
    a change of any ticket shows at the next look, and so does a change of rosters, wards
    or devices made in this process; the passing of time (tickets turning at risk), the
    scheduler's health results and other workers' edits within those seconds (the
    fragment says when it was counted). Coordinators' dashboards refresh themselves every few
    seconds, all of them asking the same."""
    seconds = float(current_app.config["DASHBOARD_LIVE_SECONDS"])
    marker = tuple(db.session.execute(_LIVE_MARKER).one()) if seconds > 0 else ()
    shown = ("live", id(current_app._get_current_object()), str(i18n.get_locale()),
             period.start, period.end)
    key = shown + (marker,)

    def render() -> Markup:
        load = reports.ward_load(db.session, moment)
        totals = {"open": sum(r.open for r in load), "at_risk": sum(r.at_risk for r in load),
                  "breached": sum(r.breached for r in load)}
        return Markup(render_template(
            "dashboard/_live.html", load=load, totals=totals, as_of=moment,
            health=reports.health_counts(db.session),
            **roster.dashboard_context(period, moment)))
    # A new marker supersedes the figures of the old one: one entry per view, not one
    # per ticket change (a busy city's filings would fill the cache with dead figures).
    return period_cache.get(key, seconds, render, replaces=shown)


@bp.route("/")
@coordinators
def index():
    wards = _active_wards()
    form = PeriodForm(wards)
    period = _period(form)
    moment = now()
    return render_template("dashboard/index.html", form=form, period=period,
                           live_figures=_live_figures(period, moment),
                           period_figures=_period_figures(period, moment),
                           period_args=_period_args(period),
                           refresh=max(int(current_app.config["QUEUE_REFRESH_SECONDS"]), 1))


@bp.route("/students")
@coordinators
def students():
    form = PeriodForm()
    period = _period(form)
    rows = reports.student_activity(db.session, period)
    return render_template("dashboard/students.html", form=form, period=period, rows=rows,
                           period_args=_period_args(period))


# --- chart ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str


def volume_chart(volumes: reports.WeeklyVolumes) -> dict[str, Any]:
    """Geometry of a stacked bar chart (one bar per week, one colour per category)."""
    cats = registry().categories
    keys = sorted(volumes.counts, key=lambda k: (getattr(cats.get(k), "order", 999), k))
    series = [{"key": key, "label": str(cats[key].label) if key in cats else key,
               "color": PALETTE[i % len(PALETTE)], "counts": volumes.counts[key],
               "total": volumes.total(key)} for i, key in enumerate(keys)]
    weekly_totals = [sum(s["counts"][w] for s in series) for w in range(len(volumes.weeks))]
    top = max(weekly_totals, default=0) or 1
    left, bottom, plot_h, slot = 40.0, 30.0, 200.0, 36.0
    width = left + slot * max(len(volumes.weeks), 1) + 10
    bars: list[Bar] = []
    for w, week in enumerate(volumes.weeks):
        y = bottom / 3 + plot_h
        for s in series:
            count = s["counts"][w]
            if not count:
                continue
            height = plot_h * count / top
            y -= height
            bars.append(Bar(left + slot * w + 6, round(y, 1), slot - 12, round(height, 1),
                            s["color"], f"{s['label']}, {week:%d/%m}: {count}"))
    ticks = sorted({0, top, (top + 1) // 2})
    return {"series": series, "weeks": volumes.weeks, "bars": bars, "width": width,
            "height": plot_h + bottom + 10, "base": bottom / 3 + plot_h, "left": left,
            "slot": slot, "plot_h": plot_h, "top": top, "totals": weekly_totals,
            "ticks": [(t, round(bottom / 3 + plot_h - plot_h * t / top, 1)) for t in ticks]}


# --- CSV exports ---------------------------------------------------------------------

def _minutes(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _export_period(form: PeriodForm) -> reports.Period:
    """The period of an export; bad dates stop it with their message (never a default
    period's file under the name the user expects)."""
    if not form.validate():
        _refuse(next(iter(form.errors.values()))[0])
    try:
        return reports.make_period(form.start.data, form.end.data, today(),
                                   tz_name=current_app.config["TIMEZONE"])
    except ValidationFailed as error:
        _refuse(error.localized())


def _refuse(message: str) -> NoReturn:
    response, code = render_error(400, str(message))
    abort(Response(response, code))


def _record_export(name: str, period: reports.Period, **filters: Any) -> None:
    """An export holds personal data: record who took it, with its filters."""
    from . import access_log
    details = {"start": period.start.strftime(DATE_FORMAT),
               "end": period.end.strftime(DATE_FORMAT)}
    details.update({k: v for k, v in filters.items() if v not in (None, "")})
    access_log.record(AccessKind.EXPORT, target=name, details=details)


@bp.route("/export/tickets.csv")
@coordinators
def export_tickets():
    form = PeriodForm()
    period = _export_period(form)
    ward_id = int_arg("ward")
    status = request.args.get("status") or None
    if status not in (None, "open", *Status.ALL):
        status = None
    filters = reports.ExportFilter(period, ward_id=ward_id, status=status)
    _record_export("tickets.csv", period, ward=ward_id, status=status)
    cats = registry().categories
    header = [i18n.gettext("Number"), i18n.gettext("Ward code"), i18n.gettext("Ward"),
              i18n.gettext("Category"), i18n.gettext("Title"), i18n.gettext("Status"),
              i18n.gettext("Priority"), i18n.gettext("Source"), i18n.gettext("Filed at"),
              i18n.gettext("First response at"), i18n.gettext("Resolved at"),
              i18n.gettext("Closed at"), i18n.gettext("Resolution due at"),
              i18n.gettext("At risk"), i18n.gettext("Breached"), i18n.gettext("Assignee"),
              i18n.gettext("A citizen is waiting")]
    yes, no = i18n.gettext("yes"), i18n.gettext("no")
    status_labels = {s: i18n.gettext(label) for s, label in workflow.STATUS_LABELS.items()}
    cat_labels = {k: str(c.label) for k, c in cats.items()}
    source_labels = {k: i18n.gettext(v) for k, v in reports.SOURCE_LABELS.items()}

    def rows() -> Iterator[list[Any]]:
        for (number, code, ward, category, title, status_, priority, source, created,
             responded, resolved, closed, due, at_risk, breached, assignee, waiting) in \
                reports.iter_export_tickets(db.session, filters):
            yield [number, code, ward, cat_labels.get(category, category), title,
                   status_labels.get(status_, status_), f"P{priority}",
                   source_labels.get(source, source),
                   _local(created), _local(responded), _local(resolved), _local(closed),
                   _local(due), yes if at_risk else no, yes if breached else no,
                   assignee or "", yes if waiting else no]

    return _csv_response(f"tickets_{period.start:%Y%m%d}_{period.end:%Y%m%d}.csv", header,
                         rows())


@bp.route("/export/students.csv")
@coordinators
def export_students():
    form = PeriodForm()
    period = _export_period(form)
    activity = reports.student_activity(db.session, period)
    _record_export("students.csv", period)
    header = [i18n.gettext("Login"), i18n.gettext("Student"), i18n.gettext("University"),
              i18n.gettext("Wards"), i18n.gettext("Tickets claimed"),
              i18n.gettext("Tickets resolved"), i18n.gettext("Comments"),
              i18n.gettext("Median response (minutes)"),
              i18n.gettext("Average response (minutes)"),
              i18n.gettext("Median resolution (minutes)"),
              i18n.gettext("Average resolution (minutes)")]

    def rows() -> Iterator[list[Any]]:
        for s in activity:
            yield [s.login, s.name, "; ".join(s.universities), "; ".join(s.wards), s.claimed,
                   s.resolved, s.comments, _minutes(s.median_response),
                   _minutes(s.average_response), _minutes(s.median_resolution),
                   _minutes(s.average_resolution)]

    return _csv_response(f"students_{period.start:%Y%m%d}_{period.end:%Y%m%d}.csv", header,
                         rows())
