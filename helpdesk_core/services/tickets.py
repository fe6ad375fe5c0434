"""Filing tickets and moving them through their lifecycle; every change leaves an event.

Entry points call these functions and then :func:`commit`, which commits and then tells
plugins about the new events (``helpdesk_on_ticket_event``). Nothing here commits.

* :func:`file_ticket` validates, numbers (:func:`next_sequence`), computes priority and
  SLA targets, records ``filed`` and, in wards with ``auto_assign``, hands the ticket to
  the on-duty student with the fewest open tickets (:mod:`.assignment`).
* :func:`perform` runs one action of :data:`.workflow.ACTIONS` as a user or as the
  system (``actor=None``): it checks scope, role and status first and raises a domain
  error without changing anything when the move is not allowed.
* :func:`auto_close` closes resolved tickets nobody reopened within N working days.

History: every change records a :class:`~helpdesk_core.models.TicketEvent` with the
actor (None for the system), the time, and the old and new values. Kinds: ``filed``,
``status`` (old/new status, ``data["action"]``), ``assigned`` (old/new user id),
``escalated`` (old/new level), ``priority``, ``comment``, ``checklist``,
``sla_at_risk`` and ``sla_breached`` (``data["target"]``: response or resolution).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import i18n
from ..db import upsert_insert
from ..errors import (Conflict, HelpdeskError, NotFound, PermissionDenied,
                      TransitionNotAllowed, ValidationFailed)
from ..models import (Asset, AssetCheck, Role, Source, Status, Ticket, TicketCounter,
                      TicketEvent, User, Ward)
from ..plugins import PluginRegistry
from ..privacy import mask_in, mask_personal_data
from ..text import fold, nfc
from . import assignment, scope, sla, workflow
# Imported for its events.on_record listener: every event writes its notifications.
from . import outbox  # noqa: F401
# Re-exported: callers have always found the event helpers here.
from .events import (_PENDING, VIA_KEY, commit, record_event,  # noqa: F401
                     rollback, savepoint)

log = logging.getLogger(__name__)

IMPACTS = ("center", "several", "person")
CITIZEN_WAITING = "citizen_waiting"
URGENCIES = (CITIZEN_WAITING, "today", "normal")

# Priority from impact (rows) and urgency (columns): 1 is the most urgent.
PRIORITY_MATRIX: dict[tuple[str, str], int] = {
    ("center", "citizen_waiting"): 1, ("center", "today"): 1, ("center", "normal"): 2,
    ("several", "citizen_waiting"): 1, ("several", "today"): 2, ("several", "normal"): 3,
    ("person", "citizen_waiting"): 2, ("person", "today"): 3, ("person", "normal"): 4,
}

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
COMMENT_MAX = 5000



def role_of(actor: User | None) -> str:
    """The actor's role; None is the system (scheduler, automation)."""
    return actor.role if actor is not None else Role.SYSTEM


def priority_from(impact: str, urgency: str) -> int:
    """The priority (1 most urgent - 4) of :data:`PRIORITY_MATRIX` for impact x urgency."""
    return PRIORITY_MATRIX[(impact, urgency)]


def initial_priority(registry: PluginRegistry, category: str, impact: str, urgency: str,
                     triage: Mapping[str, Any]) -> tuple[int, str]:
    """The priority a new ticket gets, and why (empty: the matrix alone), before staff
    override it: the more urgent of

    * the impact x urgency matrix (:func:`priority_from`; nothing ticked gives 4), and
    * the triage's ``helpdesk_suggest_priority`` (with the plugin's reason) or, when the
      triage suggests nothing, the category's ``priority_hint``.

    Ticking impact or urgency can only make a ticket more urgent, never less.
    """
    priority, reason = priority_from(impact, urgency), ""
    suggestion = registry.suggest_priority(category, triage)
    known = registry.categories.get(category)
    if suggestion is not None:
        if suggestion.priority < priority:
            priority, reason = suggestion.priority, str(suggestion.reason)
    elif known is not None and known.priority_hint < priority:
        priority = known.priority_hint
        reason = i18n.gettext("Usual priority of the category %(category)s",
                              category=str(known.label))
    return priority, reason


# --- numbering --------------------------------------------------------------------

