"""The health-check ticket rules, pure: a check's state and one result in, a decision out.

Nothing here touches the database, a clock, a thread or a plugin, so the rules are tested
as a table of result sequences and the tickets they should give
(tests/core/test_health_rules.py). :mod:`.recording` reads the state from the database,
asks :func:`advance` and :func:`decide`, and carries the decision out.

The rules, per device (an asset and all its checks share one open health ticket):

- **Outage.** ``failure_threshold`` bad results in a row (failure or error) of a check
  file the device's ticket, priority from the device's criticality. While it is open,
  later results add ``health`` notes at a bounded rate (one per check per
  ``event_interval`` unless the message changes); another check of the device that
  fails adds its note to the same ticket instead of filing a second one.
- **Warning.** A warning (toner low, certificate expiring) files one P4 ticket; a real
  failure later raises it to the device's priority.
- **Recovery.** ``recovery_threshold`` OK results in a row, while every other check of
  the device is well too, note the recovery and resolve the ticket as the system
  (unless a person has worked on it: then it is theirs to close).
- **Dependency.** A device behind another one (``Asset.depends_on``, a ward's router)
  files nothing while that one is failing: its failure is noted once on the upstream
  device's open ticket, or waits for it.
- **Flapping** (as Nagios and Icinga do it). The last :data:`HISTORY` results are kept
  as up/down; the *weighted state-change percentage* counts the changes between them,
  each weighted from 0.8 (oldest) to 1.2 (newest), over the 20 possible changes. The
  check starts flapping above ``flap_high`` percent and stops below ``flap_low``
  (hysteresis: it does not toggle at one threshold). Flapping starting files ONE ticket
  marked unstable (or marks the open one); while it flaps no outage ticket is filed and
  the ticket is not resolved. When it stops flapping the mark goes, and the ordinary
  rules take over: resolved if the device is well, an outage if it is down. A real
  outage after a quiet period is therefore an outage: the old changes weigh little and
  the percentage has fallen below the low threshold long before.

Timeline (one check, every minute, thresholds 3/2, flapping above 30 %, below 25 %)::

    10:00-10:05  u d u d u d     5 changes, 29 %: not yet          -> nothing
    10:06        u               6th change, 34 % > 30 %            -> ONE ticket, unstable
    10:07-10:15  d u d u ...     still switching (up to 79 %)       -> notes, 1 per 30 min
    10:16-10:30  u u u ...       stable: the changes age, 84 -> 26 %-> still unstable
    10:31        u               21 % < 25 %: stable again          -> recovered, resolved
    10:37-10:39  d d d           printer loses power: 1 change, 6 % -> an outage, filed
                                                                       at the 3rd failure
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...contracts import CheckStatus

UP, DOWN = "u", "d"
#: Results in the flapping history (Nagios' and Icinga's 21).
HISTORY = 21
#: Weights of the oldest and the newest change in the history.
LOW_WEIGHT, HIGH_WEIGHT = 0.8, 1.2

# What a decision may file: reasons (also in TicketEvent data["trigger"]).
FAILURE, WARNING, UNSTABLE = "failure", "warning", "flapping"


@dataclass(frozen=True)
class HealthPolicy:
    """The tunable rules (the web app fills them from ``HEALTH_*`` settings).

    :param event_interval: at most one ``health`` note per check on an open ticket per
        this period, unless the message changes.
    :param flap_high: a check starts flapping above this weighted change percentage ...
    :param flap_low: ... and stops below this one.
    :param retention_days: check records and ended outages older than this are pruned
        (the latest record per check is always kept).
    """

    event_interval: dt.timedelta = dt.timedelta(minutes=30)
    flap_high: float = 30.0
    flap_low: float = 25.0
    retention_days: int = 14


DEFAULT_POLICY = HealthPolicy()


_BAD = frozenset((CheckStatus.FAILURE.value, CheckStatus.ERROR.value))


def is_bad(status: str | None) -> bool:
    """Failure and error are bad; OK, warning and never-checked are not."""
    return status in _BAD


def flap_percent(history: str) -> float:
    """The weighted state-change percentage of *history* (oldest first, ``u``/``d``).

    The newest change weighs 1.2, the oldest possible one (between the first two of
    :data:`HISTORY` results) 0.8, linearly between; the sum is a share of the 20 changes
    a full history could hold. A shorter history counts as if the missing older
    results had not changed.
    """
    history = history[-HISTORY:]
    offset = HISTORY - len(history)  # where this history's first change sits in a full one
    total = 0.0
    for index in range(1, len(history)):
        if history[index] != history[index - 1]:
            position = index + offset  # 1 (oldest change) .. HISTORY - 1 (newest)
            total += LOW_WEIGHT + (HIGH_WEIGHT - LOW_WEIGHT) * (position - 1) / (HISTORY - 2)
    return total * 100.0 / (HISTORY - 1)


@dataclass(frozen=True)
class CheckState:
    """What the rules remember of one check between results.

    :param down: a confirmed outage (``failure_threshold`` bad results reached and not
        yet ``recovery_threshold`` OK ones): the "hard" state of Nagios.
    """

    last_status: str | None = None
    failures: int = 0
    successes: int = 0
    history: str = ""
    flapping: bool = False
    down: bool = False


@dataclass(frozen=True)
class Thresholds:
    """A check's own thresholds (results in a row)."""

    failure: int = 3
    recovery: int = 2

    @classmethod
    def of(cls, failure: int | None, recovery: int | None) -> "Thresholds":
        return cls(max(1, failure or 3), max(1, recovery or 2))


