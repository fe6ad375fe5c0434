"""City-wide incidents: open, link, pause, resolve; the banner; suggestions from tickets.

The rules themselves are pure (:mod:`.incident_rules`); this module applies them to the
database. Everything here records what it does on the tickets it touches (a ``incident``
:class:`~helpdesk_core.models.TicketEvent`: ``linked``, ``released`` or ``unlinked``) and
never commits.

* :func:`observe_check` is called by the health checks after each recorded result of a
  check whose asset is marked with a shared service (``Asset.service_key``). When the
  service is confirmed down in ``min_wards`` wards, it opens ONE incident for it, links
  the open ward tickets of the service's checks (their SLA clocks stop: "waiting on
  upstream"); when no recent check of the service is bad any more, the incident
  resolves and the tickets' clocks run again.
* A coordinator may close an incident by hand (:func:`close`); no new incident opens for
  that service before all its checks have worked again once.
* A coordinator may also link a ticket by hand (:func:`link_by_hand`) or take one out
  (:func:`unlink`); the clock behaves as with an automatic link.
* :func:`suggestions` finds recent staff tickets that look like one problem in several
  wards; :func:`confirm` turns one into an incident, :func:`dismiss` turns it down.
* :func:`holds_clock` tells the ticket lifecycle to keep a linked ticket's clock stopped
  while its incident is open (a student resuming work does not restart it).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, joinedload

from .. import i18n
from ..errors import Conflict, HelpdeskError, NotFound, PermissionDenied
from ..models import (Asset, AssetCheck, Incident, IncidentDismissal, IncidentStatus,
                      IncidentTicket, Role, Source, Status, Ticket, User)
from ..plugins import PluginRegistry
from . import sla, tickets
from .incident_rules import (DEFAULT_POLICY, SERVICES, IncidentPolicy, ServiceCheck,
                             Suggestion, TicketSignal, error_text, match_text, service_state,
                             suggest)

log = logging.getLogger(__name__)

EVENT = "incident"
SOURCE_HEALTH = "health"
SOURCE_TICKETS = "tickets"
# Staff tickets looked at for suggestions: filed within this period and still open.
SUGGEST_LOOKBACK = dt.timedelta(days=1)
BAD = ("failure", "error")

_policy: list[IncidentPolicy] = []


def install_policy(policy: IncidentPolicy) -> None:
    """Use *policy* wherever none is passed (the app factory fills it from INCIDENT_*)."""
    _policy[:] = [policy]


def current_policy() -> IncidentPolicy:
    """The installed policy, or the defaults."""
    return _policy[0] if _policy else DEFAULT_POLICY


# --- words ----------------------------------------------------------------------------

def service_name(key: str) -> str:
    """The shared service's name in the current language (the key if unknown)."""
    name = SERVICES.get(key)
    return i18n.gettext(name) if name else key


def banner_text(incident: Incident) -> str:
    """The banner on the front desk, the queue and the status board."""
    if incident.service_key:
        return i18n.gettext("%(service)s is disrupted: no need to restart your computer",
                            service=service_name(incident.service_key))
    return i18n.gettext("A problem affects several wards (%(title)s): no need to restart "
                        "your computer", title=incident.title)


# --- reading --------------------------------------------------------------------------

# Built once (its cache key is kept on it): the banner asks on every page it is on.
_OPEN_INCIDENTS = (select(Incident).where(Incident.status == IncidentStatus.OPEN)
                   .order_by(Incident.started_at.desc(), Incident.id.desc()))


def open_incidents(session: Session) -> list[Incident]:
    """Every open incident, newest first (city-wide: the banner shows them to everyone)."""
    return list(session.scalars(_OPEN_INCIDENTS))


def recent_incidents(session: Session, limit: int = 50) -> list[Incident]:
    """The latest incidents, open ones first."""
    return list(session.scalars(
        select(Incident).order_by((Incident.status == IncidentStatus.OPEN).desc(),
                                  Incident.started_at.desc(), Incident.id.desc())
        .limit(limit)))


def _require_coordinator(actor: User | None) -> None:
    if actor is not None and actor.role not in (Role.COORDINATOR, Role.ADMIN):
        raise PermissionDenied("Only coordinators and administrators may do this.")


