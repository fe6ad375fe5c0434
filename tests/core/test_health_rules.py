"""The health ticket rules, pure: result sequences in, tickets out; no database, no threads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from helpdesk_core.services.health import rules
from helpdesk_core.services.health.rules import (CheckState, Decision, Device, OpenTicket,
                                                 Thresholds, advance, decide, flap_percent)

T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.timezone.utc)
MINUTE = dt.timedelta(minutes=1)
STATUS = {"o": "ok", "f": "failure", "e": "error", "w": "warning"}


@dataclass
class Ticket:
    """The test's stand-in for the device's open ticket: what the decisions did to it."""

    reason: str
    priority: int
    flapping: bool
    notes: list[tuple[str, dt.datetime]]
    recovery_noted: bool = False
    worked_by_person: bool = False


def run(sequence: str, *, failure: int = 3, recovery: int = 2, priority: int = 3,
        device: Device | None = None, worked: bool = False,
        step: dt.timedelta = MINUTE) -> tuple[list[str], list[Ticket]]:
    """Feed *sequence* (o, f, e, w per result) to the rules; return one symbol per result
    (``F`` filed failure, ``W`` filed warning, ``U`` filed unstable, ``u`` marked unstable,
    ``s`` marked stable, ``n`` note, ``r`` recovered, ``R`` resolved, ``p`` priority
    raised, ``A`` attached upstream, ``.`` nothing) and the tickets filed."""
    thresholds = Thresholds(failure, recovery)
    device = device or Device(priority=priority)
    state, ticket, filed, out = CheckState(), None, [], []
    for index, char in enumerate(sequence):
        now = T0 + index * step
        message = STATUS[char]
        after = advance(state, STATUS[char], thresholds)
        view = None if ticket is None else OpenTicket(
            ticket.priority, ticket.flapping, ticket.worked_by_person, ticket.recovery_noted,
            ticket.notes[-1] if ticket.notes else None)
        decision = decide(state, after, message, now, thresholds, device, view)
        symbols = ""
        if decision.attach:
            symbols += "A"
        if decision.file:
            ticket = Ticket(decision.file, 4 if decision.file == rules.WARNING else priority,
                            decision.file == rules.UNSTABLE, [(message, now)],
                            worked_by_person=worked)
            filed.append(ticket)
            symbols += {"failure": "F", "warning": "W", "flapping": "U"}[decision.file]
        if decision.mark_unstable:
            ticket.flapping = True
            symbols += "u"
        if decision.mark_stable:
            ticket.flapping = False
            symbols += "s"
        if decision.raise_priority:
            ticket.priority = priority
            symbols += "p"
        if decision.note:
            ticket.notes.append((message, now))
            ticket.recovery_noted = False
            symbols += "n"
        if decision.recovered:
            ticket.recovery_noted = True
            symbols += "r"
        if decision.resolve:
            ticket = None
            symbols += "R"
        out.append(symbols or ".")
        state = after
    return out, filed


@pytest.mark.parametrize("sequence, expected", [
    # Two failures are no outage; the third files one ticket; repeats are not noted.
    ("ff", ".."),
    ("fff", "..F"),
    ("ffffff", "..F..."),
    # Errors count as failures; a warning in between breaks the run.
    ("fef", "..F"),
    ("ffwff", "..Wn."),
    ("ffwfff", "..Wn.p"),
    # Recovery: two OK results resolve; one does not.
    ("fffo", "..F."),
    ("fffoo", "..F.rR"),
    # A new outage after the fix is a new ticket.
    ("fffoofff", "..F.rR..F"),
    # A warning files one P4 ticket and is not repeated; OK twice resolves it.
    ("www", "W.."),
    ("wwoo", "W..rR"),
])
def test_outages_warnings_and_recoveries(sequence, expected):
    symbols, _ = run(sequence)
    assert "".join(s if len(s) == 1 else f"[{s}]" for s in symbols) == _expand(expected)


def _expand(expected: str) -> str:
    # "rR" in the table means one result that both notes the recovery and resolves.
    return expected.replace("rR", "[rR]")


def test_a_failure_noted_again_after_the_event_interval_or_a_new_message():
    symbols, _ = run("fff" + "f" * 40)
    assert symbols[2] == "F"
    assert symbols.count("n") == 1 and symbols.index("n") == 2 + 30  # 30 minutes later
    symbols, _ = run("fffe")  # the message changes: worth a note at once
    assert symbols == [".", ".", "F", "n"]


def test_a_worked_ticket_is_noted_recovered_but_left_open():
    symbols, filed = run("fffoooo", worked=True)
    assert symbols == [".", ".", "F", ".", "r", ".", "."]
    assert len(filed) == 1


def test_priority_rises_when_a_warning_ticket_fails_for_real():
    symbols, [ticket] = run("wfff", priority=2)
    assert symbols[0] == "W" and "p" in symbols[3]
    assert ticket.priority == 2


def test_the_weighted_change_percentage():
    assert flap_percent("") == flap_percent("u") == flap_percent("u" * 21) == 0.0
    assert flap_percent("ud" * 10 + "u") == pytest.approx(100.0)
    # The newest change weighs 1.2, the oldest 0.8, of 20 changes.
    assert flap_percent("u" * 20 + "d") == pytest.approx(1.2 * 100 / 20)
    assert flap_percent("d" + "u" * 20) == pytest.approx(0.8 * 100 / 20)
    # Only the last 21 results count.
    assert flap_percent("ud" * 30 + "u" * 21) == 0.0


def test_hysteresis_starts_above_the_high_and_stops_below_the_low_threshold():
    policy = rules.HealthPolicy(flap_high=30.0, flap_low=25.0)
    th = Thresholds()
    between = CheckState(history="u" * 13 + "udududud")  # 8 changes of high weight ~ 46 %
    assert flap_percent(between.history) > 30
    assert advance(between, "failure", th, policy).flapping
    # A history between the thresholds keeps whatever the check was doing.
    middle = "u" * 14 + "ududud"  # 27.7 % before the next result
    assert 25 < flap_percent(middle + "d") < 30
    assert not advance(CheckState(history=middle), "failure", th, policy).flapping
    assert advance(CheckState(history=middle, flapping=True), "failure", th, policy).flapping


@pytest.mark.parametrize("sequence, filed, open_at_end", [
    # Up and down every minute: one unstable ticket, filed at the sixth change.
    ("ofofofofofofofof", ["flapping"], True),
    # ... resolved once the changes have aged below 25 %, with no new ticket.
    ("ofofofofofofofof" + "o" * 21, ["flapping"], False),
    # A real outage a quiet while after an unstable period is an outage, not "unstable".
    ("ofofofofofofofof" + "o" * 21 + "fff", ["flapping", "failure"], True),
    # A printer down a minute, twice, 14 minutes apart, then a real power loss: outages.
    ("o" * 5 + "f" + "o" * 14 + "f" + "o" * 14 + "fff", ["failure"], True),
    # A kiosk down 20 s every minute, checked every 10 s: never 3 failures in a row,
    # but unstable: one ticket.
    ("oooodd" * 6, ["flapping"], True),
])
def test_flapping_timelines(sequence, filed, open_at_end):
    symbols, tickets = run(sequence.replace("d", "f"))
    assert [t.reason for t in tickets] == filed
    last_filed = max(i for i, s in enumerate(symbols) if set(s) & set("FWU"))
    resolved = any("R" in s for s in symbols[last_filed:])
    assert resolved != open_at_end


def test_an_unstable_ticket_resolves_after_a_stable_period_not_before():
    flapping = "of" * 8
    symbols, [ticket] = run(flapping + "o" * 21)
    first_ok_run = len(flapping)
    resolved_at = next(i for i, s in enumerate(symbols) if "R" in s)
    stable_needed = next(n for n in range(1, 22)
                         if flap_percent("".join("d" if c == "f" else "u" for c in flapping)
                                         + "u" * n) < 25.0)
    assert resolved_at == first_ok_run + stable_needed - 1
    assert "s" in symbols[resolved_at] and "r" in symbols[resolved_at]
    assert not any("R" in s for s in symbols[:resolved_at])


def test_an_open_outage_that_starts_flapping_is_marked_not_refiled():
    symbols, filed = run("fff" + "of" * 8)
    assert len(filed) == 1 and filed[0].reason == "failure"
    assert symbols.count("u") == 1
    assert not any("R" in s for s in symbols)


# --- one ticket per device, and dependencies ---------------------------------------

def test_a_recovery_waits_for_the_devices_other_checks():
    symbols, _ = run("fffoooo", device=Device(others_well=False))
    assert not any("R" in s or "r" in s for s in symbols)


def test_behind_a_failing_device_a_failure_attaches_once_instead_of_filing():
    upstream = Device(upstream_down=True, upstream_ticket=True)
    symbols, filed = run("ffff", device=upstream)
    assert filed == [] and symbols == [".", ".", "A", "A"]  # the test device never notes
    noted = Device(upstream_down=True, upstream_ticket=True, upstream_noted=True)
    assert run("ffff", device=noted) == ([".", ".", ".", "."], [])
    # The upstream device is failing but has no ticket yet: wait for it.
    assert run("ffff", device=Device(upstream_down=True)) == ([".", ".", ".", "."], [])


def test_transitions_for_history_and_incidents():
    th = Thresholds()
    ok = advance(CheckState(), "ok", th)
    down1 = advance(ok, "failure", th)
    assert rules.transitions(ok, down1) == ("down", None)
    down3 = advance(advance(down1, "failure", th), "failure", th)
    assert rules.transitions(advance(down1, "failure", th), down3) == (None, "down")
    up1 = advance(down3, "ok", th)
    assert rules.transitions(down3, up1) == ("up", None)
    assert rules.transitions(up1, advance(up1, "ok", th)) == (None, "up")
    assert decide(ok, down1, "x", T0, th, Device(), None) == Decision(change="down")
