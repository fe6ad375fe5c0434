"""The coordinators' city view: all wards at once (table and heat map) and the monthly
report for the People's Committee (generate, list, download)."""

from __future__ import annotations

import datetime as dt
import io
import re

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user
from wtforms import SelectChoice, SelectField
from wtforms.validators import DataRequired

from helpdesk_core import i18n
from helpdesk_core.errors import ValidationFailed
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import Role
from helpdesk_core.exports import PDF_CONTENT_TYPE, XLSX_CONTENT_TYPE
from helpdesk_core.services import monthly, monthly_store, reports, ward_overview
from helpdesk_core.fonts import find_font

from . import registry
from .dashboard import PeriodForm, _period_args
from .extensions import db
from .input_guard import SafeForm
from .web import flash_error, now, roles_required, today

bp = Blueprint("city", __name__, url_prefix="/dashboard")

coordinators = roles_required(Role.COORDINATOR, Role.ADMIN)
HEATMAP_DAYS = 56  # eight weeks unless a period is chosen
REPORT_MONTHS = 24  # how far back the month list goes
_MONTH = re.compile(r"(\d{4})-(\d{2})")
FORMATS = {"xlsx": XLSX_CONTENT_TYPE, "pdf": PDF_CONTENT_TYPE}


# --- all wards -------------------------------------------------------------------------

def _heat_period(form: PeriodForm) -> reports.Period:
    tz = current_app.config["TIMEZONE"]
    default = reports.make_period(None, None, today(), default_days=HEATMAP_DAYS, tz_name=tz)
    if not form.validate():
        return default
    try:
        return reports.make_period(form.start.data, form.end.data, today(),
                                   default_days=HEATMAP_DAYS, tz_name=tz)
    except ValidationFailed as error:
        flash_error(error, form)
        return default


@bp.route("/wards")
@coordinators
def wards():
    """Every ward: a table sortable by any column, and tickets per ward and ISO week."""
    form = PeriodForm()
    period = _heat_period(form)
    sort = request.args.get("sort", "name")
    if sort not in ward_overview.SORT_KEYS:
        sort = "name"
    descending = request.args.get("dir") == "desc"
    rows = ward_overview.ward_table(db.session, now(), today(), period, sort, descending)
    heat = ward_overview.ward_week_heatmap(db.session, period)
    return render_template("city/wards.html", form=form, period=period, rows=rows,
                           heat=heat, sort=sort, descending=descending,
                           period_args=_period_args(period),
                           totals={"open": sum(r.open for r in rows),
                                   "at_risk": sum(r.at_risk for r in rows),
                                   "breached": sum(r.breached for r in rows),
                                   "on_duty": sum(r.on_duty for r in rows)})


# --- monthly report --------------------------------------------------------------------

def report_options() -> monthly_store.Options:
    """How this app makes reports: its font, its categories' labels, its time zone."""
    labels = {slug: str(category.label) for slug, category in registry().categories.items()}
    return monthly_store.Options(find_font(current_app.config.get("STICKER_FONT") or None),
                                 labels, current_app.config["TIMEZONE"])


def _months() -> list[dt.date]:
    month = monthly.previous_month(today().replace(day=28) + dt.timedelta(days=4))
    result = []
    for _ in range(REPORT_MONTHS):
        result.append(month)
        month = monthly.previous_month(month)
    return result


class MonthForm(SafeForm):
    month = SelectField(_l("Month"), validators=[DataRequired()], validate_choice=True)

    def __init__(self, months: list[dt.date], **kwargs) -> None:
        super().__init__(**kwargs)
        self.month.choices = [SelectChoice(f"{m:%Y-%m}", f"{m:%m/%Y}") for m in months]


@bp.route("/monthly", methods=["GET", "POST"])
@coordinators
def monthly_reports():
    """The stored reports, and a form to generate (or regenerate) any month's."""
    months = _months()
    form = MonthForm(months, data={"month": f"{months[1]:%Y-%m}"} if request.method == "GET"
                     else None)
    if request.method == "POST":
        if form.validate():
            month = _parse_month(form.month.data)
            row = monthly_store.generate(db.session, month, report_options(), now(),
                                         actor=current_user._get_current_object())
            db.session.commit()
            flash(i18n.gettext("The report of %(month)s is ready.",
                               month=f"{row.month:%m/%Y}"), "success")
            return redirect(url_for("city.monthly_reports"))
        flash(i18n.gettext("Please check the highlighted answers."), "error")
    stored = monthly_store.list_reports(db.session)
    return render_template("city/monthly.html", form=form, stored=stored), \
        400 if form.errors else 200


def _parse_month(value: str | None) -> dt.date:
    match = _MONTH.fullmatch(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        abort(404)
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


@bp.route("/monthly/<month>/report.<fmt>")
@coordinators
def download_report(month: str, fmt: str):
    """A stored report's file (``xlsx`` or ``pdf``)."""
    if fmt not in FORMATS:
        abort(404)
    row = monthly_store.get_report(db.session, _parse_month(month))
    if row is None:
        abort(404)
    data = row.xlsx if fmt == "xlsx" else row.pdf
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt], as_attachment=True,
                     download_name=monthly_store.filename(row, fmt))