def get_incident(session: Session, actor: User | None, incident_id: int) -> Incident:
    """The incident, for coordinators and administrators (others: :class:`NotFound`)."""
    incident = session.get(Incident, incident_id)
    if incident is None or (actor is not None
                            and actor.role not in (Role.COORDINATOR, Role.ADMIN)):
        raise NotFound("Incident not found.")
    return incident


def linked(session: Session, incident: Incident) -> list[IncidentTicket]:
    """The incident's links with their tickets and wards, oldest first."""
    return list(session.scalars(
        select(IncidentTicket).where(IncidentTicket.incident_id == incident.id)
        .options(joinedload(IncidentTicket.ticket).joinedload(Ticket.ward))
        .order_by(IncidentTicket.id)))


def holds_clock(session: Session, ticket: Ticket) -> bool:
    """Whether an open incident keeps *ticket*'s SLA clock stopped."""
    if ticket.id is None:
        return False
    return session.scalar(
        select(func.count()).select_from(IncidentTicket)
        .join(Incident, Incident.id == IncidentTicket.incident_id)
        .where(IncidentTicket.ticket_id == ticket.id, IncidentTicket.released_at.is_(None),
               Incident.status == IncidentStatus.OPEN)) > 0


def waiting_ticket_ids(session: Session, ticket_ids: Sequence[int]) -> set[int]:
    """Which of *ticket_ids* wait on an open incident (one query, for lists)."""
    if not ticket_ids:
        return set()
    return set(session.scalars(
        select(IncidentTicket.ticket_id)
        .join(Incident, Incident.id == IncidentTicket.incident_id)
        .where(IncidentTicket.ticket_id.in_(list(ticket_ids)),
               IncidentTicket.released_at.is_(None),
               Incident.status == IncidentStatus.OPEN)))


# --- linking and releasing tickets ------------------------------------------------------

def link(session: Session, registry: PluginRegistry | None, incident: Incident,
         ticket: Ticket, actor: User | None, now: dt.datetime) -> bool:
    """Link *ticket* to *incident* and stop its SLA clock; False if already linked.

    The clock stays stopped until the incident ends (:func:`release_all`), whatever
    else happens to the ticket meanwhile (see :func:`holds_clock`).
    """
    already = session.scalar(select(IncidentTicket.id).where(
        IncidentTicket.incident_id == incident.id, IncidentTicket.ticket_id == ticket.id))
    if already is not None:
        return False
    session.add(IncidentTicket(incident=incident, ticket_id=ticket.id, linked_at=now))
    _hold(session, registry, incident, ticket, actor, now)
    return True


def _hold(session: Session, registry: PluginRegistry | None, incident: Incident,
          ticket: Ticket, actor: User | None, now: dt.datetime) -> None:
    """A new link: the incident's wards, the stopped clock, the ticket's history."""
    if ticket.ward_id not in (incident.ward_ids or []):
        incident.ward_ids = sorted({*(incident.ward_ids or []), ticket.ward_id})
    sla.pause(ticket, now)
    tickets.record_event(
        session, registry, ticket, EVENT, actor, now, new="linked",
        body=i18n.gettext("Linked to the city-wide incident “%(title)s”: the SLA clock "
                          "waits on the upstream service.", title=incident.title),
        data={"incident_id": incident.id})


def release_all(session: Session, registry: PluginRegistry | None, incident: Incident,
                actor: User | None, now: dt.datetime) -> int:
    """The incident is over: its tickets' clocks run again (unless something else keeps
    them stopped: waiting on the reporter or a vendor, resolved, another open incident).
    Returns how many tickets were released."""
    count = 0
    for item in linked(session, incident):
        if item.released_at is None:
            _release(session, registry, item, actor, now, ended=True)
            count += 1
    return count


def _release(session: Session, registry: PluginRegistry | None, item: IncidentTicket,
             actor: User | None, now: dt.datetime, *, ended: bool) -> None:
    """One ticket stops waiting on its incident (*ended*: because the incident is over;
    else a coordinator took it out): its clock runs again unless something else holds it."""
    item.released_at = now
    session.flush()
    ticket, title = item.ticket, item.incident.title
    runs = (ticket.status in Status.OPEN and ticket.status not in sla.CLOCK_STOPPED
            and not holds_clock(session, ticket))
    if runs:
        sla.resume(session, ticket, now)
    if ended:
        body = (i18n.gettext("The city-wide incident “%(title)s” is over: the SLA clock "
                             "runs again.", title=title) if runs
                else i18n.gettext("The city-wide incident “%(title)s” is over.", title=title))
    else:
        body = (i18n.gettext("Taken out of the city-wide incident “%(title)s”: the SLA "
                             "clock runs again.", title=title) if runs
                else i18n.gettext("Taken out of the city-wide incident “%(title)s”.",
                                  title=title))
    tickets.record_event(session, registry, ticket, EVENT, actor, now,
                         new="released" if ended else "unlinked", body=body,
                         data={"incident_id": item.incident_id})


