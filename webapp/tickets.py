"""Tickets: the front desk (file, confirm, reopen), the students' queue and the ticket page.

Views parse input, call the service layer and render. Anything outside the user's scope
is a 404 (we do not even say it exists); domain errors become messages on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template,
                   request, send_file, url_for)
from flask_login import current_user, login_required
from wtforms import SelectChoice

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError, NotFound, ValidationFailed
from helpdesk_core.models import AccessKind, Role, Status, Ticket, TicketEvent, User
from helpdesk_core.services import attachments, queries, scope, tickets, workflow

from . import access_log, outage, registry
from .extensions import db
from .input_guard import int_arg, search_arg
from .ticket_forms import (AttachmentForm, CommentForm, FileTicketForm, ReasonForm,
                           SimilarForm, StepForm, TemplateForm)
from .web import flash_error, form_meta, now, roles_required, today

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

WORKERS = (Role.STUDENT, Role.COORDINATOR, Role.ADMIN)
CHECK_LABELS = {"ok": i18n.N_("Working"), "warning": i18n.N_("Warning"),
                "failure": i18n.N_("Failing"), "error": i18n.N_("Check error")}
SIMILAR_LIMIT = 5
CHECK_RECORDS_LIMIT = 10


class _Forms:
    """Several forms seen as one, so a domain error's field messages land on the right one."""

    def __init__(self, *forms: Any) -> None:
        self._forms = [f for f in forms if f is not None]

    def __getattr__(self, name: str) -> Any:
        for form in self._forms:
            if name in form._fields:
                return form._fields[name]
        raise AttributeError(name)


def _ticket_or_404(ticket_id: int) -> Ticket:
    try:
        return scope.get_ticket(db.session, current_user, ticket_id, today())
    except NotFound:
        abort(404)


def _refresh_seconds() -> int:
    return max(int(current_app.config["QUEUE_REFRESH_SECONDS"]), 1)


# --- lists ---------------------------------------------------------------------------

def _list_filters(default_status: str | None) -> queries.TicketFilter:
    status = request.args.get("status", default_status)
    if status not in (None, "", "open") and status not in Status.ALL:
        status = default_status
    category = request.args.get("category") or None
    if category not in registry().categories:
        category = None
    return queries.TicketFilter(status=status or None, category=category,
                                ward_id=int_arg("ward") or None,
                                search=search_arg())


@bp.route("/")
@login_required
def index():
    """Every ticket of the user's scope (for ward staff: their ward's), with filters."""
    filters = _list_filters("open")
    page = int_arg("page", 1, minimum=1)
    rows, has_next = queries.list_tickets(db.session, current_user, today(), filters, page)
    return render_template("tickets/index.html", tickets=rows, filters=filters, page=page,
                           has_next=has_next, now=now(), sla_state=queries.sla_state,
                           wards=queries.wards_in_scope(db.session, current_user, today()))


def _queue_context() -> dict[str, Any]:
    filters = _list_filters("open")
    rows, has_next = queries.list_tickets(db.session, current_user, today(), filters, 1)
    return {"tickets": rows, "has_next": has_next, "filters": filters, "now": now(),
            "sla_state": queries.sla_state, "refresh": _refresh_seconds(),
            "can_claim": lambda t: workflow.is_allowed("claim", current_user.role, t.status)
            and t.assignee_id is None}


@bp.route("/queue")
@roles_required(*WORKERS)
def queue():
    """The students' queue: open tickets of their wards, soonest due first."""
    return render_template("tickets/queue.html",
                           wards=queries.wards_in_scope(db.session, current_user, today()),
                           **_queue_context())


@bp.route("/queue/rows")
def queue_rows():
    """The queue's table alone, polled by htmx so new tickets appear without a reload."""
    if not current_user.is_authenticated and request.headers.get("HX-Request"):
        # Logged out meanwhile: send the whole tab to the login page, not into the table.
        return "", 200, {"HX-Redirect": url_for("auth.login", next=url_for("tickets.queue"))}
    return _queue_rows()


@roles_required(*WORKERS)
def _queue_rows():
    return render_template("tickets/_queue_rows.html", **_queue_context())


