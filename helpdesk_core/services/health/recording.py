"""Recording health results: store each one, ask the rules, carry their decision out.

:func:`record_results` stores a batch of results in one transaction (the caller
commits): per result the check's latest state, one :class:`CheckRecord`, the device's
outage history (:class:`CheckOutage`) and whatever :func:`.rules.decide` says about the
device's ticket. The partial unique index ``uq_ticket_open_health_asset`` keeps one open
health ticket per device even when two processes file at once. The rows a result
needs and writes are plain (:mod:`.state`); ORM objects only serve the ticket work, the
rare result that files, notes or resolves.

:func:`on_state_change` is the one place a check's confirmed failure or recovery is
announced; whatever else must follow a device going down or up (city-wide incidents)
belongs there.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, aliased

from ... import i18n
from ...contracts import CheckResult, CheckStatus
from ...errors import HelpdeskError, NotFound
from ...models import AssetCheck, CheckOutage, CheckRecord, Source, Status, Ticket, TicketEvent
from ...plugins import PluginRegistry
from ...privacy import mask_in, mask_personal_data
from .. import incidents, tickets
from . import rules
from .filing import PRIORITY_BY_CRITICALITY, check_label, file_ticket
from .rules import DEFAULT_POLICY, HealthPolicy
from .state import CheckRow, Devices, Writes

log = logging.getLogger(__name__)

MESSAGE_MAX = 1000
# Recent health entries of a ticket read to find one check's latest note.
NOTES_READ = 40


@dataclass
class Outcome:
    """What one recorded result did. ``action``: filed, flapping, attached, event,
    stable, recovered, resolved, or None (nothing about tickets). ``change`` and
    ``confirmed``: see :class:`.rules.Decision`."""

    check_id: int
    status: str
    message: str
    latency_ms: float | None
    checked_at: dt.datetime | None = None
    ticket_id: int | None = None
    action: str | None = None
    recorded: bool = True
    values: Mapping[str, Any] = field(default_factory=dict)
    change: str | None = None
    confirmed: str | None = None


@dataclass(frozen=True)
class PendingResult:
    """One finished run, waiting to be recorded."""

    check_id: int
    result: CheckResult
    latency_ms: float | None
    when: dt.datetime


def open_tickets_for(session: Session, asset_ids: Sequence[int]) -> dict[int, Ticket]:
    """The open health tickets of these devices: asset id -> ticket (one each, by the
    unique index)."""
    if not asset_ids:
        return {}
    return {ticket.asset_id: ticket for ticket in session.scalars(
        select(Ticket).where(Ticket.asset_id.in_(asset_ids),
                             Ticket.source == Source.HEALTH_CHECK,
                             Ticket.status.in_(Status.OPEN)))}


def open_ticket_for(session: Session, check_id: int) -> Ticket | None:
    """The open health ticket of the device check *check_id* belongs to, if any."""
    asset_id = session.scalar(select(AssetCheck.asset_id).where(AssetCheck.id == check_id))
    return open_tickets_for(session, [asset_id]).get(asset_id) if asset_id else None


def record_result(session: Session, registry: PluginRegistry, check_id: int,
                  result: CheckResult, latency_ms: float | None, now: dt.datetime,
                  policy: HealthPolicy = DEFAULT_POLICY) -> Outcome:
    """Store one result of check *check_id* and apply the ticket rules (caller commits).

    :raises NotFound: the check no longer exists.
    """
    [outcome] = record_results(session, registry,
                               [PendingResult(check_id, result, latency_ms, now)], policy)
    if outcome is None:
        raise NotFound("Health check %(id)s not found.", id=check_id)
    return outcome


def record_results(session: Session, registry: PluginRegistry,
                   pending: Sequence[PendingResult],
                   policy: HealthPolicy = DEFAULT_POLICY) -> list[Outcome | None]:
    """Store many results and apply the ticket rules to each, in order (caller commits).

    A fixed number of queries for the whole batch, besides what tickets need: one loads
    the checks with their devices, a few the devices' other checks, upstream devices and
    open tickets; one executemany statement each writes the checks' new state, the
    records and the new outages (:mod:`.state`). The check rows are locked (``FOR
    UPDATE`` on PostgreSQL, in id order so two batches cannot deadlock), so concurrent
    recorders of a check queue up; the unique index catches a ticket filed by another
    process. The outcome is None for a check that no longer exists.
    """
    devices = Devices(session, sorted({item.check_id for item in pending}))
    devices.tickets = open_tickets_for(session, list(devices.assets))
    writes = Writes()
    outcomes: list[Outcome | None] = []
    for item in pending:
        check = devices.batch.get(item.check_id)
        outcomes.append(None if check is None
                        else _record(session, registry, check, devices, writes, item, policy))
    session.flush()
    writes.flush(session)
    return outcomes


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def _record(session: Session, registry: PluginRegistry, check: CheckRow, devices: Devices,
            writes: Writes, item: PendingResult, policy: HealthPolicy) -> Outcome:
    result, now = item.result, item.when
    status = CheckStatus(result.status).value
    message = mask_personal_data(str(result.message or ""))[:MESSAGE_MAX]
    # A device's message or values can echo personal data (a recipient, a card holder).
    values = mask_in(_jsonable(result.values or {}))
    latency = result.latency_ms if result.latency_ms is not None else item.latency_ms
    latency = round(latency, 2) if latency is not None else None

    thresholds = rules.Thresholds.of(check.failure_threshold, check.recovery_threshold)
    before = check.state()
    after = rules.advance(before, status, thresholds, policy)
    check.advance(after, message, latency, now)
    writes.record(check, values)

    asset = devices.assets[check.asset_id]
    ticket = devices.tickets.get(asset.id)
    upstream_down, upstream_ticket = devices.upstream(asset)
    data = {"check_id": check.id, "check_type": check.check_type, "status": status,
            "message": message, "values": values}
    device = rules.Device(
        priority=PRIORITY_BY_CRITICALITY.get(asset.criticality, 3),
        others_well=devices.others_well(check), upstream_down=upstream_down,
        upstream_ticket=upstream_ticket is not None,
        upstream_noted=upstream_ticket is not None
        and _last_note(session, upstream_ticket, check.id)[0] is not None)
    view = None
    if ticket is not None:
        last_note, recovery_noted = _last_note(session, ticket, check.id)
        view = rules.OpenTicket(ticket.priority, bool(ticket.flapping),
                                bool(ticket.worked_by_person), recovery_noted, last_note)
    decision = rules.decide(before, after, message, now, thresholds, device, view, policy)

    outcome = Outcome(check.id, status, message, latency, now, values=values,
                      ticket_id=ticket.id if ticket else None, change=decision.change,
                      confirmed=decision.confirmed)
    if _touches_tickets(decision):
        _apply(session, registry, _orm_check(session, writes, check), devices, ticket,
               upstream_ticket, decision, data, now, after, outcome)
    if decision.change or decision.confirmed:
        on_state_change(session, writes, check, decision, message, now, outcome)
    # City-wide incidents (services/incidents.py): after the result and its ticket, a
    # shared service failing in several wards opens one incident and links the wards'
    # tickets; its recovery resolves it. Only a device of a shared service takes part.
    if asset.service_key:
        incidents.observe_check(session, registry, _orm_check(session, writes, check), now)
    return outcome


def _touches_tickets(decision: rules.Decision) -> bool:
    """Whether :func:`_apply` has anything to do (most results leave tickets alone)."""
    return bool(decision.file is not None or decision.attach or decision.mark_unstable
                or decision.mark_stable or decision.raise_priority
                or decision.note is not None or decision.recovered or decision.resolve)


def _orm_check(session: Session, writes: Writes, check: CheckRow) -> AssetCheck:
    """The check as an ORM object for ticket and incident work, after the batch's writes
    so far (so it, and whatever that work reads, shows the results up to this one)."""
    writes.flush(session)
    found = session.get(AssetCheck, check.id)
    if found is None:  # locked for the batch on PostgreSQL; SQLite has one writer
        raise NotFound("Health check %(id)s not found.", id=check.id)
    return found


def _last_note(session: Session, ticket: Ticket,
               check_id: int) -> tuple[tuple[str, dt.datetime] | None, bool]:
    """This check's latest note on *ticket* (message, when), and whether the ticket's
    latest health entry is a recovery."""
    recent = list(session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                  TicketEvent.kind.in_(("health", "recovery")))
        .order_by(TicketEvent.id.desc()).limit(NOTES_READ)))
    recovery_noted = bool(recent) and recent[0].kind == "recovery"
    for event in recent:
        if event.kind == "health" and (event.data or {}).get("check_id") == check_id:
            return (str(event.data.get("message", "")), event.created_at), recovery_noted
    return None, recovery_noted


def _apply(session: Session, registry: PluginRegistry, check: AssetCheck, devices: Devices,
           ticket: Ticket | None, upstream: Ticket | None, decision: rules.Decision,
           data: dict[str, Any], now: dt.datetime, after: rules.CheckState,
           outcome: Outcome) -> None:
    """Carry one decision out, in the order the rules mean it."""
    label = check_label(registry, check)
    message = data["message"]
    if decision.attach and upstream is not None:
        tickets.record_event(session, registry, upstream, "health", None, now,
                             new=data["status"], data=dict(data, downstream=check.asset_id),
                             body=i18n.gettext(
                                 "%(asset)s, behind this device, fails too (check "
                                 "“%(check)s”): %(detail)s", asset=check.asset.name,
                                 check=label, detail=message))
        outcome.ticket_id, outcome.action = upstream.id, "attached"
    if decision.file is not None:
        ticket, filed = file_ticket(session, registry, check, decision.file, data, now,
                                    lambda: open_ticket_for(session, check.id))
        if ticket is not None:
            devices.tickets[check.asset_id] = ticket
            outcome.ticket_id = ticket.id
            outcome.action = (("flapping" if decision.file == rules.UNSTABLE else "filed")
                              if filed else "event")
        return
    if ticket is None:
        return
    if decision.mark_unstable:
        ticket.flapping = True
        tickets.record_event(session, registry, ticket, "health", None, now, new="flapping",
                             body=i18n.gettext(
                                 "Check “%(check)s” keeps switching between working and "
                                 "failing (%(percent)d %% weighted changes in its last "
                                 "%(count)d results).", check=label,
                                 percent=round(rules.flap_percent(after.history)),
                                 count=len(after.history)),
                             data=dict(data, flapping=True))
        outcome.action = "flapping"
    if decision.mark_stable:
        ticket.flapping = False
        tickets.record_event(session, registry, ticket, "health", None, now, new="stable",
                             body=i18n.gettext("Check “%(check)s” no longer switches: it "
                                               "has been stable for a while.", check=label),
                             data=dict(data, flapping=False))
        outcome.action = "stable"
    if decision.raise_priority:
        try:
            tickets.change_priority(session, registry, ticket, None,
                                    PRIORITY_BY_CRITICALITY.get(check.asset.criticality, 3),
                                    i18n.gettext("The device now fails: %(detail)s",
                                                 detail=message), now)
        except HelpdeskError as exc:
            log.warning("could not raise the priority of %s: %s", ticket.number, exc)
    if decision.note is not None:
        _note(session, registry, check, ticket, decision.note, label, data, now, after)
        outcome.action = "event"
    if decision.recovered:
        tickets.record_event(session, registry, ticket, "recovery", None, now,
                             new=data["status"], data=data, body=i18n.gettext(
                                 "The check works again (%(count)d good results in a row): "
                                 "%(detail)s", count=after.successes, detail=message))
        outcome.action = "recovered"
    if decision.resolve:
        try:
            tickets.perform(session, registry, ticket, None, "resolve", now,
                            reason=i18n.gettext("Resolved by itself: the health check "
                                                "works again."))
            devices.tickets.pop(check.asset_id, None)
            outcome.action = "resolved"
        except HelpdeskError as exc:  # the lifecycle may forbid it; leave it open
            log.warning("could not resolve %s after recovery: %s", ticket.number, exc)


def _note(session: Session, registry: PluginRegistry, check: AssetCheck, ticket: Ticket,
          kind: str, label: str, data: dict[str, Any], now: dt.datetime,
          after: rules.CheckState) -> None:
    message = data["message"]
    if kind == "warning":
        body = i18n.gettext("Warning: %(detail)s", detail=message)
    elif ticket.check_id not in (None, check.id):
        # The device's ticket was filed by another of its checks: say which one fails.
        body = i18n.gettext("Check “%(check)s” fails too (%(count)d times in a row): "
                            "%(detail)s", check=label, count=after.failures, detail=message)
    else:
        body = i18n.gettext("Still failing (%(count)d times in a row): %(detail)s",
                            count=after.failures, detail=message)
    tickets.record_event(session, registry, ticket, "health", None, now, new=data["status"],
                         body=body, data=data)


def on_state_change(session: Session, writes: Writes, check: CheckRow,
                    decision: rules.Decision, message: str, now: dt.datetime,
                    outcome: Outcome) -> None:
    """A check went down or came back (``decision.change``), or its outage was confirmed
    or its recovery (``decision.confirmed``): keep the device's outage history.

    The one call site for whatever must follow a device's state (a city-wide incident
    reads ``decision.confirmed`` here, with the device's ward and ``check.check_type``).
    Runs inside the recording transaction; does not commit. A new outage waits in
    *writes* with the batch's other rows; an ended or confirmed one is updated at once.
    """
    if decision.change == "down":
        outage = writes.new_outage(check, now, message)
        if decision.confirmed == "down":
            outage.update(confirmed=True, ticket_id=outcome.ticket_id)
        return
    if not (decision.change == "up" or decision.confirmed == "down"):
        return
    writes.flush(session)  # the outage may be one of this batch's
    outage_id = session.scalar(select(CheckOutage.id)
                               .where(CheckOutage.check_id == check.id,
                                      CheckOutage.ended_at.is_(None))
                               .order_by(CheckOutage.id.desc()).limit(1))
    if outage_id is None:
        return
    changes: dict[str, Any] = {}
    if decision.confirmed == "down":
        changes.update(confirmed=True, ticket_id=outcome.ticket_id)
    if decision.change == "up":
        changes["ended_at"] = now
    session.execute(update(CheckOutage).where(CheckOutage.id == outage_id).values(changes))


def prune_records(session: Session, now: dt.datetime, keep_days: int = 14,
                  batch_size: int = 1000) -> int:
    """Delete check records older than *keep_days*, in batches (each its own commit),
    never the latest record of a check; and outages that ended before then. Returns how
    many records were deleted."""
    cutoff = now - dt.timedelta(days=keep_days)
    newer = aliased(CheckRecord)
    # A record may go if a newer one of the same check exists (index: check_id, checked_at).
    has_newer = (select(newer.id).where(newer.check_id == CheckRecord.check_id,
                                        newer.checked_at > CheckRecord.checked_at)
                 .exists())
    deleted = 0
    while True:
        ids = list(session.scalars(select(CheckRecord.id)
                                   .where(CheckRecord.checked_at < cutoff, has_newer)
                                   .order_by(CheckRecord.id).limit(batch_size)))
        if not ids:
            break
        session.execute(delete(CheckRecord).where(CheckRecord.id.in_(ids))
                        .execution_options(synchronize_session=False))
        session.commit()
        deleted += len(ids)
        if len(ids) < batch_size:
            break
    session.execute(delete(CheckOutage).where(CheckOutage.ended_at < cutoff)
                    .execution_options(synchronize_session=False))
    session.commit()
    return deleted
