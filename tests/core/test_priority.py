"""Priority: the impact x urgency matrix, plugin suggestions, overrides with a reason."""

from __future__ import annotations

import pytest

from helpdesk_core import PrioritySuggestion, hookimpl, i18n
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


# --- the category's priority_hint --------------------------------------------------------

class _Hinted:
    """Category "hinted" (priority_hint 2), whose triage suggests 1 only when "urgent"."""

    def __init__(self, hint: int = 2) -> None:
        self.hint = hint

    @hookimpl
    def helpdesk_register_categories(self):
        from helpdesk_core import Category
        return [Category("hinted", "Thiết bị có gợi ý", priority_hint=self.hint),
                Category("plain", "Thiết bị thường")]

    @hookimpl
    def helpdesk_suggest_priority(self, category, triage):
        if triage.get("urgent"):
            return PrioritySuggestion(1 if triage["urgent"] == "yes" else 4, "Theo trả lời")
        return None


@pytest.fixture
def hinted_registry(pm):
    from helpdesk_core.plugins import PluginRegistry
    pm.register(_Hinted(), name="hinted")
    return PluginRegistry(pm)


@pytest.mark.parametrize("impact, urgency, triage, expected", [
    ("person", "normal", {}, (2, "Usual priority of the category Thiết bị có gợi ý")),
    ("person", "today", {}, (2, "Usual priority of the category Thiết bị có gợi ý")),  # 3 in the matrix
    ("person", "citizen_waiting", {}, (2, "")),  # as urgent as the hint: the matrix says it
    ("center", "today", {}, (1, "")),  # more urgent boxes win over the hint
    ("person", "normal", {"urgent": "yes"}, (1, "Theo trả lời")),
    # The triage's own suggestion replaces the hint, even a less urgent one ...
    ("person", "normal", {"urgent": "no"}, (4, "")),
    # ... but never lowers what the boxes say.
    ("several", "today", {"urgent": "no"}, (2, "")),
])
def test_priority_hint_applies_when_the_triage_suggests_nothing(impact, urgency, triage,
                                                                 expected, hinted_registry):
    with i18n.use_locale("en"):
        assert tickets.initial_priority(hinted_registry, "hinted", impact, urgency,
                                        triage) == expected


def test_a_category_without_hint_keeps_the_matrix(hinted_registry):
    assert tickets.initial_priority(hinted_registry, "plain", "person", "normal", {}) == (4, "")
    assert tickets.initial_priority(hinted_registry, "plain", "several", "today", {}) == (2, "")


def test_a_filed_ticket_gets_the_hint_with_a_translated_reason(db_session, cast, now, pm):
    from helpdesk_core.plugins import PluginRegistry
    pm.register(_Hinted(), name="hinted")
    registry = PluginRegistry(pm)
    with i18n.use_locale("vi"):
        ticket = make_ticket(db_session, registry, cast.ward, now, category="hinted", triage={})
    assert (ticket.priority, ticket.priority_reason) == (
        2, "Mức ưu tiên thường lệ của nhóm Thiết bị có gợi ý")
    assert ticket.events[0].data == {"priority": 2, "source": "front_desk"}


@pytest.mark.parametrize("hint", [0, 5, "2"])
def test_an_invalid_priority_hint_stops_startup_naming_the_plugin(pm, hint):
    from helpdesk_core.errors import PluginError
    from helpdesk_core.plugins import PluginRegistry
    pm.register(_Hinted(hint), name="hinted")
    with pytest.raises(PluginError) as error:
        PluginRegistry(pm)
    assert error.value.params["plugin"] == "hinted"


def test_builtin_hints_agree_with_their_triage(registry):
    """A hint is for answers the triage finds ordinary: never more urgent than what the
    plugin suggests for the urgent ones (else those would rank below the ordinary)."""
    assert {key: c.priority_hint for key, c in registry.categories.items()} == {
        "printer": 3, "network": 4, "signing": 3, "vneid": 3}
