"""The ticket lifecycle as one explicit table: which action moves which status, for whom.

Read :data:`ACTIONS` top to bottom: each action names its target status and, per role,
the statuses it may start from. Anything not in the table is refused.

Roles in short: ward staff file, comment, confirm, reopen or cancel their ward's tickets
(and tell the student they answered: ``resume`` from waiting on the reporter); students
claim new tickets of the wards they are placed in today and work only the tickets
assigned to them; coordinators and admins assign, escalate, reopen anywhere; the system
(``actor=None``: scheduler, automation) assigns new tickets, escalates on SLA breach,
resolves (health-check recovery) and closes resolved tickets after N working days.
Scope (which wards) is checked by :mod:`.scope`, not here.

Escalation levels (``Ticket.escalation_level``): 0 the ward's students, 1 the city hotline
1022 / IT centre (status ``waiting_city``), 2 the vendor (``waiting_vendor``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..i18n import N_
from ..models import Role, Status

S = Status
WAITING = frozenset({S.WAITING_REPORTER, S.WAITING_VENDOR, S.WAITING_CITY})
WORKING = frozenset({S.ASSIGNED, S.IN_PROGRESS}) | WAITING
OPEN = frozenset(S.OPEN)
DONE_BY_STAFF = frozenset({S.RESOLVED, S.CLOSED})

# Escalation levels: who holds the ticket after an escalation.
LEVEL_WARD = 0       # the ward's students
LEVEL_CITY = 1       # city hotline 1022 / IT centre
LEVEL_VENDOR = 2     # the vendor
MAX_LEVEL = LEVEL_VENDOR


@dataclass(frozen=True)
class Action:
    """A move in the lifecycle.

    :param label: button text (msgid).
    :param target: the status after the action; None when it depends on the ticket
        (``assign`` keeps the status but moves ``new`` to ``assigned``; ``reopen`` goes back
        to ``assigned`` or ``new``; ``escalate`` waits on the city or the vendor).
    :param allowed: role -> statuses the action may start from.
    :param needs_reason: the action must carry a reason (kept in the history).
    :param assignee_only: a student may do it only on tickets assigned to them.
    """

    label: str
    target: str | None
    allowed: Mapping[str, frozenset[str]]
    needs_reason: bool = False
    assignee_only: bool = True


ACTIONS: dict[str, Action] = {
    "claim": Action(N_("Claim"), S.ASSIGNED,
                    {Role.STUDENT: frozenset({S.NEW})}, assignee_only=False),
    # The system assigns new tickets in wards with auto-assignment (services.assignment).
    "assign": Action(N_("Assign"), None,
                     {Role.COORDINATOR: OPEN, Role.ADMIN: OPEN,
                      Role.SYSTEM: frozenset({S.NEW})}),
    "start": Action(N_("Start work"), S.IN_PROGRESS,
                    {Role.STUDENT: frozenset({S.ASSIGNED}),
                     Role.COORDINATOR: frozenset({S.ASSIGNED}),
                     Role.ADMIN: frozenset({S.ASSIGNED})}),
    "wait_reporter": Action(N_("Wait for reporter"), S.WAITING_REPORTER,
                            {Role.STUDENT: WORKING - {S.WAITING_REPORTER},
                             Role.COORDINATOR: WORKING - {S.WAITING_REPORTER},
                             Role.ADMIN: WORKING - {S.WAITING_REPORTER}}, needs_reason=True),
    "wait_vendor": Action(N_("Wait for vendor"), S.WAITING_VENDOR,
                          {Role.STUDENT: WORKING - {S.WAITING_VENDOR},
                           Role.COORDINATOR: WORKING - {S.WAITING_VENDOR},
                           Role.ADMIN: WORKING - {S.WAITING_VENDOR}}, needs_reason=True),
    "resume": Action(N_("Resume work"), S.IN_PROGRESS,
                     {Role.STUDENT: WAITING, Role.COORDINATOR: WAITING, Role.ADMIN: WAITING,
                      # The reporter answered the question the student asked.
                      Role.STAFF: frozenset({S.WAITING_REPORTER})}),
    "escalate": Action(N_("Escalate"), None,
                       {Role.STUDENT: WORKING, Role.COORDINATOR: OPEN, Role.ADMIN: OPEN,
                        Role.SYSTEM: OPEN}, needs_reason=True),
    "resolve": Action(N_("Resolve"), S.RESOLVED,
                      {Role.STUDENT: WORKING, Role.COORDINATOR: OPEN, Role.ADMIN: OPEN,
                       Role.SYSTEM: OPEN}, needs_reason=True),
    "confirm": Action(N_("Confirm resolution"), S.CLOSED,
                      {Role.STAFF: frozenset({S.RESOLVED}),
                       Role.COORDINATOR: frozenset({S.RESOLVED}),
                       Role.ADMIN: frozenset({S.RESOLVED})}),
    "reopen": Action(N_("Reopen"), None,
                     {Role.STAFF: DONE_BY_STAFF, Role.COORDINATOR: DONE_BY_STAFF,
                      Role.ADMIN: DONE_BY_STAFF}, needs_reason=True),
    "cancel": Action(N_("Cancel"), S.CANCELLED,
                     {Role.STAFF: frozenset({S.NEW, S.ASSIGNED}),
                      Role.COORDINATOR: OPEN, Role.ADMIN: OPEN}, needs_reason=True),
    "auto_close": Action(N_("Close"), S.CLOSED, {Role.SYSTEM: frozenset({S.RESOLVED})}),
}

STATUS_LABELS: dict[str, str] = {
    S.NEW: N_("New"),
    S.ASSIGNED: N_("Assigned"),
    S.IN_PROGRESS: N_("In progress"),
    S.WAITING_REPORTER: N_("Waiting on reporter"),
    S.WAITING_VENDOR: N_("Waiting on vendor"),
    S.WAITING_CITY: N_("Waiting on city IT (1022)"),
    S.RESOLVED: N_("Resolved"),
    S.CLOSED: N_("Closed"),
    S.CANCELLED: N_("Cancelled"),
}


def is_allowed(action: str, role: str, status: str) -> bool:
    """True if the table lets *role* do *action* on a ticket in *status*."""
    spec = ACTIONS.get(action)
    return bool(spec) and status in spec.allowed.get(role, frozenset())


def target_status(action: str, status: str, has_assignee: bool, escalation_level: int) -> str:
    """The status a ticket in *status* ends in after *action*."""
    spec = ACTIONS[action]
    if spec.target is not None:
        return spec.target
    if action == "assign":
        return S.ASSIGNED if status == S.NEW else status
    if action == "reopen":
        return S.ASSIGNED if has_assignee else S.NEW
    if action == "escalate":
        return S.WAITING_VENDOR if escalation_level + 1 >= LEVEL_VENDOR else S.WAITING_CITY
    raise KeyError(action)
