"""Priority: the impact x urgency matrix, plugin suggestions, overrides with a reason."""

from __future__ import annotations

import pytest

from helpdesk_core import PrioritySuggestion, hookimpl
from helpdesk_core.errors import NotFound, TransitionNotAllowed, ValidationFailed
from helpdesk_core.models import Role
from helpdesk_core.services import tickets

from ..factories import make_ticket, make_ward
from .conftest import quick_user


def test_the_matrix_covers_every_impact_and_urgency():
    assert set(tickets.PRIORITY_MATRIX) == {(i, u) for i in tickets.IMPACTS
                                            for u in tickets.URGENCIES}
    assert tickets.priority_from("center", "citizen_waiting") == 1
    assert tickets.priority_from("person", "normal") == 4
    # More people affected or more urgent never lowers the priority.
    for i, impact in enumerate(tickets.IMPACTS):
        for j, urgency in enumerate(tickets.URGENCIES):
            if i > 0:
                assert tickets.priority_from(tickets.IMPACTS[i - 1], urgency) \
                    <= tickets.priority_from(impact, urgency)
            if j > 0:
                assert tickets.priority_from(impact, tickets.URGENCIES[j - 1]) \
                    <= tickets.priority_from(impact, urgency)


@pytest.fixture
def suggesting_plugin(builtin_pm):
    class Suggester:
        @hookimpl
        def helpdesk_suggest_priority(self, category, triage):
            if category == "network" and triage.get("scope") == "whole_center":
                return PrioritySuggestion(1, "Cả trung tâm mất mạng")
            if category == "network":
                return PrioritySuggestion(4, "Chỉ một máy")
            return None

    builtin_pm.register(Suggester(), name="suggester")
    yield
    builtin_pm.unregister(name="suggester")


def test_a_more_urgent_plugin_suggestion_wins_with_its_reason(
        db_session, registry, cast, now, suggesting_plugin):
    urgent = make_ticket(db_session, registry, cast.ward, now, triage={
        "scope": "whole_center", "connection": "wired", "what_fails": "internet"})
    assert (urgent.priority, urgent.priority_reason) == (1, "Cả trung tâm mất mạng")
    # A less urgent suggestion does not lower the matrix's priority.
    ordinary = make_ticket(db_session, registry, cast.ward, now, impact="several", urgency="today")
    assert (ordinary.priority, ordinary.priority_reason) == (2, "")


def test_staff_override_at_filing_needs_a_reason(db_session, registry, cast, now):
    ticket = make_ticket(db_session, registry, cast.ward, now, reporter=cast.staff,
                         priority_override=2, override_reason="Sắp hết giờ trả kết quả")
    assert (ticket.priority, ticket.priority_reason) == (2, "Sắp hết giờ trả kết quả")
    with pytest.raises(ValidationFailed) as error:
        make_ticket(db_session, registry, cast.ward, now, reporter=cast.staff,
                    priority_override=1, override_reason=" ")
    assert set(error.value.field_errors) == {"priority_reason"}
    with pytest.raises(ValidationFailed) as error:
        make_ticket(db_session, registry, cast.ward, now, priority_override=5,
                    override_reason="x")
    assert set(error.value.field_errors) == {"priority"}


def test_changing_the_priority_later(db_session, registry, cast, now):
    ticket = make_ticket(db_session, registry, cast.ward, now, reporter=cast.staff)
    with pytest.raises(ValidationFailed):
        tickets.change_priority(db_session, registry, ticket, cast.staff, 2, "", now)
    assert ticket.priority == 4
    outsider = quick_user(db_session, Role.STAFF, ward=make_ward(db_session))
    with pytest.raises(NotFound):
        tickets.change_priority(db_session, registry, ticket, outsider, 1, "Gấp", now)
    tickets.change_priority(db_session, registry, ticket, cast.staff, 2, "Công dân đang chờ", now)
    event = ticket.events[-1]
    assert (event.kind, event.old_value, event.new_value, event.body, event.actor_id) == (
        "priority", "4", "2", "Công dân đang chờ", cast.staff.id)
    tickets.perform(db_session, registry, ticket, cast.staff, "cancel", now, reason="Trùng")
    with pytest.raises(TransitionNotAllowed):
        tickets.change_priority(db_session, registry, ticket, cast.coordinator, 1, "Gấp", now)
