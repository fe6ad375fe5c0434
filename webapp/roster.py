"""The duty roster of a ward: the week's grid, the weekly pattern, dated changes and swaps.

Everyone who works for the ward sees its grid (staff, its students, coordinators);
coordinators edit the pattern and make dated changes; students ask to hand one of their
half-days over, and a coordinator approves or refuses. The rules live in
``helpdesk_core/services/roster.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError, NotFound
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import ChangeStatus, Role, ShiftPart, StudentAssignment, Ward
from helpdesk_core.services import counter_help, queries, reports, roster, scope, tickets

from . import registry
from .admin_forms import REQUIRED, TranslatedForm, _date
from .extensions import db
from .web import flash_error, now, save_form, today

bp = Blueprint("roster", __name__, url_prefix="/roster")

DATE_FORMAT = "%d/%m/%Y"
EDITORS = (Role.COORDINATOR, Role.ADMIN)


def _part_choices() -> list[SelectChoice]:
    return [SelectChoice(p, _l(roster.PART_LABELS[p])) for p in ShiftPart.ALL]


class ShiftForm(TranslatedForm):
    """A coordinator puts a placed student on duty every week on a half-day."""

    assignment = SelectField(_l("Student"), validators=[InputRequired(REQUIRED)])
    weekday = SelectField(_l("Day of the week"), validators=[InputRequired(REQUIRED)],
                          choices=lambda: [SelectChoice(str(i), _l(label)) for i, label in
                                           enumerate(roster.WEEKDAY_LABELS)])
    part = SelectField(_l("Half-day"), choices=_part_choices,
                       validators=[InputRequired(REQUIRED)])


class ChangeForm(TranslatedForm):
    """One dated half-day: who does not come, who comes instead."""

    day = _date(_l("Date"))
    part = SelectField(_l("Half-day"), choices=_part_choices,
                       validators=[InputRequired(REQUIRED)])
    off = SelectField(_l("Does not come"), validators=[Optional()])
    on = SelectField(_l("Comes instead"), validators=[Optional()])
    note = StringField(_l("Note (no personal data)"),
                       validators=[Optional(), Length(max=roster.NOTE_MAX)])


class DecisionForm(TranslatedForm):
    decision = SelectField(_l("Decision"), validators=[InputRequired(REQUIRED)],
                           choices=[SelectChoice("approve", _l("Approve")),
                                    SelectChoice("refuse", _l("Refuse"))])


# --- helpers ----------------------------------------------------------------------------

def _ward_or_404(ward_id: int) -> Ward:
    """The ward, if the user works for it (staff, its students, coordinators)."""
    ward = db.session.get(Ward, ward_id)
    wards = scope.ward_ids_for(db.session, current_user, today())
    if ward is None or (wards is not None and ward_id not in wards):
        abort(404)
    return ward


def _editor() -> None:
    if current_user.role not in EDITORS:
        abort(403)


def _monday() -> dt.date:
    raw = request.args.get("start", "")
    try:
        day = dt.datetime.strptime(raw, DATE_FORMAT).date() if raw else today()
    except ValueError:
        day = today()
    if not dt.date(2000, 1, 3) <= day <= dt.date(2100, 12, 27):
        day = today()
    return roster.monday_of(day)


def _people_choices(placements: list[StudentAssignment], empty: Any) -> list[SelectChoice]:
    return [SelectChoice("", empty)] + [SelectChoice(str(p.student_id), p.student.name)
                                        for p in placements]


def _forms(ward: Ward, placements: list[StudentAssignment]) -> dict[str, Any]:
    """The page's forms, their choices filled (the POSTed ones bind request.form)."""
    shift_form = ShiftForm(prefix="shift")
    shift_form.assignment.choices = [SelectChoice(str(p.id), p.student.name) for p in placements]
    change_form = ChangeForm(prefix="change")
    change_form.off.choices = _people_choices(placements, _l("— Nobody —"))
    change_form.on.choices = _people_choices(placements, _l("— Nobody —"))
    if current_user.role == Role.STUDENT:
        # A student hands over a half-day of their own.
        change_form.off.choices = [SelectChoice(str(current_user.id), current_user.name)]
        change_form.on.choices = [c for c in change_form.on.choices
                                  if c.value != str(current_user.id)]
    return {"shift_form": shift_form, "change_form": change_form}


def _page(ward: Ward, status: int = 200, **forms: Any):
    monday = _monday()
    day = today()
    placements = roster.placements_of(db.session, ward.id, day)
    context = _forms(ward, placements)
    context.update(forms)
    month = reports.make_period(day.replace(day=1), day, day,
                               tz_name=current_app.config["TIMEZONE"])
    help_rows = counter_help.sum_by(counter_help.counter_help_totals(
        db.session, ward_ids=[ward.id], period=month), "student_id")
    names = {p.student_id: p.student.name for p in placements}
    return render_template(
        "roster/ward.html", ward=ward, week=roster.week(db.session, ward, monday,
                                                        current_app.config["TIMEZONE"]),
        monday=monday, previous=(monday - dt.timedelta(days=7)).strftime(DATE_FORMAT),
        following=(monday + dt.timedelta(days=7)).strftime(DATE_FORMAT),
        this_week=roster.monday_of(day), today=day,
        part_labels=roster.PART_LABELS, weekday_labels=roster.WEEKDAY_LABELS,
        pattern=roster.pattern_of(db.session, ward.id, day),
        changes=roster.changes_of(db.session, ward.id, day),
        pending_status=ChangeStatus.PENDING, can_edit=current_user.role in EDITORS,
        is_student=current_user.role == Role.STUDENT and ward.id in {
            p.ward_id for p in placements if p.student_id == current_user.id},
        decision_form=DecisionForm(formdata=None), help_rows=help_rows, names=names,
        month=month, **context), status


