"""Administration (administrators only): wards and calendars, accounts, student
placements, assets and health checks, SLA policies, plugins."""

from __future__ import annotations

from typing import Any, Callable

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectChoice

from helpdesk_core import PLUGIN_API_VERSION, hookspecs, i18n
from helpdesk_core.errors import HelpdeskError
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import (Asset, AssetCheck, Batch, CalendarDay, PluginSetting, Role,
                                  SlaPolicy, StudentAssignment, University, User, Ward)
from helpdesk_core.plugin_api import STAGE_API
from helpdesk_core.services import admin as service
from helpdesk_core.services import batches as batch_service
from helpdesk_core.services import health, plugin_settings
from helpdesk_core.services import users

from . import admin_forms as forms
from . import registry
from .extensions import db
from .health import STATUS_LABELS
from .input_guard import int_arg, parse_id, search_arg
from .web import flash_error, form_meta, roles_required, save_form

bp = Blueprint("admin", __name__, url_prefix="/admin")

admins_only = roles_required(Role.ADMIN)
PER_PAGE = 50  # a city has ~500 accounts and ~5,000 assets: lists are paged, never cut


def _page(query: Any) -> Any:
    """One page of *query* (``?page=``) with its total, for the ``pager`` macro."""
    return db.paginate(query, page=int_arg("page", 1, minimum=1), per_page=PER_PAGE,
                       max_per_page=PER_PAGE, error_out=False)


def _get(model: type, ident: int) -> Any:
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def _ward_choices(blank: Any = None) -> list[SelectChoice]:
    wards = db.session.execute(select(Ward.id, Ward.name, Ward.code).order_by(Ward.name)).all()
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(str(i), f"{name} ({code})") for i, name, code in wards]


def _ward(value: str | None) -> Ward | None:
    ward_id = parse_id(value)
    return db.session.get(Ward, ward_id) if ward_id else None


def _category_choices(blank: Any = None) -> list[SelectChoice]:
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(c.key, c.label) for c in registry().sorted_categories()]


def _submit(form: Any, save: Callable[[], Any], success: str, target: Callable[[Any], str],
            extra_forms: tuple = ()) -> Any:
    """:func:`~webapp.web.save_form`, then a redirect to ``target(saved)``; None if nothing
    was saved (the caller renders the form again)."""
    saved = save_form(form, save, success, extra_forms)
    return None if saved is None else redirect(target(saved))


@bp.route("/")
@admins_only
def index():
    return render_template("admin/index.html")


# --- wards ---------------------------------------------------------------------------

@bp.route("/wards")
@admins_only
def wards():
    rows = db.session.scalars(select(Ward).order_by(Ward.name)).all()
    return render_template("admin/wards.html", wards=rows)


@bp.route("/wards/new", methods=["GET", "POST"])
@bp.route("/wards/<int:ward_id>", methods=["GET", "POST"])
@admins_only
def ward_edit(ward_id: int | None = None):
    ward = _get(Ward, ward_id) if ward_id else None
    form = forms.WardForm(obj=ward)
    fields = ("code", "name", "address", "morning_start", "morning_end", "afternoon_start",
              "afternoon_end", "saturday_morning", "auto_assign", "active")
    done = _submit(form, lambda: service.save_ward(
        db.session, ward, **{f: form[f].data for f in fields}),
        i18n.gettext("The ward is saved."), lambda w: url_for("admin.wards"))
    return done or render_template("admin/form.html", form=form,
                                   title=ward.name if ward else i18n.gettext("New ward"),
                                   back=url_for("admin.wards"))


@bp.route("/calendar", methods=["GET", "POST"])
@admins_only
def calendar():
    form = forms.CalendarDayForm()
    form.ward.choices = _ward_choices(blank=_l("Every ward (city-wide)"))
    done = _submit(form, lambda: service.add_calendar_day(
        db.session, _ward(form.ward.data), form.day.data, form.is_working.data == "working",
        form.note.data or ""), i18n.gettext("The day is saved."),
        lambda d: url_for("admin.calendar"))
    if done:
        return done
    days = _page(select(CalendarDay).options(joinedload(CalendarDay.ward))
                 .order_by(CalendarDay.day.desc(), CalendarDay.id))
    return render_template("admin/calendar.html", form=form, days=days,
                           confirm=forms.ConfirmForm())