# --- the front desk --------------------------------------------------------------------

def _staff_ward():
    if current_user.ward is None:
        abort(403)
    return current_user.ward


@bp.route("/new")
@roles_required(Role.STAFF)
def new():
    """Step 1 at the front desk: a big button per category."""
    ward = _staff_ward()
    waiting, _ = queries.list_tickets(db.session, current_user, today(),
                                      queries.TicketFilter(status=Status.RESOLVED), 1, 10)
    return render_template("tickets/new.html", ward=ward,
                           choices=registry().sorted_categories(), waiting=waiting)


@bp.route("/new/<category>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def file(category: str):
    """Step 2: the category's triage questions, a title, and off it goes."""
    ward = _staff_ward()
    reg = registry()
    if category not in reg.categories:
        abort(404)
    form = FileTicketForm()
    assets = queries.ward_assets(db.session, ward.id, category)
    form.asset.choices = [SelectChoice(0, i18n.gettext("Not sure / none"))] + [
        SelectChoice(a.id, f"{a.name} ({a.location})" if a.location else a.name)
        for a in assets]
    if request.method == "GET":
        _choose_scanned_asset(form, assets)
    triage_class = reg.triage_form(category)
    triage_form = (triage_class(formdata=request.form if request.method == "POST" else None,
                                prefix="triage", meta=form_meta())
                   if triage_class is not None else None)
    status = 200
    if request.method == "POST":
        valid = form.validate_on_submit()
        valid = (triage_form.validate() if triage_form is not None else True) and valid
        if valid:
            ticket = _file(form, triage_form, ward, category, {a.id: a for a in assets})
            if ticket is not None:
                return redirect(url_for("tickets.filed", ticket_id=ticket.id))
        else:
            flash(i18n.gettext("Please check the highlighted answers."), "error")
        status = 400
    return render_template("tickets/file.html", form=form, triage_form=triage_form,
                           category=reg.categories[category], ward=ward), status


def _choose_scanned_asset(form: FileTicketForm, assets: list) -> None:
    """``?asset=<id>`` (a scanned QR sticker) chooses that device, if it is one offered,
    and names the request after it: the symptom and "send" are all that is left to tap."""
    chosen = request.args.get("asset", "")
    offered = {a.id: a for a in assets}
    if len(chosen) <= 9 and chosen.isascii() and chosen.isdigit() and int(chosen) in offered:
        form.asset.data = int(chosen)
        form.title.data = offered[int(chosen)].name


@outage.keeps_form("tickets.file")
def _file_form_during_outage(category: str) -> str | None:
    """The filing form as it was sent, when the database could not take it.

    A citizen is often waiting: nothing typed may be lost. Only the registry (no
    database) is needed; the device list is reduced to the one chosen.
    """
    reg = registry()
    if category not in reg.categories:
        return None
    form = FileTicketForm()
    form.asset.choices = [SelectChoice(0, i18n.gettext("Not sure / none"))]
    if form.asset.data:
        form.asset.choices.append(SelectChoice(form.asset.data,
                                               i18n.gettext("The device you chose")))
    triage_class = reg.triage_form(category)
    triage_form = (triage_class(formdata=request.form, prefix="triage", meta=form_meta())
                   if triage_class is not None else None)
    upload = request.files.get("photo")
    if upload is not None and upload.filename:
        form.photo.errors = [i18n.gettext(
            "Please choose the photo again: the browser cannot keep it.")]
    flash(outage.message(), "error")
    return render_template("tickets/file.html", form=form, triage_form=triage_form,
                           category=reg.categories[category], ward=None)


def _file(form: FileTicketForm, triage_form: Any, ward, category: str,
          assets: dict) -> Ticket | None:
    folder = current_app.config["UPLOAD_FOLDER"]
    max_bytes = int(current_app.config["ATTACHMENT_MAX_BYTES"])
    upload = form.photo.data
    data = upload.stream.read(max_bytes + 1) if upload is not None and upload.filename else None
    triage = ({k: v for k, v in triage_form.data.items() if k != "csrf_token"}
              if triage_form is not None else {})
    stored = None
    try:
        if data is not None:
            attachments.check_upload(data, max_bytes)  # before anything is written
        ticket = tickets.file_ticket(
            db.session, registry(), ward=ward, category=category, title=form.title.data or "",
            description=form.description.data or "", triage=triage, impact=form.impact,
            urgency=form.urgency, reporter=current_user, asset=assets.get(form.asset.data),
            now=now(), form_key=form.once_key)
        # Sent again, the form finds its ticket, perhaps with this photo on it already.
        if data is not None and attachments.same_file(db.session, ticket, data) is None:
            stored = attachments.add_attachment(db.session, registry(), ticket, current_user,
                                                upload.filename, data, now(), folder=folder,
                                                max_bytes=max_bytes)
        tickets.commit(db.session)
        return ticket
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        if stored is not None:
            attachments.discard(folder, stored)
        flash_error(exc, _Forms(form, triage_form))
        return None
    except Exception:
        tickets.rollback(db.session)
        if stored is not None:
            attachments.discard(folder, stored)
        raise


@bp.route("/<int:ticket_id>/filed")
@login_required
def filed(ticket_id: int):
    """The confirmation: the number to tell the citizen or write down."""
    ticket = _ticket_or_404(ticket_id)
    return render_template("tickets/filed.html", ticket=ticket)


# --- the ticket page -------------------------------------------------------------------

def _describe(event: TicketEvent, names: dict[int, User]) -> str:
    """One history entry as a sentence in the user's language."""
    label = lambda s: i18n.gettext(workflow.STATUS_LABELS.get(s or "", s or ""))  # noqa: E731
    kind = event.kind
    if kind == "filed":
        return i18n.gettext("Filed (priority P%(priority)s).",
                            priority=(event.data or {}).get("priority", "?"))
    if kind == "status":
        return i18n.gettext("Status changed from %(old)s to %(new)s.",
                            old=label(event.old_value), new=label(event.new_value))
    if kind == "assigned":
        person = names.get(int(event.new_value)) if (event.new_value or "").isdigit() else None
        return i18n.gettext("Assigned to %(name)s.",
                            name=person.name if person else i18n.gettext("someone"))
    if kind == "comment":
        return (i18n.gettext("Internal note.") if event.internal
                else i18n.gettext("Comment."))
    if kind == "escalated":
        if event.new_value == str(workflow.LEVEL_CITY):
            return i18n.gettext("Escalated to the city hotline 1022.")
        return i18n.gettext("Escalated to the vendor.")
    if kind == "priority":
        return i18n.gettext("Priority changed from P%(old)s to P%(new)s.",
                            old=event.old_value, new=event.new_value)
    if kind == "sla_at_risk":
        return i18n.gettext("The deadline is near.")
    if kind == "sla_breached":
        return i18n.gettext("The deadline has passed.")
    if kind == "checklist":
        data = event.data or {}
        if "step" in data:
            return (i18n.gettext("Step %(n)s done.", n=data["step"] + 1) if data.get("done")
                    else i18n.gettext("Step %(n)s marked not done.", n=data["step"] + 1))
        template = registry().templates.get((event.ticket.category, data.get("template")))
        return i18n.gettext("Checklist chosen: %(title)s.",
                            title=str(template.title) if template else data.get("template", ""))
    if kind == "health":
        return i18n.gettext("Health check reported a problem.")
    if kind == "recovery":
        return i18n.gettext("The device is working again.")
    if kind == "attachment":
        return i18n.gettext("File attached.")
    if kind == "triage":
        return i18n.gettext("Triage answers changed.")
    if kind == "purged":
        data = event.data or {}
        return i18n.gettext("Citizens' personal data erased after the retention period "
                            "(%(texts)d texts, %(files)d files).",
                            texts=data.get("texts", 0), files=data.get("attachments", 0))
    return kind


def _action_forms(ticket: Ticket, actions: list[str],
                  posted: dict[str, ReasonForm] | None = None) -> dict[str, ReasonForm]:
    forms: dict[str, ReasonForm] = {}
    students = None
    for name in actions:
        form = (posted or {}).get(name) or ReasonForm(prefix=name, formdata=None)
        if name == "assign":
            if students is None:
                students = queries.ward_students(db.session, ticket.ward_id, today())
            form.assignee.choices = [SelectChoice(0, i18n.gettext("Choose a student"))] + [
                SelectChoice(s.id, s.name) for s in students]
        if name == "resolve":  # staff read it before they confirm: say what it is for
            form.reason.label.text = i18n.gettext("What was done")
        forms[name] = form
    return forms


@dataclass(frozen=True)
class Resolution:
    """What was done, shown next to the confirm button of a resolved ticket."""

    note: str
    by: User | None
    at: Any
    steps: list[str]


def _resolution(ticket: Ticket, events: list[TicketEvent], chosen: Any) -> Resolution | None:
    """The latest move to "resolved" with its note, and the checklist steps ticked."""
    if ticket.status != Status.RESOLVED:
        return None
    moves = [e for e in events if e.kind == "status" and e.new_value == Status.RESOLVED]
    if not moves:
        return None
    done = set((ticket.checklist or {}).get("done", []))
    steps = [str(step) for i, step in enumerate(chosen.steps) if i in done] if chosen else []
    return Resolution(moves[-1].body or "", moves[-1].actor, moves[-1].created_at, steps)


def _template_form(ticket: Ticket, chosen_key: str | None) -> TemplateForm:
    """The checklist picker on the one in use, else on the one the plugin suggests."""
    suggested = registry().suggest_template(ticket.category, ticket.triage or {})
    key = chosen_key or (suggested.key if suggested else None)
    return TemplateForm(formdata=None, data={"template": key} if key else None)


def is_htmx() -> bool:
    """The request comes from htmx on the ticket page: answer with the fragment only."""
    return request.headers.get("HX-Request") == "true"


def _render_ticket(ticket: Ticket, status: int = 200, top: bool = False, **posted: Any):
    """The ticket page, or for htmx the ticket's fragment (``tickets/_ticket.html``).

    *top*: the news is at the top (a message, a new status): htmx scrolls up to it.
    """
    reg = registry()
    user = current_user._get_current_object()
    day = today()
    actions = tickets.allowed_actions(db.session, ticket, user, day)
    events = queries.ticket_events(db.session, user, ticket)
    names = queries.users_by_id(db.session, [int(e.new_value) for e in events
                                             if e.kind == "assigned"
                                             and (e.new_value or "").isdigit()])
    history = [(e, _describe(e, names)) for e in events]
    comments = [e for e in events if e.kind == "comment"]
    works = user.role in WORKERS
    try:  # the core decides who may pick and tick checklists
        tickets.check_action_scope(db.session, ticket, user, day)
        can_work = True
    except HelpdeskError:
        can_work = False
    templates = reg.templates_for(ticket.category)
    chosen_key = (ticket.checklist or {}).get("template")
    chosen = reg.templates.get((ticket.category, chosen_key)) if chosen_key else None
    template_form = posted.get("template_form") or _template_form(ticket, chosen_key)
    template_form.template.choices = [SelectChoice(t.key, str(t.title)) for t in templates]
    suggested = (None if chosen or not can_work
                 else reg.suggest_template(ticket.category, ticket.triage or {}))
    similar_form = SimilarForm(request.args)
    similar = (queries.similar_resolved(db.session, user, ticket, day, SIMILAR_LIMIT,
                                        similar_form.q.data or "") if works else [])
    asset = ticket.asset
    records = (queries.recent_check_records(db.session, asset, CHECK_RECORDS_LIMIT)
               if asset is not None and works else [])
    fragment = is_htmx()
    page = render_template(
        "tickets/_ticket.html" if fragment else "tickets/show.html", fragment=fragment,
        ticket=ticket, now=now(), sla_state=queries.sla_state,
        summary=reg.triage_summary(ticket.category, ticket.triage or {}),
        actions=actions, action_forms=_action_forms(ticket, actions, posted.get("action_forms")),
        action_labels={k: i18n.gettext(v.label) for k, v in workflow.ACTIONS.items()},
        needs_reason={k for k, v in workflow.ACTIONS.items() if v.needs_reason},
        history=history, comments=comments, comment_form=posted.get("comment_form") or CommentForm(formdata=None),
        attachment_form=posted.get("attachment_form") or AttachmentForm(formdata=None),
        resolution=_resolution(ticket, events, chosen),
        templates=templates, chosen=chosen, suggested=suggested,
        done=set((ticket.checklist or {}).get("done", [])),
        template_form=template_form, can_work=can_work, works=works,
        similar=similar, similar_form=similar_form, asset=asset, records=records,
        check_label=lambda s: i18n.gettext(CHECK_LABELS.get(s, s)))
    # Every showing of the page, a re-shown form or a fragment included, is an access to
    # citizens' data.
    access_log.record(AccessKind.TICKET, ticket=ticket)
    headers = {}
    g.htmx_fragment = fragment  # its errors are inside it (webapp/errors.py)
    if fragment and top:  # the news is at the top (a new status, an error): show it
        headers["HX-Reswap"] = "outerHTML show:window:top"
    return page, status, headers


@bp.route("/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    return _render_ticket(_ticket_or_404(ticket_id))


def _back(ticket: Ticket, anchor: str | None = None, top: bool = False):
    """After a change: the fresh fragment for htmx, else back to the page (POST/redirect/GET)."""
    if is_htmx():
        return _render_ticket(ticket, top=top)
    return redirect(url_for("tickets.show", ticket_id=ticket.id, _anchor=anchor))


@bp.before_request
def _htmx_needs_a_session():
    """Logged out meanwhile (another tab, a new password): the login page must take the
    whole tab, not land inside the ticket; it brings the user back to the ticket."""
    if is_htmx() and not current_user.is_authenticated:
        back = (url_for("tickets.show", ticket_id=request.view_args["ticket_id"])
                if request.view_args and "ticket_id" in request.view_args
                else url_for("tickets.queue"))
        return "", 200, {"HX-Redirect": url_for("auth.login", next=back)}
    return None


@bp.route("/<int:ticket_id>/do/<action>", methods=["POST"])
@login_required
def act(ticket_id: int, action: str):
    """Run one lifecycle action (claim, start, resolve, confirm, reopen, escalate, ...)."""
    ticket = _ticket_or_404(ticket_id)
    if action not in workflow.ACTIONS:
        abort(404)
    form = ReasonForm(prefix=action)
    if action == "assign":
        form.assignee.choices = [SelectChoice(0, "")]
    if not form.validate():
        flash(i18n.gettext("Please check the highlighted answers."), "error")
        return _render_ticket(ticket, 400, action_forms={action: form})
    assignee = db.session.get(User, form.assignee.data) if form.assignee.data else None
    and_start = action == "claim" and request.form.get("then") == "start"
    try:
        if and_start:
            tickets.claim_and_start(db.session, registry(), ticket, current_user, now())
        else:
            tickets.perform(db.session, registry(), ticket, current_user, action, now(),
                            reason=form.reason.data or "", assignee=assignee)
        tickets.commit(db.session)
    except ValidationFailed as exc:
        tickets.rollback(db.session)
        flash_error(exc, form)
        return _render_ticket(ticket, 400, action_forms={action: form})
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        flash(exc.localized(), "error")
        if action == "claim" and request.form.get("from") == "queue":
            return redirect(url_for("tickets.queue"))
        return _back(ticket, top=True)
    label = (i18n.gettext("Claim and start") if and_start
             else i18n.gettext(workflow.ACTIONS[action].label))
    flash(i18n.gettext("Done: %(action)s.", action=label), "success")
    return _back(ticket, top=True)


@bp.route("/<int:ticket_id>/comment", methods=["POST"])
@login_required
def comment(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    form = CommentForm()
    if form.validate():
        try:
            tickets.comment(db.session, registry(), ticket, current_user, form.body.data or "",
                            now(), internal=bool(form.internal.data), form_key=form.once_key)
            tickets.commit(db.session)
            flash(i18n.gettext("Comment added."), "success")
            return _back(ticket, anchor="comments")
        except HelpdeskError as exc:
            tickets.rollback(db.session)
            flash_error(exc, form)
    else:
        flash(i18n.gettext("Please check the highlighted answers."), "error")
    return _render_ticket(ticket, 400, comment_form=form)


@outage.keeps_form("tickets.act")
def _action_during_outage(ticket_id: int, action: str) -> str | None:
    """A lifecycle action's reason (a resolution note, say) as it was typed."""
    if action not in workflow.ACTIONS:
        return None
    form = ReasonForm(prefix=action)
    if action == "assign":
        form.assignee.choices = [SelectChoice(form.assignee.data or 0,
                                              i18n.gettext("The student you chose"))]
    else:
        del form.assignee
    return outage.render_kept_form(
        form, i18n.gettext(workflow.ACTIONS[action].label),
        back_url=url_for("tickets.show", ticket_id=ticket_id),
        back_label=i18n.gettext("Back to the ticket"))


@outage.keeps_form("tickets.comment")
def _comment_during_outage(ticket_id: int) -> str:
    """The comment as it was typed, when the database could not take it."""
    return outage.render_kept_form(
        CommentForm(), i18n.gettext("Your comment was not saved"),
        back_url=url_for("tickets.show", ticket_id=ticket_id),
        back_label=i18n.gettext("Back to the ticket"))


@bp.route("/<int:ticket_id>/checklist", methods=["POST"])
@login_required
def choose_template(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    form = TemplateForm()
    try:
        tickets.choose_template(db.session, registry(), ticket, current_user,
                                form.template.data or "", now())
        tickets.commit(db.session)
    except ValidationFailed as exc:
        tickets.rollback(db.session)
        flash_error(exc, form)
        return _render_ticket(ticket, 400, template_form=form)
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        flash(exc.localized(), "error")
        return _back(ticket, anchor="checklist", top=True)
    return _back(ticket, anchor="checklist")


@bp.route("/<int:ticket_id>/checklist/<int:step>", methods=["POST"])
@login_required
def tick(ticket_id: int, step: int):
    ticket = _ticket_or_404(ticket_id)
    form = StepForm()
    try:
        tickets.tick_step(db.session, registry(), ticket, current_user, step,
                          bool(form.done.data), now(), template=form.template.data or None)
        tickets.commit(db.session)
    except HelpdeskError as exc:
        tickets.rollback(db.session)
        flash(exc.localized(), "error")
        return _back(ticket, anchor="checklist", top=True)
    return _back(ticket, anchor="checklist")


@bp.route("/<int:ticket_id>/attachments", methods=["POST"])
@login_required
def attach(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    form = AttachmentForm()
    folder = current_app.config["UPLOAD_FOLDER"]
    max_bytes = int(current_app.config["ATTACHMENT_MAX_BYTES"])
    upload = form.photo.data
    stored = None
    if form.validate():
        try:
            data = upload.stream.read(max_bytes + 1) if upload is not None and upload.filename else b""
            if attachments.same_file(db.session, ticket, data) is None:  # not sent twice
                stored = attachments.add_attachment(
                    db.session, registry(), ticket, current_user,
                    upload.filename if upload else "", data, now(), folder=folder,
                    max_bytes=max_bytes)
            tickets.commit(db.session)
            flash(i18n.gettext("File attached."), "success")
            return _back(ticket, anchor="attachments")
        except HelpdeskError as exc:
            tickets.rollback(db.session)
            if stored is not None:
                attachments.discard(folder, stored)
            flash_error(exc, form)
    return _render_ticket(ticket, 400, attachment_form=form)


@bp.route("/<int:ticket_id>/attachments/<int:attachment_id>")
@login_required
def attachment(ticket_id: int, attachment_id: int):
    """The file, only for users who can see the ticket."""
    ticket = _ticket_or_404(ticket_id)
    try:
        item = attachments.get_attachment(db.session, current_user, ticket, attachment_id,
                                          today())
    except NotFound:
        abort(404)
    path = attachments.path_of(current_app.config["UPLOAD_FOLDER"], item)
    access_log.record(AccessKind.ATTACHMENT, ticket=ticket,
                      target=f"{item.id} {item.filename}")
    try:
        response = send_file(path, mimetype=item.content_type, download_name=item.filename,
                             as_attachment=item.content_type == "application/pdf",
                             max_age=0)
    except FileNotFoundError:
        abort(404)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