def _done(ward: Ward, message: str):
    tickets.commit(db.session)
    flash(message, "success")
    return _to_roster(ward)


def _to_roster(ward: Ward):
    return redirect(url_for("roster.ward", ward_id=ward.id, start=request.args.get("start")))


# --- pages ------------------------------------------------------------------------------

@bp.route("/")
@login_required
def index():
    """The wards whose roster the user may see; straight to it when there is one."""
    wards = queries.wards_in_scope(db.session, current_user, today())
    if len(wards) == 1:
        return redirect(url_for("roster.ward", ward_id=wards[0].id))
    return render_template("roster/index.html", wards=wards)


@bp.route("/<int:ward_id>")
@login_required
def ward(ward_id: int):
    """The week's grid, the pattern, dated changes and the forms the user may use."""
    return _page(_ward_or_404(ward_id))


@bp.route("/<int:ward_id>/shifts", methods=["POST"])
@login_required
def add_shift(ward_id: int):
    ward = _ward_or_404(ward_id)
    _editor()
    placements = roster.placements_of(db.session, ward.id, today())
    forms = _forms(ward, placements)
    form = forms["shift_form"]

    def save():
        placement = next(p for p in placements if str(p.id) == form.assignment.data)
        return roster.set_shift(db.session, current_user, placement, int(form.weekday.data),
                                form.part.data)
    if save_form(form, save, i18n.gettext("The shift is on the roster.")) is not None:
        return _to_roster(ward)
    return _page(ward, 400, **forms)


@bp.route("/<int:ward_id>/shifts/<int:shift_id>/remove", methods=["POST"])
@login_required
def remove_shift(ward_id: int, shift_id: int):
    ward = _ward_or_404(ward_id)
    _editor()
    try:
        shift = roster.get_shift(db.session, ward.id, shift_id)
    except NotFound:
        abort(404)
    roster.remove_shift(db.session, current_user, shift)
    return _done(ward, i18n.gettext("The shift is off the roster."))


@bp.route("/<int:ward_id>/changes", methods=["POST"])
@login_required
def change(ward_id: int):
    """A coordinator's dated change (approved at once) or a student's request."""
    ward = _ward_or_404(ward_id)
    if current_user.role not in EDITORS + (Role.STUDENT,):
        abort(403)
    placements = roster.placements_of(db.session, ward.id, today())
    forms = _forms(ward, placements)
    form = forms["change_form"]
    people = {str(p.student_id): p.student for p in placements}
    made = save_form(form, lambda: roster.request_change(
        db.session, current_user, ward, form.day.data, form.part.data,
        off=people.get(form.off.data or ""), on=people.get(form.on.data or ""),
        note=form.note.data or "", today=today(), now=now(),
        tz_name=current_app.config["TIMEZONE"]),
        lambda made: i18n.gettext("The change is on the roster.")
        if made.status == ChangeStatus.APPROVED else
        i18n.gettext("Your request is sent; a coordinator will decide."))
    return _page(ward, 400, **forms) if made is None else _to_roster(ward)


@bp.route("/<int:ward_id>/changes/<int:change_id>", methods=["POST"])
@login_required
def decide(ward_id: int, change_id: int):
    """A coordinator approves or refuses a student's request."""
    ward = _ward_or_404(ward_id)
    _editor()
    try:
        found = roster.get_change(db.session, ward.id, change_id)
    except NotFound:
        abort(404)
    form = DecisionForm()
    if not form.validate():
        flash(i18n.gettext("Please check the highlighted answers."), "error")
        return _page(ward, 400)
    try:
        roster.decide(db.session, current_user, found, form.decision.data == "approve", now())
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        flash_error(exc)
        return _page(ward, 409)
    return _done(ward, i18n.gettext("The request is approved.")
                 if found.status == ChangeStatus.APPROVED else
                 i18n.gettext("The request is refused."))


DASHBOARD_WAITING_ROWS = 20


def dashboard_context(period: reports.Period, moment: dt.datetime) -> dict[str, Any]:
    """What the coordinators' dashboard shows of duty: tickets waiting with nobody on
    duty, and help at the counter per ward in the period (template roster/_dashboard.html)."""
    totals = counter_help.counter_help_totals(db.session, period=period)
    # The oldest few, with the count: a page of 200 rows cost more than the rest of it.
    return {"unstaffed": roster.waiting_list(db.session, moment, current_app.config["TIMEZONE"],
                                             limit=DASHBOARD_WAITING_ROWS),
            "counter_by_ward": counter_help.sum_by(totals, "ward_id"),
            "counter_by_kind": counter_help.sum_by(totals, "kind"),
            "counter_kinds": counter_help.kinds(registry().categories)}
