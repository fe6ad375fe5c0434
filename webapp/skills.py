"""Skills per category: students declare theirs, coordinators confirm them.

Automatic assignment prefers a confirmed skill, then a declared one
(``helpdesk_core/services/assignment.py``); the rules live in ``services/skills.py``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from helpdesk_core import i18n
from helpdesk_core.errors import NotFound
from helpdesk_core.models import Role, StudentAssignment, User
from helpdesk_core.services import queries, skills, tickets

from . import registry
from .admin_forms import ConfirmForm
from .extensions import db
from .input_guard import int_arg
from .web import now, roles_required, save_form, today

bp = Blueprint("skills", __name__, url_prefix="/skills")


def _students_of(ward_id: int | None) -> list[User]:
    """Students placed today (in *ward_id*, or anywhere), by name."""
    day = today()
    query = (select(User).join(StudentAssignment, StudentAssignment.student_id == User.id)
             .where(User.role == Role.STUDENT, StudentAssignment.starts_on <= day,
                    StudentAssignment.ends_on >= day))
    if ward_id:
        query = query.where(StudentAssignment.ward_id == ward_id)
    return list(db.session.scalars(query.distinct().order_by(User.name, User.id)))


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.STUDENT, Role.COORDINATOR, Role.ADMIN)
def index():
    """Students: tick the categories they can handle. Coordinators: confirm them."""
    categories = registry().sorted_categories()
    form = ConfirmForm()
    status = 200
    if current_user.role == Role.STUDENT:
        if request.method == "POST":
            chosen = [key for key in request.form.getlist("category")
                      if key in registry().categories]
            if save_form(form, lambda: skills.declare(db.session, current_user, chosen,
                                                      registry().categories, now()),
                         i18n.gettext("Your skills are saved. A coordinator will confirm "
                                      "them.")) is not None:
                return redirect(url_for("skills.index"))
            status = 400
        mine = skills.skills_of(db.session, current_user.id)
        return render_template("skills/mine.html", categories=categories, mine=mine,
                               form=form), status
    if request.method == "POST":
        abort(405)
    wards = queries.wards_in_scope(db.session, current_user, today())
    ward_id = int_arg("ward")
    students = _students_of(ward_id)
    by_student = skills.skills_by_student(db.session, [s.id for s in students])
    return render_template("skills/confirm.html", categories=categories, students=students,
                           by_student=by_student, wards=wards, ward_id=ward_id, form=form)


@bp.route("/<int:skill_id>", methods=["POST"])
@roles_required(Role.COORDINATOR, Role.ADMIN)
def confirm(skill_id: int):
    """Confirm a declared skill (``confirmed=1``) or take the confirmation back."""
    try:
        skill = skills.get_skill(db.session, skill_id)
    except NotFound:
        abort(404)
    form = ConfirmForm()
    if not form.validate():
        flash(i18n.gettext("Please check the highlighted answers."), "error")
        return redirect(url_for("skills.index"))
    skills.confirm(db.session, current_user, skill, request.form.get("confirmed") == "1", now())
    tickets.commit(db.session)
    flash(i18n.gettext("Saved."), "success")
    ward = int_arg("ward")
    return redirect(url_for("skills.index", ward=ward) if ward else url_for("skills.index"))
