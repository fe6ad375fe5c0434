"""Recording health results: store each one, ask the rules, carry their decision out.

:func:`record_results` stores a batch of results in one transaction (the caller
commits): per result the check's latest state, one :class:`CheckRecord`, the device's
outage history (:class:`CheckOutage`) and whatever :func:`.rules.decide` says about the
device's ticket. The partial unique index ``uq_ticket_open_health_asset`` keeps one open
health ticket per device even when two processes file at once.

:func:`on_state_change` is the one place a check's confirmed failure or recovery is
announced; whatever else must follow a device going down or up (city-wide incidents)
belongs there.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, aliased, joinedload

from ... import i18n
from ...contracts import CheckResult, CheckStatus
from ...errors import HelpdeskError, NotFound
from ...models import (Asset, AssetCheck, CheckOutage, CheckRecord, Source, Status, Ticket,
                       TicketEvent)
from ...plugins import PluginRegistry
from ...privacy import mask_in, mask_personal_data
from .. import incidents, tickets
from . import rules
from .filing import PRIORITY_BY_CRITICALITY, check_label, file_ticket
from .rules import DEFAULT_POLICY, HealthPolicy

log = logging.getLogger(__name__)

MESSAGE_MAX = 1000
# How far up a chain of "depends on" the rules look (a loop in the data ends there too).
UPSTREAM_DEPTH = 4
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


class _Devices:
    """The devices of one batch: their checks, the devices they sit behind, and the
    open tickets of all of them, read with a few queries for the whole batch."""

    def __init__(self, session: Session, assets: Sequence[Asset]) -> None:
        self.assets: dict[int, Asset] = {asset.id: asset for asset in assets}
        wanted = {asset.depends_on_id for asset in assets} - {None} - set(self.assets)
        for _ in range(UPSTREAM_DEPTH):  # the chains, a level per query
            if not wanted:
                break
            found = list(session.scalars(select(Asset).where(Asset.id.in_(wanted))))
            self.assets.update((asset.id, asset) for asset in found)
            wanted = {asset.depends_on_id for asset in found} - {None} - set(self.assets)
        self.checks: dict[int, list[AssetCheck]] = {asset_id: [] for asset_id in self.assets}
        for check in session.scalars(select(AssetCheck).where(
                AssetCheck.asset_id.in_(list(self.assets)))):
            self.checks[check.asset_id].append(check)
        self.tickets = open_tickets_for(session, list(self.assets))

    def upstream(self, asset: Asset) -> tuple[bool, Ticket | None]:
        """Whether a device *asset* depends on is failing, and the nearest such one's
        open ticket."""
        down, ticket, seen = False, None, {asset.id}
        current = self.assets.get(asset.depends_on_id) if asset.depends_on_id else None
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.active and any(c.enabled and rules.is_bad(c.last_status)
                                      for c in self.checks.get(current.id, [])):
                down = True
                if ticket is None:
                    ticket = self.tickets.get(current.id)
            current = (self.assets.get(current.depends_on_id)
                       if current.depends_on_id else None)
        return down, ticket

    def others_well(self, check: AssetCheck) -> bool:
        return all(other.last_status in (None, CheckStatus.OK.value) and not other.flapping
                   for other in self.checks.get(check.asset_id, [])
                   if other.id != check.id and other.enabled)


def record_results(session: Session, registry: PluginRegistry,
                   pending: Sequence[PendingResult],
                   policy: HealthPolicy = DEFAULT_POLICY) -> list[Outcome | None]:
    """Store many results and apply the ticket rules to each, in order (caller commits).

    A fixed number of queries for the whole batch, besides what tickets need: one loads
    the checks with their assets and wards, a few the devices' other checks, upstream
    devices and open tickets. The check rows are locked (``FOR UPDATE`` on PostgreSQL,
    in id order so two batches cannot deadlock), so concurrent recorders of a check
    queue up; the unique index catches a ticket filed by another process. The outcome
    is None for a check that no longer exists.
    """
    ids = sorted({item.check_id for item in pending})
    checks = {check.id: check for check in session.scalars(
        select(AssetCheck).where(AssetCheck.id.in_(ids)).order_by(AssetCheck.id)
        .options(joinedload(AssetCheck.asset).joinedload(Asset.ward))
        .with_for_update(of=AssetCheck))}
    devices = _Devices(session, list({c.asset.id: c.asset for c in checks.values()}.values()))
    outcomes: list[Outcome | None] = []
    for item in pending:
        check = checks.get(item.check_id)
        outcomes.append(None if check is None
                        else _record(session, registry, check, devices, item, policy))
    session.flush()
    return outcomes


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def _state_of(check: AssetCheck) -> rules.CheckState:
    return rules.CheckState(check.last_status, check.consecutive_failures or 0,
                            check.consecutive_successes or 0, check.state_history or "",
                            bool(check.flapping), bool(check.confirmed_down))


def _record(session: Session, registry: PluginRegistry, check: AssetCheck, devices: _Devices,
            item: PendingResult, policy: HealthPolicy) -> Outcome:
    result, now = item.result, item.when
    status = CheckStatus(result.status).value
    message = mask_personal_data(str(result.message or ""))[:MESSAGE_MAX]
    # A device's message or values can echo personal data (a recipient, a card holder).
    values = mask_in(_jsonable(result.values or {}))
    latency = result.latency_ms if result.latency_ms is not None else item.latency_ms
    latency = round(latency, 2) if latency is not None else None

    thresholds = rules.Thresholds.of(check.failure_threshold, check.recovery_threshold)
    before = _state_of(check)
    after = rules.advance(before, status, thresholds, policy)
    check.last_status, check.last_message = status, message
    check.last_latency_ms, check.last_checked_at = latency, now
    check.consecutive_failures, check.consecutive_successes = after.failures, after.successes
    check.state_history, check.flapping = after.history, after.flapping
    check.confirmed_down = after.down
    session.add(CheckRecord(check_id=check.id, status=status, message=message, values=values,
                            latency_ms=latency, checked_at=now))

    asset = check.asset
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
    _apply(session, registry, check, devices, ticket, upstream_ticket, decision, data, now,
           after, outcome)
    if decision.change or decision.confirmed:
        on_state_change(session, registry, check, decision, message, now, outcome)
    # City-wide incidents (services/incidents.py): after the result and its ticket, a
    # shared service failing in several wards opens one incident and links the wards'
    # tickets; its recovery resolves it. Returns at once for a device of no service.
    incidents.observe_check(session, registry, check, now)
    return outcome


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


def _apply(session: Session, registry: PluginRegistry, check: AssetCheck, devices: _Devices,
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


def on_state_change(session: Session, registry: PluginRegistry, check: AssetCheck,
                    decision: rules.Decision, message: str, now: dt.datetime,
                    outcome: Outcome) -> None:
    """A check went down or came back (``decision.change``), or its outage was confirmed
    or its recovery (``decision.confirmed``): keep the device's outage history.

    The one call site for whatever must follow a device's state (a city-wide incident
    reads ``decision.confirmed`` here, with ``check.asset.ward_id`` and
    ``check.check_type``). Runs inside the recording transaction; does not commit.
    """
    outage = None
    if decision.change == "down":
        # Kept in hand, not flushed: a flush per failing device wrote a sweep's results
        # row by row; the batch's one flush writes them together.
        outage = CheckOutage(check_id=check.id, asset_id=check.asset_id, started_at=now,
                             message=message)
        session.add(outage)
    elif decision.change == "up" or decision.confirmed == "down":
        outage = session.scalar(select(CheckOutage)
                                .where(CheckOutage.check_id == check.id,
                                       CheckOutage.ended_at.is_(None))
                                .order_by(CheckOutage.id.desc()).limit(1))
    if outage is None:
        return
    if decision.confirmed == "down":
        outage.confirmed = True
        outage.ticket_id = outcome.ticket_id
    if decision.change == "up":
        outage.ended_at = now


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
