"""Who gets what, and when: the pure rules of issue 14, as a table of cases."""

from __future__ import annotations

import pytest

from helpdesk_core.services import notify_rules as rules
from helpdesk_core.services.notify_rules import EventFacts, People, Recipient

STAFF, ASSIGNEE, S1, S2, C1, C2 = 10, 20, 31, 32, 41, 42
PEOPLE = People(on_duty=(S1, S2), coordinators=(C1, C2))

CASES = [
    # (case, facts, expected recipients)
    ("new ticket -> on-duty students",
     EventFacts("filed", actor_id=STAFF, priority=3, reporter_id=STAFF, reporter_is_staff=True),
     [Recipient(S1, rules.TICKET_NEW), Recipient(S2, rules.TICKET_NEW)]),
    ("citizen waiting -> urgent",
     EventFacts("filed", actor_id=STAFF, priority=2, citizen_waiting=True),
     [Recipient(S1, rules.TICKET_URGENT, True), Recipient(S2, rules.TICKET_URGENT, True)]),
    ("priority 1 -> urgent",
     EventFacts("filed", actor_id=STAFF, priority=1),
     [Recipient(S1, rules.TICKET_URGENT, True), Recipient(S2, rules.TICKET_URGENT, True)]),
    ("health check ticket -> the ward's students",
     EventFacts("filed", actor_id=None, priority=2, from_health_check=True),
     [Recipient(S1, rules.AUTO_TICKET), Recipient(S2, rules.AUTO_TICKET)]),
    ("raised to P1 -> the assignee, urgent",
     EventFacts("priority", old="3", new="1", actor_id=C1, priority=1, assignee_id=ASSIGNEE),
     [Recipient(ASSIGNEE, rules.TICKET_URGENT, True)]),
    ("lowered priority -> nobody",
     EventFacts("priority", old="1", new="3", actor_id=C1, priority=3, assignee_id=ASSIGNEE),
     []),
    ("SLA at risk -> assignee",
     EventFacts("sla_at_risk", new="resolution", priority=3, assignee_id=ASSIGNEE),
     [Recipient(ASSIGNEE, rules.SLA_RISK)]),
    ("SLA at risk, nobody assigned -> on-duty students",
     EventFacts("sla_at_risk", new="response", priority=3),
     [Recipient(S1, rules.SLA_RISK), Recipient(S2, rules.SLA_RISK)]),
    ("breach -> assignee and coordinators",
     EventFacts("sla_breached", new="resolution", priority=2, assignee_id=ASSIGNEE),
     [Recipient(ASSIGNEE, rules.SLA_BREACH), Recipient(C1, rules.SLA_BREACH),
      Recipient(C2, rules.SLA_BREACH)]),
    ("breach of a P1 is urgent",
     EventFacts("sla_breached", new="response", priority=1, assignee_id=ASSIGNEE),
     [Recipient(ASSIGNEE, rules.SLA_BREACH, True), Recipient(C1, rules.SLA_BREACH, True),
      Recipient(C2, rules.SLA_BREACH, True)]),
    ("escalation to 1022 -> coordinators, not the escalating one",
     EventFacts("escalated", old="0", new="1", actor_id=C1, priority=3, assignee_id=ASSIGNEE),
     [Recipient(C2, rules.ESCALATED)]),
    ("escalation to the vendor -> nobody",
     EventFacts("escalated", old="1", new="2", actor_id=ASSIGNEE, priority=3), []),
    ("resolved -> the staff who filed it",
     EventFacts("status", old="in_progress", new="resolved", actor_id=ASSIGNEE,
                reporter_id=STAFF, reporter_is_staff=True, assignee_id=ASSIGNEE),
     [Recipient(STAFF, rules.RESOLVED)]),
    ("resolved, filed by a health check -> nobody",
     EventFacts("status", new="resolved", actor_id=None, from_health_check=True), []),
    ("resolved, filed by a coordinator -> nobody",
     EventFacts("status", new="resolved", actor_id=ASSIGNEE, reporter_id=C1,
                reporter_is_staff=False), []),
    ("resolved by the filer -> nobody (not told of one's own act)",
     EventFacts("status", new="resolved", actor_id=STAFF, reporter_id=STAFF,
                reporter_is_staff=True), []),
    ("other status change -> nobody",
     EventFacts("status", old="assigned", new="in_progress", actor_id=ASSIGNEE), []),
    ("comment -> nobody", EventFacts("comment", actor_id=STAFF), []),
    ("the student who is both assignee and on duty is told once",
     EventFacts("sla_at_risk", priority=3, assignee_id=S1),
     [Recipient(S1, rules.SLA_RISK)]),
]


@pytest.mark.parametrize("facts, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_who_gets_what(facts, expected):
    assert rules.recipients(facts, PEOPLE) == expected


@pytest.mark.parametrize("facts, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_coordinators_are_read_only_for_the_events_that_may_tell_them(facts, expected):
    """The outbox reads the coordinators only when needs_coordinators says so: without
    them, every other event reaches exactly the same people."""
    without = rules.recipients(facts, People(on_duty=PEOPLE.on_duty))
    if rules.needs_coordinators(facts):
        assert any(r.user_id in PEOPLE.coordinators for r in expected) or not expected
    else:
        assert without == expected


def test_nobody_on_duty_means_nobody_told():
    facts = EventFacts("filed", actor_id=STAFF, priority=1)
    assert rules.recipients(facts, People()) == []


WHEN = [
    # (case, kind, priority, enabled, working time, digestible, decision)
    ("working hours: at once", rules.TICKET_NEW, 3, None, True, True, rules.SEND),
    ("closed: held for the digest", rules.TICKET_NEW, 3, None, False, True, rules.HOLD),
    ("closed, P2 citizen waiting: held", rules.TICKET_URGENT, 2, None, False, True, rules.HOLD),
    ("closed, P1: at once", rules.TICKET_URGENT, 1, None, False, True, rules.SEND),
    ("closed, P1 breach: at once", rules.SLA_BREACH, 1, True, False, True, rules.SEND),
    ("switched off: never", rules.TICKET_NEW, 3, False, True, True, rules.SKIP),
    ("switched off, even P1", rules.TICKET_URGENT, 1, False, False, True, rules.SKIP),
    ("switched on explicitly", rules.SLA_RISK, 3, True, True, True, rules.SEND),
    ("a report does not wait", rules.REPORT, None, None, False, False, rules.SEND),
]


@pytest.mark.parametrize("kind, priority, enabled, working, digestible, expected",
                         [c[1:] for c in WHEN], ids=[c[0] for c in WHEN])
def test_when_it_goes(kind, priority, enabled, working, digestible, expected):
    assert rules.decide(kind=kind, priority=priority, enabled=enabled, working_time=working,
                        digestible=digestible) == expected


def test_every_event_kind_has_words_and_a_label():
    from helpdesk_core.services import notify_render
    for kind in (rules.TICKET_NEW, rules.TICKET_URGENT, rules.SLA_RISK, rules.SLA_BREACH,
                 rules.ESCALATED, rules.RESOLVED, rules.AUTO_TICKET):
        assert kind in notify_render.HEADLINES and kind in rules.KIND_LABELS