def next_sequence(session: Session, ward_id: int, year: int,
                  form_key: str | None = None) -> int | None:
    """The next ticket sequence of a ward and year.

    One atomic ``UPDATE ... RETURNING`` on a counter row: the row stays locked until the
    filing transaction ends, so concurrent filers queue and no number repeats.

    With *form_key*, the same statement checks that no ticket has that key yet and takes
    no number (returns None) if one has: a form sent again costs no statement more.
    """
    # On the session's connection, not through the ORM: a plain statement, built once.
    connection = session.connection()
    key = {"counter_ward": ward_id, "counter_year": year}
    if form_key is None:
        seq = connection.execute(_BUMP_COUNTER, key).scalar_one_or_none()
    else:
        seq = connection.execute(_BUMP_COUNTER_UNLESS_FILED,
                                 {**key, "counter_form_key": form_key}).scalar_one_or_none()
    if seq is not None:  # the usual case: one statement
        return seq
    if form_key is not None and connection.execute(_FILED_WITH,
                                                   {"counter_form_key": form_key}).first():
        return None
    # The ward's first ticket of the year: create the counter (a concurrent filer may
    # create it first; then ours does nothing) and bump it.
    insert = upsert_insert(connection.dialect.name)
    connection.execute(insert(TicketCounter).values(ward_id=ward_id, year=year, last_seq=0)
                       .on_conflict_do_nothing())
    return connection.execute(_BUMP_COUNTER, key).scalar_one()


_counter = TicketCounter.__table__
_BUMP_COUNTER = (update(_counter)
                 .where(_counter.c.ward_id == bindparam("counter_ward"),
                        _counter.c.year == bindparam("counter_year"))
                 .values(last_seq=_counter.c.last_seq + 1)
                 .returning(_counter.c.last_seq))
_UNBUMP_COUNTER = (update(_counter)
                   .where(_counter.c.ward_id == bindparam("counter_ward"),
                          _counter.c.year == bindparam("counter_year"))
                   .values(last_seq=_counter.c.last_seq - 1))
_tickets = Ticket.__table__
_FILED_WITH = select(_tickets.c.id).where(_tickets.c.form_key == bindparam("counter_form_key"))
_BUMP_COUNTER_UNLESS_FILED = _BUMP_COUNTER.where(~exists(_FILED_WITH))


def format_number(ward_code: str, year: int, seq: int) -> str:
    """The ticket number shown to people: ``HCH-2026-00042``."""
    return f"{ward_code}-{year}-{seq:05d}"


# --- filing -----------------------------------------------------------------------

