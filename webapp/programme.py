"""The students' programme: batches (đợt) and universities (coordinators, administrators),
the wards' end-of-batch evaluations (ward staff), results per student (coordinators and
each university's own coordinators), certificates and their public verification."""

from __future__ import annotations

import io
import logging
from typing import Any
from zoneinfo import ZoneInfo

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from helpdesk_core import i18n
from helpdesk_core import fonts
from helpdesk_core.errors import HelpdeskError, NotFound
from helpdesk_core.models import Batch, Certificate, Role, University, User, Ward
from helpdesk_core.services import batches as service
from helpdesk_core.services import certificates, evaluations, workflow

from . import programme_forms as forms
from . import registry
from .admin_forms import ConfirmForm
from .extensions import db, limiter
from .input_guard import int_arg
from .stickers import public_base_url
from .web import now, roles_required, save_form, today

bp = Blueprint("programme", __name__, url_prefix="/programme")
public = Blueprint("verify", __name__)
log = logging.getLogger(__name__)

coordinators = roles_required(Role.COORDINATOR, Role.ADMIN)
readers = roles_required(Role.COORDINATOR, Role.ADMIN, Role.UNIVERSITY)
ward_staff = roles_required(Role.STAFF)


def _get(model: type, ident: int) -> Any:
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


# --- batches ---------------------------------------------------------------------------

@bp.route("/batches")
@coordinators
def batches():
    return render_template("programme/batches.html", batches=service.batches(db.session))


@bp.route("/batches/new", methods=["GET", "POST"])
@bp.route("/batches/<int:batch_id>", methods=["GET", "POST"])
@coordinators
def batch_edit(batch_id: int | None = None):
    batch = _get(Batch, batch_id) if batch_id else None
    form = forms.BatchForm(obj=batch)
    form.wards.choices = [SelectChoice(w.id, f"{w.name} ({w.code})") for w in db.session.scalars(
        select(Ward).where(Ward.active.is_(True)).order_by(Ward.name))]
    if request.method != "POST":
        form.wards.data = [w.id for w in batch.wards] if batch else []
        form.criteria.data = service.criteria_text(batch)

    def save() -> Batch:
        chosen = form.wards.data or []
        wards = list(db.session.scalars(select(Ward).where(Ward.id.in_(chosen)))) if chosen else []
        return service.save_batch(
            db.session, batch, name=form.name.data, starts_on=form.starts_on.data,
            ends_on=form.ends_on.data, wards=wards, issuing_unit=form.issuing_unit.data or "",
            criteria=form.criteria.data or "")

    saved = save_form(form, save, i18n.gettext("The batch is saved."))
    if saved is not None:
        return redirect(url_for("programme.batch_edit", batch_id=saved.id))
    placements = service.placements(db.session, batch) if batch else []
    return render_template("programme/batch.html", form=form, batch=batch,
                           placements=placements, confirm=ConfirmForm())


