"""Tickets: the front desk (file, confirm, reopen), the students' queue and the ticket page.

Views parse input, call the service layer and render. Anything outside the user's scope
is a 404 (we do not even say it exists); domain errors become messages on the page.
"""

from __future__ import annotations

from typing import Any

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError, NotFound, ValidationFailed
from helpdesk_core.models import AccessKind, Asset, Role, Status, Ticket, User
from helpdesk_core.services import (attachments, incidents, queries, ratings, readahead, scope,
                                    tickets, workflow)

from . import access_log, outage, queue_table, registry
from .extensions import db
from .incidents import open_now
from .input_guard import int_arg, search_arg
from .ticket_forms import (AttachmentForm, CommentForm, FileTicketForm, RatingForm, ReasonForm,
                           StepForm, TemplateForm)
from .ticket_page import WORKERS, is_htmx, render_ticket
from .web import flash_error, form_meta, now, reads_first, roles_required, today, writing

bp = Blueprint("tickets", __name__, url_prefix="/tickets")


class _Forms:
    """Several forms seen as one, so a domain error's field messages land on the right one."""

    def __init__(self, *forms: Any) -> None:
        self._forms = [f for f in forms if f is not None]

    def __getattr__(self, name: str) -> Any:
        for form in self._forms:
            if name in form._fields:
                return form._fields[name]
        raise AttributeError(name)


# Its ward is on every page and fragment of the ticket: in the same query.
WITH_WARD = (joinedload(Ticket.ward),)
# Showing it: the people, device and files the page lists too, in that query.
FOR_PAGE = WITH_WARD + (joinedload(Ticket.reporter), joinedload(Ticket.assignee),
                        joinedload(Ticket.asset), joinedload(Ticket.attachments))


def _ticket_or_404(ticket_id: int, options: tuple = WITH_WARD) -> Ticket:
    try:
        return scope.get_ticket(db.session, current_user, ticket_id, today(), options)
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
    moment = now()
    rows, has_next = queries.queue_rows(db.session, current_user, today(), filters, moment)
    # Tickets whose SLA clock waits on a city-wide incident (one query, none while no
    # incident is open).
    upstream = (incidents.waiting_ticket_ids(db.session, [t.id for t in rows])
                if open_now() else set())
    return {"tickets": rows, "has_next": has_next, "filters": filters, "now": moment,
            "rows_html": queue_table.rows_html(rows, upstream, registry().categories),
            "refresh": _refresh_seconds()}


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
@reads_first
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
            ticket = _file(form, triage_form, ward, category, _chosen_asset(form, assets))
            if ticket is not None:
                return redirect(url_for("tickets.filed", ticket_id=ticket.id))
        else:
            flash(i18n.gettext("Please check the highlighted answers."), "error")
        status = 400
    return render_template("tickets/file.html", form=form, triage_form=triage_form,
                           category=reg.categories[category], ward=ward), status


def _chosen_asset(form: FileTicketForm, assets: list[queries.AssetChoice]) -> Asset | None:
    """The device the form names, if it is one offered (the picker holds names only)."""
    chosen = form.asset.data
    if not chosen or chosen not in {a.id for a in assets}:
        return None
    return db.session.get(Asset, chosen)


def _choose_scanned_asset(form: FileTicketForm, assets: list[queries.AssetChoice]) -> None:
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
          asset: Asset | None) -> Ticket | None:
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
        moment = now()
        # Checked and masked before the write lock is taken: the lock is for the writes.
        filing = tickets.prepare_filing(
            registry(), ward=ward, category=category, title=form.title.data or "",
            description=form.description.data or "", triage=triage, impact=form.impact,
            urgency=form.urgency, reporter=current_user, asset=asset,
            now=moment, form_key=form.once_key)
        with readahead.kept(db.session):
            tickets.read_ahead_filing(db.session, registry(), ward, moment)
            with writing():  # the write lock from here to the commit only
                ticket = tickets.file_prepared(db.session, registry(), filing)
                # Sent again, the form finds its ticket, perhaps with this photo on it.
                if data is not None and attachments.same_file(db.session, ticket, data) is None:
                    stored = attachments.add_attachment(
                        db.session, registry(), ticket, current_user, upload.filename, data,
                        now(), folder=folder, max_bytes=max_bytes)
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


@bp.route("/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    return render_ticket(_ticket_or_404(ticket_id, FOR_PAGE))


def _back(ticket: Ticket, anchor: str | None = None, top: bool = False):
    """After a change: the fresh fragment for htmx, else back to the page (POST/redirect/GET)."""
    if is_htmx():
        return render_ticket(ticket, top=top)
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
        return render_ticket(ticket, 400, action_forms={action: form})
    assignee = db.session.get(User, form.assignee.data) if form.assignee.data else None
    and_start = action == "claim" and request.form.get("then") == "start"
    rating_form = RatingForm() if action == "confirm" else None
    try:
        if and_start:
            tickets.claim_and_start(db.session, registry(), ticket, current_user, now())
        elif rating_form is not None:
            if not rating_form.validate():
                raise ValidationFailed("Please check the highlighted answers.")
            ratings.confirm(db.session, registry(), ticket, current_user, now(),
                            rating=ratings.parse_rating(rating_form.rating.data),
                            comment=rating_form.rating_comment.data or "")
        else:
            tickets.perform(db.session, registry(), ticket, current_user, action, now(),
                            reason=form.reason.data or "", assignee=assignee)
        tickets.commit(db.session)
    except ValidationFailed as exc:
        tickets.rollback(db.session)
        flash_error(exc, rating_form or form)
        return render_ticket(ticket, 400, action_forms={action: form}, rating_form=rating_form)
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
    return render_ticket(ticket, 400, comment_form=form)


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
        return render_ticket(ticket, 400, template_form=form)
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
    return render_ticket(ticket, 400, attachment_form=form)


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