def advance(state: CheckState, status: str, thresholds: Thresholds,
            policy: HealthPolicy = DEFAULT_POLICY) -> CheckState:
    """The check's state after one more result *status*."""
    bad = is_bad(status)
    history = (state.history + (DOWN if bad else UP))[-HISTORY:]
    percent = flap_percent(history)
    flapping = percent >= policy.flap_low if state.flapping else percent > policy.flap_high
    if bad:
        failures, successes = state.failures + 1, 0
    elif status == CheckStatus.OK.value:
        failures, successes = 0, state.successes + 1
    else:  # a warning: the device answers, but is not fully well either
        failures, successes = 0, 0
    down = state.down
    if bad and failures >= thresholds.failure:
        down = True
    elif successes >= thresholds.recovery:
        down = False
    return CheckState(status, failures, successes, history, flapping, down)


@dataclass(frozen=True)
class OpenTicket:
    """What the rules need of the device's open health ticket.

    :param last_note: this check's latest note on it: (message, when), or None.
    :param recovery_noted: the ticket's latest health entry is a recovery.
    """

    priority: int
    flapping: bool = False
    worked_by_person: bool = False
    recovery_noted: bool = False
    last_note: tuple[str, dt.datetime] | None = None


@dataclass(frozen=True)
class Device:
    """What the rules need of the device (and the one it sits behind).

    :param priority: the priority its criticality gives an outage.
    :param others_well: every other check of the device is OK (or never ran) and none
        is flapping: a recovery may resolve the device's ticket.
    :param upstream_down: a device this one depends on is failing right now.
    :param upstream_ticket: ... and has an open health ticket.
    :param upstream_noted: this check's failure is already noted on that ticket.
    """

    priority: int = 3
    others_well: bool = True
    upstream_down: bool = False
    upstream_ticket: bool = False
    upstream_noted: bool = False