@bp.route("/batches/<int:batch_id>/delete", methods=["POST"])
@coordinators
def batch_delete(batch_id: int):
    batch = _get(Batch, batch_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        service.delete_batch(db.session, batch)
        db.session.commit()
    except HelpdeskError as error:
        db.session.rollback()
        flash(error.localized(), "error")
        return redirect(url_for("programme.batch_edit", batch_id=batch_id))
    flash(i18n.gettext("The batch is removed."), "success")
    return redirect(url_for("programme.batches"))


# --- universities ------------------------------------------------------------------------

@bp.route("/universities")
@coordinators
def universities():
    return render_template("programme/universities.html",
                           universities=service.universities(db.session))


@bp.route("/universities/new", methods=["GET", "POST"])
@bp.route("/universities/<int:university_id>", methods=["GET", "POST"])
@coordinators
def university_edit(university_id: int | None = None):
    university = _get(University, university_id) if university_id else None
    form = forms.UniversityForm(obj=university)
    saved = save_form(form, lambda: service.save_university(
        db.session, university, code=form.code.data, name=form.name.data,
        active=form.active.data), i18n.gettext("The university is saved."))
    if saved is not None:
        return redirect(url_for("programme.university_edit", university_id=saved.id))
    return _university_page(university, form, forms.UniversityAccountForm(formdata=None))


def _university_page(university: University | None, form: Any, account_form: Any) -> str:
    accounts = service.university_coordinators(db.session, university) if university else []
    return render_template("programme/university.html", form=form, university=university,
                           accounts=accounts, account_form=account_form)


@bp.route("/universities/<int:university_id>/accounts", methods=["POST"])
@coordinators
def university_account(university_id: int):
    """A coordinator account of the university (role ``university``)."""
    university = _get(University, university_id)
    account_form = forms.UniversityAccountForm()
    saved = save_form(account_form, lambda: service.create_university_coordinator(
        db.session, university, login=account_form.login.data, name=account_form.name.data,
        password=account_form.password.data, email=account_form.email.data or ""),
        i18n.gettext("The account is created."))
    if saved is not None:
        return redirect(url_for("programme.university_edit", university_id=university.id))
    return _university_page(university, forms.UniversityForm(formdata=None, obj=university),
                            account_form)


# --- results per student -----------------------------------------------------------------

SORTS = {"name": i18n.N_("Student"), "university": i18n.N_("University"),
         "batch": i18n.N_("Batch"), "resolved": i18n.N_("Tickets resolved"),
         "on_time": i18n.N_("On time, per cent"), "hours": i18n.N_("Hours on duty"),
         "evaluation": i18n.N_("Evaluation (of 10)"), "rating": i18n.N_("Citizens' rating")}


def _filters() -> dict[str, Any]:
    sort = request.args.get("sort", "name")
    return {"batch_id": int_arg("batch"), "university_id": int_arg("university"),
            "ward_id": int_arg("ward"), "sort": sort if sort in SORTS else "name",
            "descending": request.args.get("desc") == "1"}


def _results(filters: dict[str, Any]) -> list[evaluations.StudentResult]:
    try:
        return evaluations.student_results(db.session, current_user, tz=_tz(), **filters)
    except HelpdeskError:
        abort(403)


def _category_label(key: str) -> str:
    category = registry().categories.get(key)
    return str(category.label) if category else key


@bp.route("/")
@readers
def results():
    filters = _filters()
    rows = _results(filters)
    own = current_user.role == Role.UNIVERSITY
    return render_template(
        "programme/results.html", rows=rows, filters=filters, sorts=SORTS, own=own,
        batches=[SelectChoice(str(b.id), b.name) for b in service.batches(db.session)],
        universities=[] if own else [SelectChoice(str(u.id), u.name)
                                     for u in service.universities(db.session)],
        wards=[SelectChoice(str(i), n) for i, n in db.session.execute(
            select(Ward.id, Ward.name).order_by(Ward.name))],
        category_label=_category_label,
        university=evaluations.university_name(db.session, current_user.university_id)
        if own else "")


@bp.route("/results.xlsx")
@readers
def results_xlsx():
    filters = _filters()
    data = evaluations.results_xlsx(_results(filters), _category_label, _tz())
    return send_file(io.BytesIO(data), as_attachment=True, download_name="ket-qua-sinh-vien.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/students/<int:student_id>")
@readers
def student(student_id: int):
    """One student's results and the tickets they worked: numbers, categories and masked
    titles only (no description, no citizen's contact)."""
    try:
        worked = evaluations.tickets_worked(db.session, current_user, student_id)
    except HelpdeskError:
        abort(404)
    rows = _results({"student_id": student_id})
    person = db.session.get(User, student_id)
    return render_template("programme/student.html", person=person, rows=rows, worked=worked,
                           category_label=_category_label, statuses=_statuses())


def _statuses() -> dict[str, str]:
    return {k: i18n.gettext(v) for k, v in workflow.STATUS_LABELS.items()}


# --- certificates --------------------------------------------------------------------------

def _font() -> str:
    return fonts.find_font(current_app.config.get("STICKER_FONT") or None)


@bp.route("/batches/<int:batch_id>/certificates", methods=["GET", "POST"])
@coordinators
def batch_certificates(batch_id: int):
    batch = _get(Batch, batch_id)
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        issued = certificates.issue_for_batch(db.session, batch, current_user, now(), _tz())
        db.session.commit()
        flash(i18n.ngettext("%(num)d certificate is issued.", "%(num)d certificates are issued.",
                            len(issued)), "success")
        return redirect(url_for("programme.batch_certificates", batch_id=batch.id))
    return render_template("programme/certificates.html", batch=batch, confirm=ConfirmForm(),
                           certificates=certificates.batch_certificates(db.session, batch))


@bp.route("/batches/<int:batch_id>/certificates.pdf")
@coordinators
def batch_certificates_pdf(batch_id: int):
    batch = _get(Batch, batch_id)
    issued = certificates.batch_certificates(db.session, batch)
    if not issued:
        flash(i18n.gettext("Issue the certificates first."), "error")
        return redirect(url_for("programme.batch_certificates", batch_id=batch.id))
    return _pdf(issued, f"giay-chung-nhan-dot-{batch.id}.pdf", batch.name)


@bp.route("/certificates/<number>")
@roles_required(Role.COORDINATOR, Role.ADMIN, Role.UNIVERSITY, Role.STUDENT)
def certificate(number: str):
    """One certificate as a PDF: coordinators, the student, their university's coordinators."""
    try:
        found = certificates.certificate_for(db.session, current_user, number)
    except HelpdeskError:
        abort(404)
    return _pdf([found], f"giay-chung-nhan-{found.number}.pdf", found.number)


def _pdf(issued: list, filename: str, title: str) -> Any:
    try:
        data = certificates.render_pdf(issued, public_base_url(current_app, request.url_root),
                                       _font(), title=title, tz=_tz())
    except HelpdeskError as error:
        log.warning("no certificate PDF: %s", error)
        flash(error.localized(), "error")
        return redirect(url_for("main.home"))
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=filename)