@bp.route("/calendar/<int:day_id>/delete", methods=["POST"])
@admins_only
def calendar_delete(day_id: int):
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    _get(CalendarDay, day_id)
    service.delete_calendar_day(db.session, day_id)
    db.session.commit()
    flash(i18n.gettext("The day is removed."), "success")
    return redirect(url_for("admin.calendar"))


# --- users ---------------------------------------------------------------------------

@bp.route("/users")
@admins_only
def users_list():
    search = search_arg()
    query = select(User).options(joinedload(User.ward)).order_by(User.role, User.name, User.id)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(func.lower(User.login).like(pattern) | User.name.contains(search))
    return render_template("admin/users.html", users=_page(query), search=search,
                           roles=dict((c.value, c.label) for c in forms.role_choices()))


@bp.route("/users/new", methods=["GET", "POST"])
@admins_only
def user_new():
    form = forms.UserCreateForm()
    form.ward.choices = _ward_choices(blank=_l("None"))
    done = _submit(form, lambda: users.create_user(
        db.session, login=form.login.data, name=form.name.data, password=form.password.data,
        role=form.role.data, ward=_ward(form.ward.data), locale=form.locale.data,
        email=form.email.data or ""), i18n.gettext("The account is created."),
        lambda u: url_for("admin.user_edit", user_id=u.id))
    return done or render_template("admin/form.html", form=form,
                                   title=i18n.gettext("New account"),
                                   back=url_for("admin.users_list"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admins_only
def user_edit(user_id: int):
    user = _get(User, user_id)
    form = forms.UserEditForm(obj=user)
    form.ward.choices = _ward_choices(blank=_l("None"))
    done = _submit(form, lambda: service.update_user(
        db.session, user, name=form.name.data, role=form.role.data, ward=_ward(form.ward.data),
        locale=form.locale.data, active=form.active.data, email=form.email.data or "",
        actor=current_user),
        i18n.gettext("The account is saved."), lambda u: url_for("admin.users_list"))
    return done or render_template("admin/user.html", form=form, user=user,
                                   password_form=forms.PasswordResetForm(formdata=None))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@admins_only
def user_password(user_id: int):
    user = _get(User, user_id)
    password_form = forms.PasswordResetForm()

    def save() -> User:
        users.set_password(user, password_form.password.data)
        return user

    done = _submit(password_form, save, i18n.gettext("The password is changed."),
                   lambda u: url_for("admin.user_edit", user_id=u.id))
    if done:
        if user.id == current_user.id:
            login_user(user)  # the new password ended the other sessions, not this one
        return done
    form = forms.UserEditForm(formdata=None, obj=user)
    form.ward.choices = _ward_choices(blank=_l("None"))
    return render_template("admin/user.html", form=form, user=user,
                           password_form=password_form)


@bp.route("/users/<int:user_id>/sessions", methods=["POST"])
@admins_only
def user_sessions_end(user_id: int):
    """Log the account out everywhere (a lost phone, a shared PC, a leaked password)."""
    user = _get(User, user_id)
    users.end_sessions(user)
    db.session.commit()
    flash(i18n.gettext("Every session of this account has ended."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- student placements -----------------------------------------------------------------

@bp.route("/assignments")
@admins_only
def assignments():
    ward_id = int_arg("ward")
    query = (select(StudentAssignment)
             .options(joinedload(StudentAssignment.student), joinedload(StudentAssignment.ward),
                      joinedload(StudentAssignment.batch))
             .order_by(StudentAssignment.ends_on.desc(), StudentAssignment.id))
    if ward_id:
        query = query.where(StudentAssignment.ward_id == ward_id)
    return render_template("admin/assignments.html", rows=_page(query), ward_id=ward_id,
                           wards=_ward_choices(blank=_l("All wards")))


@bp.route("/assignments/new", methods=["GET", "POST"])
@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
@admins_only
def assignment_edit(assignment_id: int | None = None):
    assignment = _get(StudentAssignment, assignment_id) if assignment_id else None
    form = forms.AssignmentForm(obj=assignment)
    students = db.session.execute(select(User.id, User.name, User.login)
                                  .where(User.role == Role.STUDENT).order_by(User.name)).all()
    form.student.choices = [SelectChoice("", _l("Choose a student"))] + [
        SelectChoice(str(i), f"{name} ({login})") for i, name, login in students]
    form.ward.choices = _ward_choices(blank=_l("Choose a ward"))
    form.batch.choices = [SelectChoice("", _l("No batch"))] + [
        SelectChoice(str(b.id), b.name) for b in batch_service.batches(db.session)]
    form.university_org.choices = [SelectChoice("", _l("Choose a university"))] + [
        SelectChoice(str(u.id), u.name) for u in batch_service.universities(db.session)]

    def save() -> StudentAssignment:
        value = form.student.data
        student_id = parse_id(value)
        student = db.session.get(User, student_id) if student_id else None
        batch_id, university_id = parse_id(form.batch.data), parse_id(form.university_org.data)
        return service.save_assignment(
            db.session, assignment, student=student, ward=_ward(form.ward.data),
            university=form.university.data or "", starts_on=form.starts_on.data,
            ends_on=form.ends_on.data, on_duty=form.on_duty.data,
            batch=db.session.get(Batch, batch_id) if batch_id else None,
            university_org=db.session.get(University, university_id) if university_id else None)

    done = _submit(form, save, i18n.gettext("The placement is saved."),
                   lambda a: url_for("admin.assignments"))
    return done or render_template("admin/form.html", form=form,
                                   title=i18n.gettext("Student placement"),
                                   back=url_for("admin.assignments"))


# --- assets and health checks ---------------------------------------------------------

@bp.route("/assets")
@admins_only
def assets():
    search = search_arg()
    ward = request.args.get("ward", "")
    query = (select(Asset).options(joinedload(Asset.ward), selectinload(Asset.checks))
             .order_by(Asset.ward_id.is_(None), Asset.ward_id, Asset.name, Asset.id))
    if ward == "city":
        query = query.where(Asset.ward_id.is_(None))
    elif ward_id := int_arg("ward"):
        query = query.where(Asset.ward_id == ward_id)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(func.lower(Asset.name).like(pattern) | Asset.name.contains(search)
                            | func.lower(Asset.address).like(pattern)
                            | func.lower(Asset.serial).like(pattern))
    return render_template("admin/assets.html", assets=_page(query), search=search, ward=ward,
                           wards=_ward_choices(blank=_l("All wards")),
                           check_types=registry().check_types)


@bp.route("/assets/new", methods=["GET", "POST"])
@bp.route("/assets/<int:asset_id>", methods=["GET", "POST"])
@admins_only
def asset_edit(asset_id: int | None = None):
    asset = _get(Asset, asset_id) if asset_id else None
    form = forms.AssetForm(obj=asset)
    form.ward.choices = _ward_choices(blank=_l("City-wide service"))
    form.category.choices = _category_choices(blank=_l("Choose a category"))
    form.depends_on.choices = _upstream_choices(asset)
    fields = ("category", "kind", "name", "location", "vendor", "model", "serial", "address",
              "criticality", "service_key", "active")
    done = _submit(form, lambda: service.save_asset(
        db.session, registry(), asset, ward=_ward(form.ward.data),
        depends_on=_asset_or_none(form.depends_on.data),
        **{f: form[f].data or ("" if f != "active" else False) for f in fields}),
        i18n.gettext("The asset is saved."), lambda a: url_for("admin.asset_edit", asset_id=a.id))
    if done:
        return done
    outages = health.outage_history(db.session, asset.id) if asset else []
    return render_template("admin/asset.html", form=form, asset=asset,
                           check_types=registry().check_types, status_labels=STATUS_LABELS,
                           outages=outages)


def _upstream_choices(asset: Asset | None) -> list[SelectChoice]:
    """Devices *asset* may sit behind: the other active devices of its ward."""
    head = [SelectChoice("", _l("None"))]
    if asset is None or asset.ward_id is None:
        return head
    rows = db.session.execute(select(Asset.id, Asset.name).where(
        Asset.ward_id == asset.ward_id, Asset.id != asset.id, Asset.active.is_(True))
        .order_by(Asset.name, Asset.id)).all()
    return head + [SelectChoice(str(i), name) for i, name in rows]


def _asset_or_none(value: str | None) -> Asset | None:
    asset_id = parse_id(value)
    return db.session.get(Asset, asset_id) if asset_id else None


def _config_form(check_type: str, check: AssetCheck | None) -> Any:
    spec = registry().check_types.get(check_type)
    if spec is None or spec.config_form is None:
        return None
    formdata = request.form if request.method == "POST" else None
    return spec.config_form(formdata, data=dict(check.config) if check else None,
                            prefix="config", meta=form_meta())


@bp.route("/assets/<int:asset_id>/checks/new", methods=["GET", "POST"])
@bp.route("/checks/<int:check_id>", methods=["GET", "POST"])
@admins_only
def check_edit(asset_id: int | None = None, check_id: int | None = None):
    check = _get(AssetCheck, check_id) if check_id else None
    asset = check.asset if check is not None else _get(Asset, asset_id)
    check_type = check.check_type if check else request.args.get("type", "")
    spec = registry().check_types.get(check_type)
    if spec is None:
        if check is None:
            return render_template("admin/check_type.html", asset=asset,
                                   check_types=registry().check_types)
        abort(404)  # a check whose plugin is switched off cannot be edited
    form = forms.CheckForm(obj=check, data=None if check else {
        "interval_seconds": spec.default_interval})
    config = _config_form(check_type, check)
    extra = (config,) if config is not None else ()

    def save() -> AssetCheck:
        data = {k: v for k, v in (config.data if config else {}).items() if k != "csrf_token"}
        return service.save_check(
            db.session, registry(), check, asset=asset, check_type=check_type, config=data,
            interval_seconds=form.interval_seconds.data, timeout_seconds=form.timeout_seconds.data,
            failure_threshold=form.failure_threshold.data,
            recovery_threshold=form.recovery_threshold.data, enabled=form.enabled.data,
            min_interval=int(current_app.config["HEALTH_MIN_INTERVAL_SECONDS"]))

    done = _submit(form, save, i18n.gettext("The health check is saved."),
                   lambda c: url_for("admin.asset_edit", asset_id=asset.id), extra)
    return done or render_template("admin/check.html", form=form, config=config, asset=asset,
                                   spec=spec, check=check)


# --- SLA policies ------------------------------------------------------------------------

@bp.route("/sla")
@admins_only
def sla():
    rows = db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.priority,
                                                         SlaPolicy.category)).all()
    return render_template("admin/sla.html", policies=rows, categories=registry().categories,
                           confirm=forms.ConfirmForm())


@bp.route("/sla/new", methods=["GET", "POST"])
@bp.route("/sla/<int:policy_id>", methods=["GET", "POST"])
@admins_only
def sla_edit(policy_id: int | None = None):
    policy = _get(SlaPolicy, policy_id) if policy_id else None
    form = forms.SlaPolicyForm(obj=policy)
    if policy is not None and request.method != "POST":
        form.category.data = policy.category or ""
    form.category.choices = _category_choices(blank=_l("Any category"))

    def save() -> SlaPolicy:
        return service.save_sla_policy(
            db.session, registry(), policy, priority=parse_id(form.priority.data),
            category=form.category.data or None, response_minutes=form.response_minutes.data,
            resolution_minutes=form.resolution_minutes.data,
            at_risk_ratio=form.at_risk_ratio.data, escalate_on_breach=form.escalate_on_breach.data)

    done = _submit(form, save, i18n.gettext("The SLA policy is saved."),
                   lambda p: url_for("admin.sla"))
    return done or render_template("admin/form.html", form=form,
                                   title=i18n.gettext("SLA policy"), back=url_for("admin.sla"))


@bp.route("/sla/<int:policy_id>/delete", methods=["POST"])
@admins_only
def sla_delete(policy_id: int):
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    _get(SlaPolicy, policy_id)
    service.delete_sla_policy(db.session, policy_id)
    db.session.commit()
    flash(i18n.gettext("The SLA policy is removed."), "success")
    return redirect(url_for("admin.sla"))


# --- plugins -------------------------------------------------------------------------------

@bp.route("/plugins")
@admins_only
def plugins():
    reg = registry()
    settings = {row.name: row.enabled for row in db.session.scalars(select(PluginSetting))}
    # Blocked plugins keep their name in the manager, without a plugin object.
    loaded = [(name, reg.hooks_of(name)) for name in reg.plugin_names()
              if reg.pm.get_plugin(name) is not None]
    switched_off = sorted(name for name, enabled in settings.items() if not enabled)
    # Plugins left out for not fitting the plugin API get a table of their own.
    disabled = [f for f in reg.failures if f.stage == STAGE_API]
    failures = [f for f in reversed(reg.failures) if f.stage != STAGE_API]
    return render_template("admin/plugins.html", loaded=loaded, settings=settings,
                           with_settings=set(reg.settings_forms),
                           switched_off=switched_off, failures=failures,
                           disabled=disabled, deprecations=reg.deprecations,
                           api_version=PLUGIN_API_VERSION, confirm=forms.ConfirmForm(),
                           describe_hook=_describe_hook)


def _describe_hook(name: str) -> str:
    """What implementing hook *name* adds, in words ("load" is the plugin's loading)."""
    if name == "load":
        return i18n.gettext("Loading the plugin")
    described = hookspecs.HOOK_DESCRIPTIONS.get(name)
    return i18n.gettext(described) if described else name


@bp.route("/plugins/<name>", methods=["POST"])
@admins_only
def plugin_toggle(name: str):
    reg = registry()
    known = set(reg.plugin_names()) | set(
        db.session.scalars(select(PluginSetting.name)))
    if name not in known:
        abort(404)
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    enabled = request.form.get("enabled") == "1"
    service.set_plugin_enabled(db.session, name, enabled)
    db.session.commit()
    flash(i18n.gettext("Saved. The change applies when the application next restarts."),
          "success")
    return redirect(url_for("admin.plugins"))


def _settings_form(name: str) -> tuple[type | None, Any]:
    """The plugin's settings form class and an instance for this request; (None, None)
    for a loaded plugin without settings; 404 if no such plugin is loaded. Secrets are
    never filled in."""
    reg = registry()
    if name not in reg.plugin_names() or reg.pm.get_plugin(name) is None:
        abort(404)
    form_class = reg.settings_forms.get(name)
    if form_class is None:
        return None, None
    if request.method == "POST":
        return form_class, form_class(request.form, meta=form_meta())
    stored = plugin_settings.settings_of(db.session, reg, name)
    for secret in plugin_settings.secret_fields(form_class):
        stored.pop(secret, None)
    return form_class, form_class(data=stored, meta=form_meta())


@bp.route("/plugins/<name>", methods=["GET"])
@bp.route("/plugins/<name>/settings", methods=["POST"])
@admins_only
def plugin_settings_edit(name: str):
    """A plugin's settings, validated by its own form and stored in the database."""
    form_class, form = _settings_form(name)
    if form is not None and request.method == "POST":
        if form.validate():
            try:
                plugin_settings.save_settings(
                    db.session, registry(), name,
                    {k: v for k, v in form.data.items() if k != "csrf_token"})
                db.session.commit()
            except HelpdeskError as error:
                db.session.rollback()
                flash_error(error, form)
            else:
                flash(i18n.gettext("The plugin's settings are saved."), "success")
                return redirect(url_for("admin.plugin_settings_edit", name=name))
        else:
            flash(i18n.gettext("Please check the highlighted answers."), "error")
    return render_template(
        "admin/plugin_settings.html", form=form, name=name, hooks=registry().hooks_of(name),
        secrets=plugin_settings.secret_fields(form_class) if form_class else set(),
        action=url_for("admin.plugin_settings_edit", name=name, _method="POST"))