@dataclass(frozen=True)
class Decision:
    """What one result does. Several fields may be set at once.

    :param file: file the device's ticket for this reason (:data:`FAILURE`,
        :data:`WARNING`, :data:`UNSTABLE`).
    :param attach: note the failure on the upstream device's ticket instead.
    :param mark_unstable: mark the open ticket unstable (flapping started).
    :param mark_stable: clear the mark (flapping stopped); the other rules still apply.
    :param raise_priority: the open ticket gets the device's priority (a warning ticket
        whose device now fails for real).
    :param note: add a ``health`` note: ``"failing"`` or ``"warning"``.
    :param recovered: add the ``recovery`` entry.
    :param resolve: resolve the ticket as the system.
    :param change: ``"down"`` / ``"up"``: the check's first bad result after good ones,
        or the reverse (kept as the device's outage history, however short).
    :param confirmed: ``"down"`` / ``"up"``: the threshold was crossed (the outage is
        confirmed, or its recovery).
    """

    file: str | None = None
    attach: bool = False
    mark_unstable: bool = False
    mark_stable: bool = False
    raise_priority: bool = False
    note: str | None = None
    recovered: bool = False
    resolve: bool = False
    change: str | None = None
    confirmed: str | None = None


def transitions(before: CheckState, after: CheckState) -> tuple[str | None, str | None]:
    """(change, confirmed) between two states: see :class:`Decision`."""
    change = None
    if is_bad(after.last_status) and not is_bad(before.last_status):
        change = "down"
    elif is_bad(before.last_status) and not is_bad(after.last_status):
        change = "up"
    confirmed = None
    if after.down != before.down:
        confirmed = "down" if after.down else "up"
    return change, confirmed


def decide(before: CheckState, after: CheckState, message: str, now: dt.datetime,
           thresholds: Thresholds, device: Device, ticket: OpenTicket | None,
           policy: HealthPolicy = DEFAULT_POLICY) -> Decision:
    """What the result that took the check from *before* to *after* does to tickets."""
    change, confirmed = transitions(before, after)
    if ticket is None:
        what = _without_ticket(before, after, thresholds, device)
    else:
        what = _with_ticket(before, after, message, now, thresholds, device, ticket, policy)
    return Decision(change=change, confirmed=confirmed, **what)


def _without_ticket(before: CheckState, after: CheckState, thresholds: Thresholds,
                    device: Device) -> dict:
    started = after.flapping and not before.flapping
    failing = is_bad(after.last_status) and after.failures >= thresholds.failure
    if after.flapping and not started:
        return {}  # its unstable ticket was closed by a person: no storm of new ones
    if (started or failing) and device.upstream_down:
        # Behind a failing router: the router's ticket says it all.
        return {"attach": device.upstream_ticket and not device.upstream_noted}
    if started:
        return {"file": UNSTABLE}
    if failing:
        return {"file": FAILURE}
    if after.last_status == CheckStatus.WARNING.value:
        return {"file": WARNING}
    return {}


def _with_ticket(before: CheckState, after: CheckState, message: str, now: dt.datetime,
                 thresholds: Thresholds, device: Device, ticket: OpenTicket,
                 policy: HealthPolicy) -> dict:
    if after.flapping and not ticket.flapping:
        return {"mark_unstable": True}
    out: dict = {"mark_stable": ticket.flapping and not after.flapping}
    status = after.last_status
    if status == CheckStatus.OK.value:
        if (after.successes >= thresholds.recovery and not after.flapping
                and device.others_well):
            out.update(recovered=not ticket.recovery_noted,
                       resolve=not ticket.worked_by_person)
        return out
    bad = is_bad(status)
    out["raise_priority"] = (bad and after.failures >= thresholds.failure
                             and ticket.priority > device.priority)
    last = ticket.last_note
    if last is not None and last[0] == message and now - last[1] < policy.event_interval:
        return out  # said already, recently
    if bad and after.failures < thresholds.failure and last is None:
        return out  # another check's ticket: this one is not (yet) confirmed failing
    out["note"] = "failing" if bad else "warning"
    return out


__all__ = ["HealthPolicy", "DEFAULT_POLICY", "CheckState", "Thresholds", "OpenTicket",
           "Device", "Decision", "advance", "decide", "transitions", "flap_percent",
           "is_bad", "HISTORY", "UP", "DOWN", "FAILURE", "WARNING", "UNSTABLE"]