@bp.route("/mine")
@roles_required(Role.STUDENT)
def my_certificates():
    """A student's own certificates."""
    rows = db.session.scalars(select(Certificate).where(Certificate.student_id == current_user.id)
                              .order_by(Certificate.issued_at.desc())).all()
    return render_template("programme/mine.html", certificates=rows)


# --- the ward's evaluations ------------------------------------------------------------------

@bp.route("/evaluations")
@ward_staff
def evaluations_list():
    return render_template("programme/evaluations.html",
                           items=evaluations.to_evaluate(db.session, current_user, today()))


@bp.route("/evaluations/<int:batch_id>/<int:student_id>", methods=["GET", "POST"])
@ward_staff
def evaluate(batch_id: int, student_id: int):
    try:
        target = evaluations.evaluation_target(db.session, current_user, batch_id, student_id,
                                               today())
    except NotFound:
        abort(404)
    except HelpdeskError as error:
        flash(error.localized(), "error")
        return redirect(url_for("programme.evaluations_list"))
    data = None
    if target.evaluation is not None:
        data = {"comment": target.evaluation.comment}
        for score in target.evaluation.scores:
            data[f"score_{score.criterion_id}"] = str(score.score)
            data[f"note_{score.criterion_id}"] = score.comment
    form = forms.evaluation_form(target.batch, request.form if request.method == "POST" else None,
                                 data)
    if request.method == "POST":
        criteria = target.batch.criteria

        def save() -> Any:
            return evaluations.save_evaluation(
                db.session, target, current_user,
                {c.id: form[f"score_{c.id}"].data for c in criteria},
                {c.id: form[f"note_{c.id}"].data for c in criteria},
                form.comment.data or "", now())

        if save_form(form, save, i18n.gettext("The evaluation is saved.")) is not None:
            return redirect(url_for("programme.evaluations_list"))
    return render_template("programme/evaluate.html", form=form, target=target)


# --- public verification -----------------------------------------------------------------------

def _lookup_limit() -> str:
    return current_app.config.get("CERTIFICATE_LOOKUP_LIMIT", "30 per minute")


@public.route("/verify/")
@limiter.limit(_lookup_limit)
def verify_form():
    """The public form to type a certificate's number (``?number=`` checks it)."""
    number = request.args.get("number")
    if number is None:
        return render_template("programme/verify.html", found=None, asked=False)
    return _verification(number)


@public.route("/verify/<number>")
@limiter.limit(_lookup_limit)
def verify(number: str):
    """Anyone (no login): is this certificate ours? Name, batch and date of issue only."""
    return _verification(number)


def _verification(number: str) -> Any:
    try:
        found = certificates.verify(db.session, number, _tz())
    except NotFound as error:
        return render_template("programme/verify.html", found=None, asked=True,
                               message=error.localized()), 404
    return render_template("programme/verify.html", found=found, asked=True)


