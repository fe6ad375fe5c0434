"""Who gets which notification, and when: pure rules, no database, no threads.

:func:`recipients` turns one ticket event (as plain :class:`EventFacts`) into the people
to tell and the kind of message; :func:`decide` says, per user and channel, whether the
message goes out now, waits for the morning digest, or not at all. The outbox
(:mod:`.outbox`) gathers the facts and writes the rows; these functions only decide.

The rules (issue 14):

* a new ticket: the ward's on-duty students; a citizen waiting or priority 1 makes it
  ``ticket_urgent`` (``urgent=True``); a ticket a health check filed is ``auto_ticket``;
* a ticket raised to priority 1: its assignee (or the on-duty students);
* SLA at risk: the assignee (nobody yet: the on-duty students);
* SLA breached: the same, plus every coordinator;
* escalated to the city (1022): the coordinators;
* resolved: the ward staff member who filed it.

Nobody is told about what they did themselves. Outside the ward's working hours a
message waits for the digest at the next opening, unless the ticket is priority 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_

# Message kinds (Message.kind); the first seven can be switched per channel on /profile/.
TICKET_NEW = "ticket_new"
TICKET_URGENT = "ticket_urgent"
SLA_RISK = "sla_risk"
SLA_BREACH = "sla_breach"
ESCALATED = "escalated"
RESOLVED = "resolved"
AUTO_TICKET = "auto_ticket"
DIGEST = "digest"
TEST = "test"
REPORT = "report"

KIND_LABELS: dict[str, str] = {
    TICKET_NEW: N_("New ticket in my ward"),
    TICKET_URGENT: N_("Urgent ticket (priority 1 or a citizen waiting)"),
    SLA_RISK: N_("Ticket at risk of missing its deadline"),
    SLA_BREACH: N_("Ticket past its deadline"),
    ESCALATED: N_("Ticket escalated to the city (1022)"),
    RESOLVED: N_("My ticket was resolved"),
    AUTO_TICKET: N_("Ticket filed by a health check"),
    REPORT: N_("Reports"),
}
# What a user can switch on /profile/ (in this order).
PREFERENCE_KINDS = tuple(KIND_LABELS)

# Decisions of :func:`decide`.
SEND, HOLD, SKIP = "send", "hold", "skip"

CITY_LEVEL = "1"  # workflow.LEVEL_CITY as the ``escalated`` event's new value


@dataclass(frozen=True)
class EventFacts:
    """What the rules need to know about one ticket event."""

    event: str                    # TicketEvent.kind: filed, status, escalated, ...
    new: str | None = None        # the event's new value
    old: str | None = None
    actor_id: int | None = None   # None: the system
    priority: int = 3
    citizen_waiting: bool = False
    from_health_check: bool = False
    reporter_id: int | None = None
    reporter_is_staff: bool = False
    assignee_id: int | None = None


@dataclass(frozen=True)
class People:
    """Who is around: the ward's on-duty students and the city's coordinators."""

    on_duty: tuple[int, ...] = ()
    coordinators: tuple[int, ...] = ()


@dataclass(frozen=True)
class Recipient:
    """One user to tell, with the message kind and whether it is urgent."""

    user_id: int
    kind: str
    urgent: bool = False


def event_kind(facts: EventFacts) -> str | None:
    """The message kind of an event, or None when it tells nobody anything."""
    if facts.event == "filed":
        if facts.from_health_check:
            return AUTO_TICKET
        return TICKET_URGENT if facts.priority == 1 or facts.citizen_waiting else TICKET_NEW
    if facts.event == "priority" and facts.new == "1" and facts.old != "1":
        return TICKET_URGENT
    if facts.event == "sla_at_risk":
        return SLA_RISK
    if facts.event == "sla_breached":
        return SLA_BREACH
    if facts.event == "escalated" and facts.new == CITY_LEVEL:
        return ESCALATED
    if facts.event == "status" and facts.new == "resolved":
        return RESOLVED
    return None


def is_urgent(facts: EventFacts, kind: str) -> bool:
    """Priority 1, a citizen waiting at filing, or a ticket just raised to priority 1."""
    if kind == TICKET_URGENT:
        return True
    return facts.priority == 1 or (facts.event == "filed" and facts.citizen_waiting)


def _workers(facts: EventFacts, people: People) -> tuple[int, ...]:
    """Whoever works the ticket: its assignee, else the ward's on-duty students."""
    return (facts.assignee_id,) if facts.assignee_id is not None else people.on_duty


def _user_ids(kind: str, facts: EventFacts, people: People) -> tuple[int, ...]:
    if kind in (TICKET_NEW, AUTO_TICKET) or (kind == TICKET_URGENT and facts.event == "filed"):
        return people.on_duty
    if kind in (TICKET_URGENT, SLA_RISK):
        return _workers(facts, people)
    if kind == SLA_BREACH:
        return _workers(facts, people) + people.coordinators
    if kind == ESCALATED:
        return people.coordinators
    if kind == RESOLVED and facts.reporter_id is not None and facts.reporter_is_staff:
        return (facts.reporter_id,)
    return ()


def needs_people(facts: EventFacts) -> bool:
    """True if :func:`recipients` may need :class:`People` (saves the queries)."""
    return event_kind(facts) not in (None, RESOLVED)


def needs_coordinators(facts: EventFacts) -> bool:
    """True if :func:`recipients` may tell coordinators (a breach, an escalation to the
    city): the other events need no :attr:`People.coordinators` (saves their query)."""
    return event_kind(facts) in (SLA_BREACH, ESCALATED)


def recipients(facts: EventFacts, people: People) -> list[Recipient]:
    """The users to tell about one event, each once, never the actor."""
    kind = event_kind(facts)
    if kind is None:
        return []
    urgent = is_urgent(facts, kind)
    seen: set[int] = set()
    chosen: list[Recipient] = []
    for user_id in _user_ids(kind, facts, people):
        if user_id == facts.actor_id or user_id in seen:
            continue
        seen.add(user_id)
        chosen.append(Recipient(user_id, kind, urgent))
    return chosen


def default_enabled(kind: str, channel: str) -> bool:
    """A user who chose nothing gets every kind on every channel they can be reached on."""
    return True


def decide(*, kind: str, priority: int | None, enabled: bool | None, working_time: bool,
           digestible: bool = True) -> str:
    """Send now, hold for the digest, or skip one message to one user on one channel.

    :param enabled: the user's choice for (channel, kind); None: :func:`default_enabled`.
    :param working_time: the ticket's ward is open now (its calendar).
    :param digestible: False for messages that must not wait (tests, reports).
    """
    if enabled is False:
        return SKIP
    if working_time or priority == 1 or not digestible:
        return SEND
    return HOLD