# --- linking by hand ------------------------------------------------------------------

def _link_row(session: Session, incident: Incident, ticket: Ticket) -> IncidentTicket | None:
    return session.scalar(select(IncidentTicket).where(
        IncidentTicket.incident_id == incident.id, IncidentTicket.ticket_id == ticket.id))


def link_by_hand(session: Session, registry: PluginRegistry | None, actor: User,
                 incident: Incident, ticket: Ticket, now: dt.datetime) -> None:
    """A coordinator links an open *ticket* (typically a staff ticket the suggestions
    missed) to the open *incident*: its SLA clock waits as with an automatic link.

    A ticket taken out before may be linked again (its link row is used again).

    :raises PermissionDenied: not a coordinator or administrator.
    :raises Conflict: the incident is over, the ticket is not open, or already waits on it.
    """
    _require_coordinator(actor)
    if not incident.is_open:
        raise Conflict("This incident is already over.")
    if ticket.status not in Status.OPEN:
        raise Conflict("Only an open ticket can wait on an incident.")
    row = _link_row(session, incident, ticket)
    if row is None:
        link(session, registry, incident, ticket, actor, now)
    elif row.released_at is not None:
        row.linked_at, row.released_at = now, None
        _hold(session, registry, incident, ticket, actor, now)
    else:
        raise Conflict("This ticket already waits on this incident.")
    session.flush()


def unlink(session: Session, registry: PluginRegistry | None, actor: User,
           incident: Incident, ticket: Ticket, now: dt.datetime) -> None:
    """A coordinator takes *ticket* out of *incident* (linked by mistake): its clock runs
    again unless something else holds it. The checks do not link it again.

    :raises PermissionDenied: not a coordinator or administrator.
    :raises Conflict: the ticket does not wait on this incident.
    """
    _require_coordinator(actor)
    row = _link_row(session, incident, ticket)
    if row is None or row.released_at is not None:
        raise Conflict("This ticket does not wait on this incident.")
    _release(session, registry, row, actor, now, ended=False)
    session.flush()


def ticket_incidents(session: Session, ticket: Ticket) -> tuple[list[Incident], list[Incident]]:
    """For the ticket page: the open incidents *ticket* waits on, and the other open ones."""
    waiting = set(session.scalars(select(IncidentTicket.incident_id).where(
        IncidentTicket.ticket_id == ticket.id, IncidentTicket.released_at.is_(None))))
    found = open_incidents(session)
    return ([i for i in found if i.id in waiting], [i for i in found if i.id not in waiting])


def _end(session: Session, registry: PluginRegistry | None, incident: Incident,
         status: str, actor: User | None, now: dt.datetime) -> None:
    incident.status = status
    incident.resolved_at = now
    incident.closed_by_id = actor.id if actor is not None else None
    release_all(session, registry, incident, actor, now)
    session.flush()


def close(session: Session, registry: PluginRegistry | None, incident: Incident,
          actor: User, now: dt.datetime, note: str = "") -> Incident:
    """A coordinator closes an open incident by hand; its tickets' clocks run again.

    :raises PermissionDenied: not a coordinator or administrator.
    :raises Conflict: the incident is already over.
    """
    _require_coordinator(actor)
    if not incident.is_open:
        raise Conflict("This incident is already over.")
    if note.strip():
        incident.message = note.strip()[:2000]
    _end(session, registry, incident, IncidentStatus.CLOSED, actor, now)
    return incident


# --- health checks of shared services ------------------------------------------------

def _service_checks(session: Session, key: str) -> list[tuple[int, ServiceCheck]]:
    rows = session.execute(
        select(AssetCheck.id, Asset.ward_id, AssetCheck.last_status,
               AssetCheck.consecutive_failures, AssetCheck.failure_threshold,
               AssetCheck.last_checked_at)
        .join(Asset, Asset.id == AssetCheck.asset_id)
        .where(Asset.service_key == key, Asset.active.is_(True),
               AssetCheck.enabled.is_(True))).all()
    return [(row.id, ServiceCheck(
        ward_id=row.ward_id, bad=row.last_status in BAD,
        failing=(row.consecutive_failures or 0) >= max(1, row.failure_threshold or 3),
        checked_at=row.last_checked_at)) for row in rows]


