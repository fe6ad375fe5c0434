"""Help at the counter: two taps from the queue (the button, then the kind of help).

Students log help given without a ticket: a kind, how many people (1 unless changed),
an optional note with no personal data (masked anyway). The rules live in
``helpdesk_core/services/counter_help.py``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from helpdesk_core import i18n
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import Role
from helpdesk_core.services import counter_help, queries, reports

from . import registry
from .admin_forms import REQUIRED, TranslatedForm
from .extensions import db
from .web import now, roles_required, save_form, today

bp = Blueprint("counter", __name__, url_prefix="/counter")


class HelpForm(TranslatedForm):
    """The compact form: the kind is the button pressed."""

    kind = StringField(_l("Kind of help"), validators=[InputRequired(REQUIRED), Length(max=40)])
    people = IntegerField(_l("How many people"), default=1,
                          validators=[InputRequired(REQUIRED),
                                      NumberRange(min=1, max=counter_help.PEOPLE_MAX)],
                          render_kw={"inputmode": "numeric", "min": 1,
                                     "max": counter_help.PEOPLE_MAX})
    ward = SelectField(_l("Ward"), validators=[Optional()])
    note = StringField(_l("Note (optional)"),
                       description=_l("Do not type personal data: no names, ID numbers or "
                                      "phone numbers."),
                       validators=[Optional(), Length(max=counter_help.NOTE_MAX)])


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def log():
    """The big buttons; pressing one logs the help and goes back to the queue."""
    wards = queries.wards_in_scope(db.session, current_user, today())
    kinds = counter_help.kinds(registry().categories)
    form = HelpForm()
    form.ward.choices = [(str(w.id), w.name) for w in wards]
    status = 200

    def save():
        ward = next((w for w in wards if str(w.id) == form.ward.data), wards[0])
        return counter_help.log_help(db.session, current_user, ward, form.kind.data, kinds,
                                     people=form.people.data, note=form.note.data or "",
                                     now=now(), ward_ids=[w.id for w in wards])
    if form.is_submitted():
        # With no ward in scope the ward has no choices: the form is not valid.
        if save_form(form, save, lambda _: i18n.gettext(
                "Logged: %(kind)s, %(num)d people.", kind=kinds[form.kind.data],
                num=form.people.data)) is not None:
            return redirect(url_for("tickets.queue"))
        status = 400
    day = today()
    month = reports.make_period(day.replace(day=1), day, day,
                               tz_name=current_app.config["TIMEZONE"])
    mine = counter_help.sum_by(counter_help.counter_help_totals(
        db.session, student_ids=[current_user.id], period=month), "kind")
    return render_template("counter/log.html", form=form, kinds=kinds, wards=wards,
                           mine=mine, month=month,
                           recent=counter_help.recent(db.session, current_user.id, 5)), status
