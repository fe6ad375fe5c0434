"""The access log: recording who opened personal data from a request, and the page where
administrators and coordinators read it (filters, pages, CSV)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional
from wtforms.widgets import TextInput

from helpdesk_core import i18n
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.db import reset_reads_only, set_reads_only
from helpdesk_core.models import AccessKind, AccessRecord, Role, Ticket
from helpdesk_core.services import access_log, tickets

from .admin_forms import TranslatedForm
from .downloads import DATE_FORMAT, csv_response, local_datetime
from .extensions import db
from .input_guard import int_arg
from .web import now, roles_required

bp = Blueprint("access_log", __name__, url_prefix="/dashboard/access-log")

KIND_LABELS = {AccessKind.TICKET: _l("Ticket page"), AccessKind.ATTACHMENT: _l("Attachment"),
               AccessKind.EXPORT: _l("Export"),
               AccessKind.PURGE: _l("Personal data erased")}


def record(kind: str, ticket: Ticket | None = None, target: str = "",
           details: dict[str, Any] | None = None) -> None:
    """Record that the current user opened *kind* (committed before this returns).

    The address is ``request.remote_addr``: the client's, once ProxyFix trusts the
    proxies in front of the app.
    """
    values = dict(user_id=current_user.id, address=request.remote_addr or "",
                  ticket_id=ticket.id if ticket is not None else None, target=target,
                  details=details)
    if db.session.get_bind().dialect.name == "sqlite":
        # A GET reads in a deferred SQLite transaction: end it, and write in one of its
        # own that takes the write lock first (so it queues instead of failing "locked").
        # (On another connection, with the read left open, the WAL could not be
        # checkpointed past the read and grew: every page read slower.)
        db.session.commit()
    # PostgreSQL locks rows, not the database: the record rides the request's own
    # transaction (a commit and a begin fewer).
    token = set_reads_only(False)
    try:
        access_log.record_access(db.session, None, kind, now(), **values)
        tickets.commit(db.session)
    finally:
        reset_reads_only(token)


class AccessLogForm(TranslatedForm):
    """The filters, read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    login = StringField(_l("User (login)"), validators=[Optional(), Length(max=80)])
    ticket = StringField(_l("Ticket number"), validators=[Optional(), Length(max=30)],
                         render_kw={"placeholder": "HKH-2026-00042"})
    kind = SelectField(_l("What"), validators=[Optional()], validate_choice=False)
    start = DateField(_l("From"), format=DATE_FORMAT, validators=[Optional()],
                      widget=TextInput(),
                      render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})
    end = DateField(_l("To"), format=DATE_FORMAT, validators=[Optional()], widget=TextInput(),
                    render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(request.args, **kwargs)
        self.kind.choices = [SelectChoice("", _l("Everything"))] + [
            SelectChoice(k, label) for k, label in KIND_LABELS.items()]


def _local_midnight(day: dt.date) -> dt.datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.timezone.utc)


def _filters(form: AccessLogForm) -> access_log.AccessFilter:
    """The filters asked for; a bad date is shown on its field and ignored."""
    form.validate()
    start = form.start.data if not form.start.errors else None
    end = form.end.data if not form.end.errors else None
    return access_log.AccessFilter(
        user_login=(form.login.data or "").strip() or None,
        ticket_number=(form.ticket.data or "").strip() or None,
        kind=form.kind.data if form.kind.data in AccessKind.ALL else None,
        start=_local_midnight(start) if start else None,
        end=_local_midnight(end + dt.timedelta(days=1)) if end else None)


def _describe(record_: AccessRecord) -> str:
    return str(KIND_LABELS.get(record_.kind, record_.kind))


@bp.route("/")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def index():
    """Who opened which ticket, attachment or export, newest first, 50 a page."""
    form = AccessLogForm()
    filters = _filters(form)
    page = int_arg("page", 1, minimum=1)
    rows, has_next = access_log.search(db.session, filters, page)
    return render_template("access_log/index.html", form=form, rows=rows, page=page,
                           has_next=has_next, describe=_describe,
                           numbers=access_log.ticket_numbers(db.session, rows),
                           retention=int(current_app.config["ACCESS_LOG_RETENTION_DAYS"]))


@bp.route("/access_log.csv")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def export():
    """The same records as CSV (the export itself is recorded too)."""
    form = AccessLogForm()
    filters = _filters(form)
    record(AccessKind.EXPORT, target="access_log.csv",
           details={k: v for k, v in request.args.items() if v})
    header = [i18n.gettext("Time"), i18n.gettext("Login"), i18n.gettext("Name"),
              i18n.gettext("What"), i18n.gettext("Ticket"), i18n.gettext("Object"),
              i18n.gettext("Details"), i18n.gettext("Address")]
    system = i18n.gettext("System")
    labels = {k: str(v) for k, v in KIND_LABELS.items()}

    def rows() -> Iterator[list[Any]]:
        batch: list[AccessRecord] = []
        for item in access_log.iter_records(db.session, filters):
            batch.append(item)
            if len(batch) == access_log.EXPORT_BATCH:
                yield from _csv_rows(batch, labels, system)
                batch = []
        yield from _csv_rows(batch, labels, system)

    day = now().strftime("%Y%m%d")
    return csv_response(f"access_log_{day}.csv", header, rows())


def _csv_rows(batch: list[AccessRecord], labels: dict[str, str],
              system: str) -> Iterator[list[Any]]:
    numbers = access_log.ticket_numbers(db.session, batch)
    for item in batch:
        user = item.user
        yield [local_datetime(item.at), user.login if user else "", user.name if user else system,
               labels.get(item.kind, item.kind), numbers.get(item.ticket_id, ""),
               item.target,
               "; ".join(f"{k}={v}" for k, v in sorted((item.details or {}).items())),
               item.address]