def observe_check(session: Session, registry: PluginRegistry | None, check: AssetCheck,
                  now: dt.datetime, policy: IncidentPolicy | None = None) -> Incident | None:
    """Apply the city-wide rule after a result of *check* was recorded (caller commits).

    Nothing happens (and nothing is queried) unless the check's asset is marked with a
    shared service. Returns the service's open incident, if there is one afterwards.
    It runs in a savepoint: should it fail, the result is still recorded (and the rule is
    applied again with the check's next result).
    """
    key = check.asset.service_key if check.asset is not None else ""
    if not key:
        return None
    try:
        with tickets.savepoint(session):
            return _observe(session, registry, check, key, now, policy or current_policy())
    except (HelpdeskError, SQLAlchemyError):
        log.exception("city-wide incident rule failed after check %s", check.id)
        return None


def _observe(session: Session, registry: PluginRegistry | None, check: AssetCheck, key: str,
             now: dt.datetime, policy: IncidentPolicy) -> Incident | None:
    checks = _service_checks(session, key)
    state = service_state([c for _, c in checks], now, policy)
    latest = session.scalar(select(Incident).where(Incident.service_key == key)
                            .order_by(Incident.id.desc()).limit(1))
    if latest is not None and latest.is_open:
        incident = latest
    else:
        if latest is not None and latest.recovered_at is None and state.recovered:
            latest.recovered_at = now  # a close by hand is over: the service works again
        rearmed = latest is None or latest.recovered_at is not None
        if not (state.incident and rearmed):
            return None
        incident = _open(session, key, state, now)
    if incident.source == SOURCE_HEALTH and state.recovered:
        incident.recovered_at = now
        _end(session, registry, incident, IncidentStatus.RESOLVED, None, now)
        log.info("incident %s (%s) resolved: the service works again", incident.id, key)
        return None
    places = {w for w in state.failing_wards if w is not None}
    if not places <= set(incident.ward_ids or []):
        incident.ward_ids = sorted(places | set(incident.ward_ids or []))
    # The devices' health tickets (one per device, whichever of its checks filed it).
    assets = select(AssetCheck.asset_id).where(AssetCheck.id.in_([cid for cid, _ in checks]))
    for ticket in session.scalars(select(Ticket).where(
            Ticket.asset_id.in_(assets), Ticket.source == Source.HEALTH_CHECK,
            Ticket.status.in_(Status.OPEN),
            ~select(IncidentTicket.id).where(IncidentTicket.incident_id == incident.id,
                                             IncidentTicket.ticket_id == Ticket.id).exists())):
        link(session, registry, incident, ticket, None, now)
    session.flush()
    return incident


def _open(session: Session, key: str, state, now: dt.datetime) -> Incident:
    """Open the service's incident; if another process just did, return theirs."""
    savepoint = session.begin_nested()
    try:
        incident = Incident(service_key=key, source=SOURCE_HEALTH,
                            title=service_name(key)[:200], started_at=now,
                            status=IncidentStatus.OPEN,
                            ward_ids=sorted(w for w in state.failing_wards if w is not None))
        session.add(incident)
        session.flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        found = session.scalar(select(Incident).where(Incident.service_key == key,
                                                      Incident.status == IncidentStatus.OPEN))
        if found is None:
            raise
        return found
    log.warning("city-wide incident %s opened: %s fails in %d places", incident.id, key,
                len(state.failing_wards))
    return incident


# --- suggestions from staff tickets ---------------------------------------------------

def _signals(session: Session, now: dt.datetime) -> list[TicketSignal]:
    """Open staff tickets of the last day not waiting on an incident yet."""
    waiting = (select(IncidentTicket.id)
               .join(Incident, Incident.id == IncidentTicket.incident_id)
               .where(IncidentTicket.ticket_id == Ticket.id,
                      Incident.status == IncidentStatus.OPEN).exists())
    rows = session.execute(
        select(Ticket.id, Ticket.ward_id, Ticket.category, Ticket.title, Ticket.triage,
               Ticket.created_at)
        .where(Ticket.status.in_(Status.OPEN), Ticket.source != Source.HEALTH_CHECK,
               Ticket.created_at >= now - SUGGEST_LOOKBACK, ~waiting)).all()
    return [TicketSignal(row.id, row.ward_id, row.category,
                         match_text(error_text(row.title, row.triage)), row.created_at)
            for row in rows]