def validate_triage(registry: PluginRegistry, category: str,
                    triage: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate triage answers with the category's plugin form; return JSON-safe data."""
    form_class = registry.triage_form(category)
    if form_class is None:
        return {}
    # WTForms' own messages ("Not a valid choice.") in the caller's language too: the
    # web wraps plugin forms itself, but the API and the CLI come straight here.
    form = form_class(data=dict(triage or {}), meta={
        "csrf": False, "get_translations": lambda _form: i18n.WTFormsTranslations()})
    for field in form:
        # Built from data= (not a request), fields have no raw input, and validators such
        # as Optional() would then stop the chain before Length() and the like run.
        if not field.raw_data and field.data not in (None, "", [], False):
            field.raw_data = [field.data if isinstance(field.data, str) else str(field.data)]
    if not form.validate():
        raise ValidationFailed("Please check the highlighted answers.",
                               field_errors={k: [str(e) for e in v] for k, v in form.errors.items()})
    return {name: _jsonable(value) for name, value in form.data.items()
            if name != "csrf_token"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return nfc(value).strip()
    return value


def file_ticket(session: Session, registry: PluginRegistry, *, ward: Ward, category: str,
                title: str, now: dt.datetime, description: str = "",
                triage: Mapping[str, Any] | None = None, impact: str = "person",
                urgency: str = "normal", source: str = Source.FRONT_DESK,
                reporter: User | None = None, asset: Asset | None = None,
                check: AssetCheck | None = None, priority_override: int | None = None,
                override_reason: str = "", form_key: str | None = None) -> Ticket:
    """File a new ticket: :func:`prepare_filing`, then :func:`file_prepared`.

    Validates the category, the triage answers (through the category's plugin), title,
    impact and urgency; masks citizen ID and phone numbers in all text; computes the
    priority and the SLA due times; numbers the ticket; records a ``filed`` event.

    *form_key* makes filing idempotent: the one-time key of the form being sent. If that
    key already filed a ticket (a clerk sending again after a timeout), that ticket is
    returned and nothing new is filed, even when both sends race (a unique index).

    :raises ValidationFailed: with ``field_errors`` for the form fields at fault.
    :raises PermissionDenied: staff filing for another ward.
    :raises Conflict: the key filed a ticket of another reporter.
    """
    filing = prepare_filing(
        registry, ward=ward, category=category, title=title, now=now,
        description=description, triage=triage, impact=impact, urgency=urgency,
        source=source, reporter=reporter, asset=asset, check=check,
        priority_override=priority_override, override_reason=override_reason,
        form_key=form_key)
    return file_prepared(session, registry, filing)


@dataclass(frozen=True)
class Filing:
    """A ticket checked and ready to be written (:func:`prepare_filing`): its columns,
    with the text masked and the priority set, and the moment it is filed."""

    fields: dict[str, Any]
    now: dt.datetime


def prepare_filing(registry: PluginRegistry, *, ward: Ward, category: str, title: str,
                   now: dt.datetime, description: str = "",
                   triage: Mapping[str, Any] | None = None, impact: str = "person",
                   urgency: str = "normal", source: str = Source.FRONT_DESK,
                   reporter: User | None = None, asset: Asset | None = None,
                   check: AssetCheck | None = None, priority_override: int | None = None,
                   override_reason: str = "", form_key: str | None = None) -> Filing:
    """The checks, masking and priority of :func:`file_ticket`, without the database:
    the web does them before it takes SQLite's write lock, which another worker's
    filing then waits for less (bench/RESULTS.md).

    :raises ValidationFailed: with ``field_errors`` for the form fields at fault.
    :raises PermissionDenied: staff filing for another ward.
    """
    errors: dict[str, list[str]] = {}
    title = nfc(title).strip()
    description = nfc(description).strip()
    if category not in registry.categories:
        errors["category"] = [i18n.gettext("Choose a category.")]
    if not title:
        errors["title"] = [i18n.gettext("Please give a short title.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [i18n.gettext("At most %(max)d characters.", max=TITLE_MAX)]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [i18n.gettext("At most %(max)d characters.", max=DESCRIPTION_MAX)]
    if impact not in IMPACTS:
        errors["impact"] = [i18n.gettext("Choose who is affected.")]
    if urgency not in URGENCIES:
        errors["urgency"] = [i18n.gettext("Choose how urgent it is.")]
    if priority_override is not None:
        if priority_override not in (1, 2, 3, 4):
            errors["priority"] = [i18n.gettext("Priority must be between 1 and 4.")]
        elif not override_reason.strip():
            errors["priority_reason"] = [i18n.gettext("Say why you change the priority.")]
    if asset is not None and asset.ward_id not in (None, ward.id):
        errors["asset"] = [i18n.gettext("This device belongs to another ward.")]
    if reporter is not None and reporter.role == Role.STAFF and reporter.ward_id != ward.id:
        raise PermissionDenied("You can only file tickets for your own ward.")
    triage_data: dict[str, Any] = {}
    if source == Source.HEALTH_CHECK:
        # Triage forms are questions for a person at the desk; a health check has none
        # to answer, and what it observed goes into the ticket's history instead.
        triage_data = {key: _jsonable(value) for key, value in (triage or {}).items()}
    elif category in registry.categories:
        try:
            triage_data = validate_triage(registry, category, triage)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    if errors:
        raise ValidationFailed("Please check the highlighted answers.", field_errors=errors)

    priority, reason = initial_priority(registry, category, impact, urgency, triage_data)
    if priority_override is not None:
        priority, reason = priority_override, override_reason.strip()

    fields = dict(ward=ward, category=category, title=mask_personal_data(title),
                  description=mask_personal_data(description), triage=mask_in(triage_data),
                  impact=impact, urgency=urgency, priority=priority,
                  priority_reason=mask_personal_data(reason), status=Status.NEW,
                  citizen_waiting=urgency == CITIZEN_WAITING, source=source,
                  reporter=reporter, asset=asset, check=check, form_key=form_key,
                  created_at=now, updated_at=now)
    return Filing(fields, now)


def file_prepared(session: Session, registry: PluginRegistry, filing: Filing) -> Ticket:
    """Write a :func:`prepare_filing` ticket: number it, add it with its SLA due times
    and its ``filed`` event, and assign it if its ward assigns by itself (no commit).

    :raises Conflict: its form key filed a ticket of another reporter.
    """
    fields, now = dict(filing.fields), filing.now
    ticket = _insert_ticket(session, registry, fields, now)
    if ticket is None:
        # Sent again (the counter's statement saw the key), or twice at once (the other
        # send filed it first and has committed); no number was taken.
        filed = filed_with(session, fields["form_key"], fields["reporter"])
        if filed is None:  # the other send's ticket is gone again (deleted)
            raise Conflict("This form has already been sent. Open a new form.")
        return filed
    if fields["ward"].auto_assign:
        auto_assign(session, registry, ticket, now)
    return ticket


def read_ahead_filing(session: Session, registry: PluginRegistry | None, ward: Ward,
                      now: dt.datetime) -> None:
    """Inside :func:`.readahead.kept`, read what filing a ticket in *ward* at *now* will
    read after its first write (the ward's calendar with the SLA policies, the outbox's
    people), so that on SQLite the filing holds the write lock for its writes only."""
    sla.calendar_for(session, ward)
    outbox.read_ahead_filing(session, registry, ward.id, now)


def _insert_ticket(session: Session, registry: PluginRegistry, fields: dict[str, Any],
                   now: dt.datetime) -> Ticket | None:
    """Number the ticket, add it with its SLA targets and its ``filed`` event, flush.

    None, with no number taken, when its ``form_key`` filed a ticket already.
    """
    ward, form_key = fields["ward"], fields["form_key"]
    year = now.astimezone(sla_timezone()).year
    seq = next_sequence(session, ward.id, year, form_key)
    if seq is None:
        return None
    ticket = Ticket(year=year, seq=seq, number=format_number(ward.code, year, seq), **fields)
    ticket.search_text = search_text_of(ticket)
    if form_key is None:
        session.add(ticket)
    with session.no_autoflush:  # one INSERT with the due times, not an INSERT then an UPDATE
        sla.set_targets(session, ticket, now)
    if form_key is not None:
        ticket = _insert_unless_filed(session, ticket)
        if ticket is None:
            # Sent twice at once: the other send filed it (and committed) while this one
            # waited for the counter's row. This one still holds that row, so nobody took
            # a number after its own: giving it back leaves no gap.
            session.connection().execute(_UNBUMP_COUNTER, {"counter_ward": ward.id,
                                                           "counter_year": year})
            return None
    record_event(session, registry, ticket, "filed", ticket.reporter, now, new=Status.NEW,
                 data={"priority": ticket.priority, "source": ticket.source})
    session.flush()  # the ticket and its first event in one unit of work; ids for callers
    return ticket


def _insert_unless_filed(session: Session, ticket: Ticket) -> Ticket | None:
    """INSERT the (transient) *ticket* unless a ticket has its ``form_key`` (``ON CONFLICT
    DO NOTHING``: no SAVEPOINT to survive a unique violation); the row as a persistent
    ticket, or None."""
    related = (ticket.ward, ticket.reporter, ticket.asset, ticket.check)
    if any(obj is not None and obj.id is None for obj in related):
        session.flush()  # pending people or devices: their ids
    values = {name: value for name in _TICKET_COLUMNS
              if (value := getattr(ticket, name)) is not None}
    values.update({fk: obj.id for fk, obj in zip(_TICKET_FOREIGN_KEYS, related)
                   if obj is not None})
    return session.scalars(_ticket_insert(session.get_bind().dialect.name),
                           [values]).first()


_TICKET_COLUMNS = tuple(attr.key for attr in Ticket.__mapper__.column_attrs)
_TICKET_FOREIGN_KEYS = ("ward_id", "reporter_id", "asset_id", "check_id")


@functools.lru_cache(maxsize=None)
def _ticket_insert(dialect_name: str) -> Any:
    """The ticket's INSERT ... ON CONFLICT (form_key) DO NOTHING RETURNING, built once per
    engine kind (its cache key too; the row's values come as parameters), with only that
    dialect's module imported (db.upsert_insert)."""
    return (upsert_insert(dialect_name)(Ticket)
            .on_conflict_do_nothing(index_elements=[Ticket.form_key]).returning(Ticket))


def auto_assign(session: Session, registry: PluginRegistry | None, ticket: Ticket,
                now: dt.datetime) -> User | None:
    """Assign a new, unassigned ticket to the student :func:`.assignment.choose` picks
    (on duty, skilled, least busy); return them.

    Does nothing (returns None) when the ticket is not new, already has an assignee, or
    nobody is on duty: it then waits in the ward's queue, and the coordinators' dashboard
    lists it (``roster.waiting_list``). Does not look at
    ``Ward.auto_assign`` (the caller decides); does not commit.

    Two tickets filed at the same moment may both go to the same student (the counts are
    read without a lock); the balance evens out with the next tickets.
    """
    if ticket.status != Status.NEW or ticket.assignee_id is not None:
        return None
    session.flush()  # count the tickets filed in this transaction too
    chosen = assignment.choose(assignment.candidates_for(
        session, ticket.ward_id, ticket.category, now, sla_timezone().key))
    if chosen is None:
        return None
    student = session.get(User, chosen)
    perform(session, registry, ticket, None, "assign", now, assignee=student,
            data={"auto": True})
    return student


def filed_with(session: Session, form_key: str, reporter: User | None) -> Ticket | None:
    """The ticket the form with one-time key *form_key* filed, if it did.

    :raises Conflict: it was filed by someone else (a key is one person's form).
    """
    ticket = session.scalars(select(Ticket).where(Ticket.form_key == form_key)).first()
    if ticket is not None and ticket.reporter_id != (reporter.id if reporter else None):
        raise Conflict("This form has already been sent. Open a new form.")
    return ticket


def sla_timezone():
    """The local time zone of the wards (dates, years and working hours are local)."""
    from zoneinfo import ZoneInfo
    from ..calendar import DEFAULT_TIMEZONE
    return ZoneInfo(DEFAULT_TIMEZONE)


def search_text_of(ticket: Ticket) -> str:
    """What diacritic-insensitive search matches: number, title, description, triage."""
    triage_text = " ".join(str(v) for v in (ticket.triage or {}).values() if v)
    return fold(" ".join([ticket.number or "", ticket.title or "", ticket.description or "",
                          triage_text]))


# --- lifecycle --------------------------------------------------------------------

def check_action(session: Session, ticket: Ticket, actor: User | None, action: str,
                 today: dt.date) -> None:
    """Raise unless *actor* may do *action* on *ticket* now (scope, role, status)."""
    if actor is not None and not scope.can_view(session, actor, ticket, today):
        raise NotFound("Ticket not found.")
    spec = workflow.ACTIONS.get(action)
    if spec is None:
        raise TransitionNotAllowed("Unknown action %(action)s.", action=action)
    role = role_of(actor)
    if role not in spec.allowed:
        raise PermissionDenied("Your role cannot do this on a ticket.")
    if ticket.status not in spec.allowed[role]:
        raise TransitionNotAllowed(
            "A ticket that is %(status)s cannot be changed this way.",
            status=i18n.gettext(workflow.STATUS_LABELS[ticket.status]).lower())
    if role == Role.STUDENT and spec.assignee_only and actor is not None:
        if ticket.assignee_id is None:
            raise PermissionDenied("Claim the ticket first.")
        if ticket.assignee_id != actor.id:
            raise PermissionDenied("This ticket is assigned to someone else.")
    if action == "escalate" and ticket.escalation_level >= workflow.MAX_LEVEL:
        raise TransitionNotAllowed("This ticket is already with the vendor.")


def allowed_actions(session: Session, ticket: Ticket, actor: User | None,
                    today: dt.date) -> list[str]:
    """Actions *actor* may take on *ticket* now, in table order (for buttons)."""
    result = []
    for name in workflow.ACTIONS:
        try:
            check_action(session, ticket, actor, name, today)
        except (NotFound, PermissionDenied, TransitionNotAllowed):
            continue
        result.append(name)
    return result


def perform(session: Session, registry: PluginRegistry | None, ticket: Ticket,
            actor: User | None, action: str, now: dt.datetime, *, reason: str = "",
            assignee: User | None = None, data: Mapping[str, Any] | None = None) -> Ticket:
    """Do *action* on *ticket* as *actor*: check the table, change, record the event(s).

    :param actor: the user, or None for the system (scheduler, automation).
    :param reason: required by actions with ``needs_reason``; kept as the event body.
    :param assignee: the student, for ``assign``.
    :param data: extra JSON data for the ``status`` event (e.g. what triggered it).
    :raises NotFound: the ticket is outside the actor's scope.
    :raises PermissionDenied: the role may not do this at all, or (students) the ticket
        is not theirs.
    :raises TransitionNotAllowed: not from the ticket's status (or already at the vendor).
    :raises ValidationFailed: a missing reason or a wrong assignee.
    :raises Conflict: ``claim`` lost against another student.

    Nothing changes when it raises. Concurrent moves: ``claim`` is one conditional
    UPDATE, so of two students claiming at once exactly one wins; the other gets
    :class:`Conflict`. Every other action first locks the ticket's row on the condition
    that it still has the status, assignee and level this session saw (see
    :func:`_lock_as_seen`), so a move decided on stale data (a coordinator assigning a
    ticket a student has just claimed, a reporter reopening a ticket the scheduler is
    closing) also gets :class:`Conflict` instead of overwriting the other change.

    Events: ``status`` (old -> new, ``data["action"]``) whenever the status changes;
    ``assigned`` for claim/assign; ``escalated`` (old -> new level) for escalate. The
    first move by a student, coordinator or admin counts as the helpdesk's response.
    """
    today = now.astimezone(sla_timezone()).date()
    check_action(session, ticket, actor, action, today)
    spec = workflow.ACTIONS[action]
    reason = mask_personal_data(nfc(reason).strip())
    if spec.needs_reason and not reason:
        raise ValidationFailed("Please give a reason.", field_errors={
            "reason": [i18n.gettext("Please give a reason.")]})
    if action == "claim":
        return _claim(session, registry, ticket, actor, now)
    if action == "assign":
        _check_assignee(session, ticket, assignee, today)
    _lock_as_seen(session, ticket, now)
    if action == "assign":
        _assign(session, registry, ticket, actor, assignee, now, today)
    old_level = ticket.escalation_level
    if action == "escalate":
        ticket.escalation_level = old_level + 1
        record_event(session, registry, ticket, "escalated", actor, now, old=str(old_level),
                     new=str(ticket.escalation_level), body=reason)
    old_status = ticket.status
    new_status = workflow.target_status(action, old_status, ticket.assignee_id is not None,
                                        old_level)
    if actor is not None and actor.role in (Role.STUDENT, Role.COORDINATOR, Role.ADMIN):
        ticket.worked_by_person = True
    if new_status != old_status:
        _move(session, registry, ticket, actor, old_status, new_status, now, reason,
              action=action, data=data)
    elif action not in ("assign", "escalate"):
        record_event(session, registry, ticket, "status", actor, now, old=old_status,
                     new=new_status, body=reason, data={**(data or {}), "action": action})
    sla.refresh_next(ticket)
    session.flush()
    return ticket


def claim_and_start(session: Session, registry: PluginRegistry | None, ticket: Ticket,
                    actor: User, now: dt.datetime) -> Ticket:
    """Claim a new ticket and start work on it: a student's one tap on a phone.

    Exactly :func:`perform` ``claim`` then ``start``, so both moves are checked and
    recorded (``assigned``, ``status`` new -> assigned, ``status`` assigned -> in
    progress); when either is refused it raises and the caller rolls back both.
    """
    perform(session, registry, ticket, actor, "claim", now)
    return perform(session, registry, ticket, actor, "start", now)


def _move(session: Session, registry: PluginRegistry | None, ticket: Ticket,
          actor: User | None, old: str, new: str, now: dt.datetime, reason: str,
          action: str, data: Mapping[str, Any] | None = None) -> None:
    stopped_before, stopped_after = old in sla.CLOCK_STOPPED, new in sla.CLOCK_STOPPED
    if stopped_before and not stopped_after:
        from . import incidents  # incidents imports this module
        # A ticket waiting on a city-wide incident keeps its clock stopped until it ends.
        if not incidents.holds_clock(session, ticket):
            sla.resume(session, ticket, now)
    if (actor is not None and actor.role != Role.STAFF
            and new not in (Status.NEW, Status.CANCELLED)):
        sla.mark_responded(session, registry, ticket, now)
    if new == Status.RESOLVED:
        ticket.resolved_at = now
        sla.mark_resolved(session, registry, ticket, now)
    if new == Status.CLOSED:
        ticket.closed_at = now
    if action == "reopen":
        ticket.resolved_at = None
        ticket.closed_at = None
    if stopped_after and not stopped_before:
        sla.pause(ticket, now)
    ticket.status = new
    record_event(session, registry, ticket, "status", actor, now, old=old, new=new,
                 body=reason, data={**(data or {}), "action": action})


def _lock_as_seen(session: Session, ticket: Ticket, now: dt.datetime) -> None:
    """Lock the ticket's row if it is still as this session saw it; else :class:`Conflict`.

    A conditional ``UPDATE`` (compare and set): on PostgreSQL the row stays locked until
    the transaction ends, so a concurrent move waits and then finds the row changed; on
    SQLite writers queue (``BEGIN IMMEDIATE``) and a stale object fails the condition.
    """
    if ticket.id is None:
        return
    session.flush()
    assignee = (Ticket.assignee_id.is_(None) if ticket.assignee_id is None
                else Ticket.assignee_id == ticket.assignee_id)
    matched = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == ticket.status, assignee,
               Ticket.escalation_level == ticket.escalation_level)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if matched != 1:
        session.refresh(ticket)
        raise Conflict("Someone else has just changed this ticket. Please look at it again.")


def _claim(session: Session, registry: PluginRegistry | None, ticket: Ticket,
           actor: User | None, now: dt.datetime) -> Ticket:
    assert actor is not None
    # Pending changes of this session must not be lost by the refresh below.
    session.flush()
    won = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == Status.NEW, Ticket.assignee_id.is_(None))
        .values(status=Status.ASSIGNED, assignee_id=actor.id, updated_at=now,
                worked_by_person=True)
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        session.refresh(ticket)
        raise Conflict("Someone else has just claimed this ticket.")
    session.refresh(ticket)
    sla.mark_responded(session, registry, ticket, now)
    record_event(session, registry, ticket, "assigned", actor, now, old=None,
                 new=str(actor.id), data={"action": "claim"})
    record_event(session, registry, ticket, "status", actor, now, old=Status.NEW,
                 new=Status.ASSIGNED, data={"action": "claim"})
    sla.refresh_next(ticket)
    session.flush()
    return ticket


def _check_assignee(session: Session, ticket: Ticket, assignee: User | None,
                    today: dt.date) -> None:
    """Raise :class:`ValidationFailed` unless *assignee* may take the ticket now."""
    if assignee is None or assignee.role != Role.STUDENT or not assignee.active:
        raise ValidationFailed("Choose a student.", field_errors={
            "assignee": [i18n.gettext("Choose a student.")]})
    if not scope.can_view(session, assignee, ticket, today):
        raise ValidationFailed("This student is not assigned to the ticket's ward now.",
                               field_errors={"assignee": [i18n.gettext(
                                   "This student is not assigned to the ticket's ward now.")]})
    if assignee.id == ticket.assignee_id:
        raise ValidationFailed("This student already has the ticket.", field_errors={
            "assignee": [i18n.gettext("This student already has the ticket.")]})


def _assign(session: Session, registry: PluginRegistry | None, ticket: Ticket,
            actor: User | None, assignee: User, now: dt.datetime, today: dt.date) -> None:
    old = ticket.assignee_id
    ticket.assignee = assignee
    record_event(session, registry, ticket, "assigned", actor, now,
                 old=None if old is None else str(old), new=str(assignee.id))


def comment(session: Session, registry: PluginRegistry | None, ticket: Ticket,
            actor: User | None, body: str, now: dt.datetime, internal: bool = False,
            form_key: str | None = None) -> TicketEvent:
    """Add a comment. Internal comments are hidden from ward staff.

    *form_key*: the comment form's one-time key; sent again (even at the same moment),
    the form adds no second comment, and the first is returned.
    """
    today = now.astimezone(sla_timezone()).date()
    if actor is not None and not scope.can_view(session, actor, ticket, today):
        raise NotFound("Ticket not found.")
    if form_key is not None:
        made = _commented_with(session, form_key, ticket, actor)
        if made is not None:
            return made
    body = nfc(body).strip()
    if not body:
        raise ValidationFailed("Write a comment first.", field_errors={
            "body": [i18n.gettext("Write a comment first.")]})
    if len(body) > COMMENT_MAX:
        raise ValidationFailed("At most %(max)d characters.", field_errors={
            "body": [i18n.gettext("At most %(max)d characters.", max=COMMENT_MAX)]}, max=COMMENT_MAX)
    if actor is not None and actor.role == Role.STAFF:
        internal = False  # staff cannot write what they could not read
    if form_key is not None:
        session.flush()  # only the comment goes into the savepoint below
    try:
        with savepoint(session) if form_key is not None else contextlib.nullcontext():
            event = record_event(session, registry, ticket, "comment", actor, now,
                                 body=mask_personal_data(body), internal=internal)
            event.form_key = form_key
            session.flush()
    except IntegrityError:
        made = _commented_with(session, form_key, ticket, actor) if form_key else None
        if made is None:
            raise
        return made  # sent twice at once: the other send added it
    if actor is not None and actor.role != Role.STAFF:
        ticket.worked_by_person = True
        if not internal and ticket.is_open:
            # A helper's answer the reporter can read is the helpdesk's response.
            sla.mark_responded(session, registry, ticket, now)
    session.flush()
    return event


def _commented_with(session: Session, form_key: str, ticket: Ticket,
                    actor: User | None) -> TicketEvent | None:
    """The comment the form with one-time key *form_key* added, if it did."""
    event = session.scalars(select(TicketEvent).where(TicketEvent.form_key == form_key)).first()
    if event is not None and (event.ticket_id != ticket.id or event.actor_id != (
            actor.id if actor else None)):
        raise Conflict("This form has already been sent. Open a new form.")
    return event


def change_priority(session: Session, registry: PluginRegistry | None, ticket: Ticket,
                    actor: User, priority: int, reason: str, now: dt.datetime) -> Ticket:
    """Override the priority with a reason; due times are recomputed from filing time.

    The working time already spent paused is kept; warnings and breaches whose new
    moment lies ahead are forgotten (see :func:`.sla.rearm`).
    """
    today = now.astimezone(sla_timezone()).date()
    if not scope.can_view(session, actor, ticket, today):
        raise NotFound("Ticket not found.")
    if not ticket.is_open:
        raise TransitionNotAllowed("Only open tickets can change priority.")
    if priority not in (1, 2, 3, 4):
        raise ValidationFailed("Priority must be between 1 and 4.", field_errors={
            "priority": [i18n.gettext("Priority must be between 1 and 4.")]})
    reason = mask_personal_data(nfc(reason).strip())
    if not reason:
        raise ValidationFailed("Say why you change the priority.", field_errors={
            "reason": [i18n.gettext("Say why you change the priority.")]})
    old = ticket.priority
    ticket.priority = priority
    ticket.priority_reason = reason
    sla.set_targets(session, ticket, ticket.created_at)
    sla.rearm(ticket, now)
    record_event(session, registry, ticket, "priority", actor, now, old=str(old),
                 new=str(priority), body=reason)
    session.flush()
    return ticket


# --- resolution checklists --------------------------------------------------------

def choose_template(session: Session, registry: PluginRegistry, ticket: Ticket, actor: User,
                    template_key: str, now: dt.datetime) -> Ticket:
    """Start following a resolution template of the ticket's category."""
    today = now.astimezone(sla_timezone()).date()
    check_action_scope(session, ticket, actor, today)
    if (ticket.category, template_key) not in registry.templates:
        raise ValidationFailed("Choose a checklist of this category.", field_errors={
            "template": [i18n.gettext("Choose a checklist of this category.")]})
    old = (ticket.checklist or {}).get("template")
    ticket.checklist = {"template": template_key, "done": []}
    ticket.worked_by_person = True
    record_event(session, registry, ticket, "checklist", actor, now, old=old, new=template_key,
                 data={"template": template_key})
    session.flush()
    return ticket


def tick_step(session: Session, registry: PluginRegistry, ticket: Ticket, actor: User,
              step: int, done: bool, now: dt.datetime, template: str | None = None) -> Ticket:
    """Tick (or untick) step *step* (0-based) of the ticket's chosen checklist.

    *template*: the checklist the page showed the step of. When the ticket follows none
    yet (the page offered the one the triage answers suggest), the first tick chooses it
    (a ``checklist`` event, as :func:`choose_template`); when the ticket follows another
    one meanwhile, the step would be the wrong one: :class:`Conflict`.
    """
    today = now.astimezone(sla_timezone()).date()
    check_action_scope(session, ticket, actor, today)
    key = (ticket.checklist or {}).get("template")
    if template is not None and key is None:
        choose_template(session, registry, ticket, actor, template, now)
        key = template
    elif template is not None and template != key:
        raise Conflict("Someone else has just changed this ticket. Please look at it again.")
    template = registry.templates.get((ticket.category, key)) if key else None
    if template is None:
        raise ValidationFailed("Choose a checklist first.")
    if not 0 <= step < len(template.steps):
        raise ValidationFailed("No such step.")
    done_steps = set((ticket.checklist or {}).get("done", []))
    if done:
        done_steps.add(step)
    else:
        done_steps.discard(step)
    ticket.checklist = {"template": key, "done": sorted(done_steps)}
    record_event(session, registry, ticket, "checklist", actor, now,
                 old=None, new=f"{step + 1}:{'done' if done else 'undone'}",
                 body=str(template.steps[step]), data={"template": key, "step": step, "done": done})
    session.flush()
    return ticket


def check_action_scope(session: Session, ticket: Ticket, actor: User, today: dt.date) -> None:
    """Students, coordinators and admins work tickets; staff only read checklists."""
    if not scope.can_view(session, actor, ticket, today):
        raise NotFound("Ticket not found.")
    if actor.role == Role.STAFF:
        raise PermissionDenied("Your role cannot do this on a ticket.")
    if not ticket.is_open:
        raise TransitionNotAllowed("Only open tickets can change.")
    if actor.role == Role.STUDENT and ticket.assignee_id != actor.id:
        raise PermissionDenied("Claim the ticket first.")


# --- automatic closing ------------------------------------------------------------

AUTO_CLOSE_BATCH = 500


def auto_close(session: Session, registry: PluginRegistry | None, now: dt.datetime,
               working_days: int = 3, *, limit: int = AUTO_CLOSE_BATCH) -> list[Ticket]:
    """Close resolved tickets nobody reopened within *working_days* working days.

    A ticket resolved at *t* closes once *now* reaches the same time of day on the
    *working_days*-th working day after *t* on its ward's calendar (weekends, public
    holidays and the ward's days off do not count; make-up days do). The system does it
    (action ``auto_close``, ``status`` event with ``data["working_days"]``).

    The query is bounded: resolved tickets resolved at least *working_days* calendar days
    ago (a lower bound of the working-day rule), at most *limit* of them; rows another
    transaction holds are skipped on PostgreSQL and looked at next time. Returns the
    tickets closed. Does not commit.
    """
    if working_days < 0:
        raise ValueError("working_days must not be negative")
    bound = now - dt.timedelta(days=working_days)
    rows = session.scalars(
        select(Ticket)
        .where(Ticket.status == Status.RESOLVED, Ticket.resolved_at <= bound)
        .order_by(Ticket.resolved_at, Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True)).all()
    calendars: dict[int, Any] = {}
    closed: list[Ticket] = []
    for ticket in rows:
        if ticket.ward_id not in calendars:
            calendars[ticket.ward_id] = sla.calendar_for(session, ticket.ward)
        if calendars[ticket.ward_id].add_working_days(ticket.resolved_at, working_days) > now:
            continue
        try:
            with savepoint(session):
                perform(session, registry, ticket, None, "auto_close", now,
                        data={"working_days": working_days})
        except HelpdeskError:
            log.exception("auto-close failed on ticket %s", ticket.id)
            continue
        closed.append(ticket)
    return closed