def _dismissed(session: Session, now: dt.datetime) -> dict[tuple[str, str], dt.datetime]:
    """(category, text) -> the latest dismissal of the last day."""
    return {(d.category, d.match_text): d.at for d in session.execute(
        select(IncidentDismissal.category, IncidentDismissal.match_text,
               func.max(IncidentDismissal.dismissed_at).label("at"))
        .where(IncidentDismissal.dismissed_at >= now - SUGGEST_LOOKBACK)
        .group_by(IncidentDismissal.category, IncidentDismissal.match_text))}


def suggestions(session: Session, now: dt.datetime,
                policy: IncidentPolicy | None = None) -> list[Suggestion]:
    """What to suggest to coordinators now (see :func:`.incident_rules.suggest`).

    Tickets a coordinator already turned down (filed up to the dismissal of their
    group) are left out; the dismissals are read only when some group qualifies.
    """
    policy = policy or current_policy()
    signals = _signals(session, now)
    if not suggest(signals, policy):
        return []
    dismissed = _dismissed(session, now)
    return suggest([s for s in signals
                    if not ((cut := dismissed.get((s.category, s.text))) is not None
                            and s.created_at <= cut)], policy)


def _find(session: Session, key: str, now: dt.datetime,
          policy: IncidentPolicy | None) -> Suggestion:
    for found in suggestions(session, now, policy):
        if found.key == key:
            return found
    raise Conflict("This suggestion is no longer current. Please look at the list again.")


def confirm(session: Session, registry: PluginRegistry | None, actor: User, key: str,
            now: dt.datetime, *, service_key: str = "",
            policy: IncidentPolicy | None = None) -> Incident:
    """One click: the suggested tickets become one incident, their clocks stop.

    The suggestion is computed again from the database (the key only names it), so a
    ticket resolved meanwhile is not linked. With *service_key*, the incident is that
    service's (its banner names it); if the service already has an open incident, the
    tickets join it.

    :raises PermissionDenied: not a coordinator or administrator.
    :raises Conflict: the suggestion is gone (tickets resolved, already confirmed).
    """
    _require_coordinator(actor)
    found = _find(session, key, now, policy)
    if service_key not in SERVICES:
        service_key = ""
    incident = None
    if service_key:
        incident = session.scalar(select(Incident).where(
            Incident.service_key == service_key, Incident.status == IncidentStatus.OPEN))
    if incident is None:
        category = registry.categories.get(found.category) if registry is not None else None
        label = str(category.label) if category is not None else found.category
        title = service_name(service_key) if service_key else f"{label}: {found.text}"
        incident = Incident(service_key=service_key, source=SOURCE_TICKETS,
                            category=found.category, match_text=found.text[:200],
                            title=title[:200], started_at=now, status=IncidentStatus.OPEN,
                            ward_ids=sorted(found.ward_ids), opened_by_id=actor.id)
        session.add(incident)
        session.flush()
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(found.ticket_ids))
                                  .order_by(Ticket.id)):
        link(session, registry, incident, ticket, actor, now)
    session.flush()
    return incident


def dismiss(session: Session, actor: User, key: str, now: dt.datetime,
            policy: IncidentPolicy | None = None) -> None:
    """Not an incident: the suggestion's tickets (and older ones like them) are not
    suggested again; newer tickets with the same text may be.

    :raises PermissionDenied: not a coordinator or administrator.
    :raises Conflict: the suggestion is gone.
    """
    _require_coordinator(actor)
    found = _find(session, key, now, policy)
    session.add(IncidentDismissal(category=found.category, match_text=found.text[:200],
                                  dismissed_at=max(now, found.last_at),
                                  dismissed_by_id=actor.id))
    session.flush()


__all__ = ["install_policy", "current_policy", "service_name", "banner_text",
           "open_incidents", "recent_incidents", "get_incident", "linked", "holds_clock",
           "waiting_ticket_ids", "link", "release_all", "link_by_hand", "unlink",
           "ticket_incidents", "close", "observe_check",
           "suggestions", "confirm", "dismiss", "SERVICES", "IncidentPolicy"]
