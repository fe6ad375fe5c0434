"""SLA: targets on the ward calendar, pauses, responses, the sweep and its escalations."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from helpdesk_core import hookimpl
from helpdesk_core.errors import Conflict
from helpdesk_core.models import SlaPolicy, Status, Ticket, TicketEvent
from helpdesk_core.services import sla, sla_sweep, tickets, workflow

from ..factories import make_ticket

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MIN = dt.timedelta(minutes=1)


def at(now: dt.datetime, hour: int, minute: int = 0, days: int = 0) -> dt.datetime:
    """*now*'s local date (+ *days*) at hour:minute local, as aware UTC."""
    day = now.astimezone(VN).date() + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN).astimezone(dt.timezone.utc)


def p1(session, registry, cast, now, **overrides):
    """A P1 ticket (15 min response, 60 min resolution by default) filed by the staff."""
    return make_ticket(session, registry, cast.ward, now, reporter=cast.staff,
                       impact="center", urgency="citizen_waiting", **overrides)


def sla_events(session, ticket):
    return [(e.kind, e.data["target"]) for e in session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                  TicketEvent.kind.in_(("sla_at_risk", "sla_breached")))
        .order_by(TicketEvent.id))]


# --- targets --------------------------------------------------------------------------

def test_filing_stores_due_and_at_risk_moments(db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)  # Tuesday 09:00
    assert ticket.priority == 1
    assert ticket.response_at_risk_at == at(now, 9, 12)
    assert ticket.response_due_at == at(now, 9, 15)
    assert ticket.resolution_at_risk_at == at(now, 9, 48)
    assert ticket.resolution_due_at == at(now, 10, 0)
    assert ticket.sla_next_at == at(now, 9, 12)


def test_policies_per_category_win_over_general_ones(db_session, registry, cast, now):
    db_session.add_all([
        SlaPolicy(priority=3, category=None, response_minutes=60, resolution_minutes=450,
                  at_risk_ratio=0.5),
        SlaPolicy(priority=3, category="printer", response_minutes=30, resolution_minutes=90,
                  at_risk_ratio=0.9, escalate_on_breach=True),
    ])
    db_session.flush()
    assert sla.policy_for(db_session, 3, "printer") == (30, 90, 0.9, True)
    assert sla.policy_for(db_session, 3, "network") == (60, 450, 0.5, False)
    assert sla.policy_for(db_session, 2, "network") == (*sla.DEFAULT_TARGETS[2], 0.8, False)
    ticket = make_ticket(db_session, registry, cast.ward, now, impact="several")  # P3
    assert ticket.priority == 3
    assert ticket.response_due_at == at(now, 10, 0)
    assert ticket.resolution_at_risk_at == at(now, 14, 45)  # 225 working minutes, lunch skipped
    assert ticket.resolution_due_at == at(now, 9, 0, days=1)


def test_policies_read_ahead_with_the_calendar_give_what_their_own_query_gives(
        db_session, cast):
    """Reading ahead for a filing, the calendar's statement brings every policy along;
    policy_for then picks from them what its own statement would, with no statement."""
    from sqlalchemy import event

    from helpdesk_core.services import readahead
    db_session.add_all([
        SlaPolicy(priority=3, category=None, response_minutes=60, resolution_minutes=450,
                  at_risk_ratio=0.5),
        SlaPolicy(priority=3, category="printer", response_minutes=30, resolution_minutes=90,
                  at_risk_ratio=0.9, escalate_on_breach=True),
        SlaPolicy(priority=1, category="network", response_minutes=10, resolution_minutes=40),
    ])
    db_session.flush()
    asked = [(priority, category) for priority in (1, 2, 3, 4)
             for category in ("printer", "network", "signing")]
    alone = {key: sla.policy_for(db_session, *key) for key in asked}
    statements = []

    def count(*args):
        statements.append(args[2])
    engine = db_session.get_bind()
    with readahead.kept(db_session):
        sla.calendar_for(db_session, cast.ward)
        event.listen(engine, "before_cursor_execute", count)
        try:
            ahead = {key: sla.policy_for(db_session, *key) for key in asked}
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert ahead == alone and statements == []
    assert alone[(3, "printer")] == (30, 90, 0.9, True)  # the category's own first


def test_targets_filed_on_friday_afternoon_run_on_monday(db_session, registry, cast, now):
    friday = at(now, 16, 50, days=3)
    ticket = p1(db_session, registry, cast, friday)
    assert ticket.response_due_at == at(now, 7, 35, days=6)
    assert ticket.resolution_due_at == at(now, 8, 20, days=6)


# --- pauses ---------------------------------------------------------------------------

def test_waiting_on_the_reporter_moves_due_times_by_the_working_time_paused(
        db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, ticket, cast.student, "claim", now + 2 * MIN)
    tickets.perform(db_session, registry, ticket, cast.student, "wait_reporter", now + 5 * MIN,
                    reason="Hỏi số quầy")
    assert ticket.paused_at == now + 5 * MIN and ticket.sla_next_at is None
    resolution_due = ticket.resolution_due_at
    # The reporter answers the next morning at 08:05: 145 + 210 + 35 working minutes later.
    answered = at(now, 8, 5, days=1)
    tickets.perform(db_session, registry, ticket, cast.staff, "resume", answered)
    assert ticket.paused_at is None and ticket.status == Status.IN_PROGRESS
    assert ticket.paused_minutes == 390
    assert ticket.resolution_due_at == at(now, 9, 0, days=1)
    assert ticket.resolution_due_at > resolution_due
    # The response was given before the pause: its due time is history and stays.
    assert ticket.response_due_at == at(now, 9, 15) and ticket.response_paused_minutes == 0
    assert ticket.sla_next_at == at(now, 8, 48, days=1)  # 43 minutes were left to 09:48


def test_a_pause_over_the_weekend_and_a_holiday_counts_only_working_time(
        db_session, registry, cast, now):
    # Wednesday 29/04/2026 16:00; Thursday 30/04 and Friday 01/05 are public holidays.
    filed = dt.datetime(2026, 4, 29, 16, 0, tzinfo=VN)
    ticket = make_ticket(db_session, registry, cast.ward, filed, impact="several")  # P3
    tickets.perform(db_session, registry, ticket, cast.student, "claim", filed)
    due = ticket.resolution_due_at
    tickets.perform(db_session, registry, ticket, cast.student, "wait_vendor", filed + 30 * MIN,
                    reason="Chờ hãng gửi linh kiện")
    tickets.perform(db_session, registry, ticket, cast.student, "resume",
                    dt.datetime(2026, 5, 4, 8, 0, tzinfo=VN))
    assert ticket.paused_minutes == 30 + 30
    calendar = sla.calendar_for(db_session, cast.ward)
    assert ticket.resolution_due_at == calendar.add(due, 60)


def test_a_priority_change_keeps_the_pauses_and_rearms_warnings(db_session, registry, cast, now):
    ticket = make_ticket(db_session, registry, cast.ward, now)  # P4: 240 / 2250
    tickets.perform(db_session, registry, ticket, cast.student, "claim", now)
    tickets.perform(db_session, registry, ticket, cast.student, "wait_reporter", now + MIN,
                    reason="Hỏi thêm")
    tickets.perform(db_session, registry, ticket, cast.student, "resume", now + 61 * MIN)
    tickets.change_priority(db_session, registry, ticket, cast.coordinator, 1,
                            "Cả bộ phận một cửa ngừng", now + 62 * MIN)
    calendar = sla.calendar_for(db_session, cast.ward)
    assert ticket.resolution_due_at == calendar.add(now, 60 + 60)  # target + the pause
    assert ticket.priority == 1 and ticket.priority_reason == "Cả bộ phận một cửa ngừng"
    event = ticket.events[-1]
    assert (event.kind, event.old_value, event.new_value, event.actor_id) == (
        "priority", "4", "1", cast.coordinator.id)
    # Back to P4: the warnings given under P1 are forgotten, the new ones will come.
    sla_sweep.sweep(db_session, registry, now + 121 * MIN)
    assert ticket.resolution_breached and ticket.at_risk
    tickets.change_priority(db_session, registry, ticket, cast.coordinator, 4, "Nhầm mức",
                            now + 122 * MIN)
    assert not ticket.resolution_breached and not ticket.at_risk
    assert ticket.sla_next_at == ticket.resolution_at_risk_at > now + 122 * MIN


def test_the_clock_stands_still_while_resolved_and_goes_on_after_reopening(
        db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, ticket, cast.student, "claim", now + MIN)
    tickets.perform(db_session, registry, ticket, cast.student, "resolve", now + 30 * MIN,
                    reason="Khởi động lại bộ phát wifi")
    assert ticket.paused_at == now + 30 * MIN and ticket.sla_next_at is None
    assert sla_sweep.sweep(db_session, registry, now + dt.timedelta(days=1)).checked == 0
    tickets.perform(db_session, registry, ticket, cast.staff, "reopen", at(now, 9, 30, days=1),
                    reason="Lại mất mạng")
    # 30 minutes were left; a working day passed while it was resolved.
    assert ticket.paused_minutes == 450
    assert ticket.resolution_due_at == at(now, 10, 0, days=1)
    assert not ticket.resolution_breached


# --- responses ------------------------------------------------------------------------

def test_what_counts_as_the_response(db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)
    tickets.comment(db_session, registry, ticket, cast.staff, "Mọi người đang chờ", now + MIN)
    tickets.comment(db_session, registry, ticket, cast.student, "Ghi chú nội bộ", now + MIN,
                    internal=True)
    assert ticket.responded_at is None
    tickets.comment(db_session, registry, ticket, cast.student, "Em đến ngay", now + 3 * MIN)
    assert ticket.responded_at == now + 3 * MIN
    assert ticket.sla_next_at == ticket.resolution_at_risk_at  # response moments are done
    tickets.perform(db_session, registry, ticket, cast.student, "claim", now + 5 * MIN)
    assert ticket.responded_at == now + 3 * MIN  # the first response stays


def test_claiming_and_assigning_respond_but_the_system_does_not(db_session, registry, cast, now):
    claimed = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, claimed, cast.student, "claim", now + MIN)
    assert claimed.responded_at == now + MIN
    assigned = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, assigned, cast.coordinator, "assign", now + 2 * MIN,
                    assignee=cast.student)
    assert assigned.responded_at == now + 2 * MIN
    escalated = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, escalated, None, "escalate", now + 2 * MIN,
                    reason="Tự động")
    assert escalated.responded_at is None
    cancelled = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, cancelled, cast.coordinator, "cancel", now + MIN,
                    reason="Trùng")
    assert cancelled.responded_at is None and cancelled.sla_next_at is None


def test_a_late_response_or_resolution_is_recorded_even_before_the_sweep(
        db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, ticket, cast.student, "claim", now + 20 * MIN)
    assert ticket.response_breached and ticket.responded_at == now + 20 * MIN
    tickets.perform(db_session, registry, ticket, cast.student, "resolve", now + 70 * MIN,
                    reason="Đã thay cáp")
    assert ticket.resolution_breached
    assert sla_events(db_session, ticket) == [("sla_breached", "response"),
                                              ("sla_breached", "resolution")]
    late = [e for e in ticket.events if e.kind == "sla_breached"]
    assert all(e.data["late"] and e.actor_id is None for e in late)
    assert sla_sweep.sweep(db_session, registry, now + 80 * MIN).breaches == 0


# --- the sweep --------------------------------------------------------------------------

def test_sweep_warns_then_breaches_once_each(db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)
    assert sla_sweep.sweep(db_session, registry, now + 11 * MIN).checked == 0
    report = sla_sweep.sweep(db_session, registry, now + 12 * MIN)
    assert (report.checked, report.response_at_risk, report.breaches) == (1, 1, 0)
    assert ticket.response_at_risk and not ticket.at_risk
    assert sla_sweep.sweep(db_session, registry, now + 12 * MIN) == sla_sweep.SweepReport()
    report = sla_sweep.sweep(db_session, registry, now + 16 * MIN)
    assert (report.response_breached, report.warnings) == (1, 0)
    report = sla_sweep.sweep(db_session, registry, now + 50 * MIN)
    assert (report.resolution_at_risk, report.breaches) == (1, 0)
    report = sla_sweep.sweep(db_session, registry, now + 60 * MIN)
    assert (report.resolution_breached, report.warnings) == (1, 0)
    assert ticket.response_breached and ticket.resolution_breached and ticket.at_risk
    assert ticket.sla_next_at is None
    for _ in range(2):
        assert sla_sweep.sweep(db_session, registry, now + dt.timedelta(days=3)).checked == 0
    assert sla_events(db_session, ticket) == [
        ("sla_at_risk", "response"), ("sla_breached", "response"),
        ("sla_at_risk", "resolution"), ("sla_breached", "resolution")]
    breach = db_session.scalars(select(TicketEvent).where(
        TicketEvent.kind == "sla_breached", TicketEvent.ticket_id == ticket.id)).first()
    assert breach.actor_id is None and breach.created_at == now + 16 * MIN
    assert breach.data["due_at"] == at(now, 9, 15).isoformat()


def test_a_late_sweep_reports_breaches_without_stale_warnings(db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)
    report = sla_sweep.sweep(db_session, registry, now + dt.timedelta(hours=2))
    assert (report.response_breached, report.resolution_breached, report.warnings) == (1, 1, 0)
    assert sla_events(db_session, ticket) == [("sla_breached", "response"),
                                              ("sla_breached", "resolution")]


def test_paused_tickets_are_not_warned_while_paused(db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, ticket, cast.student, "claim", now + MIN)
    tickets.perform(db_session, registry, ticket, cast.student, "wait_vendor", now + 2 * MIN,
                    reason="Chờ nhà mạng")
    assert sla_sweep.sweep(db_session, registry, now + dt.timedelta(days=2)).checked == 0
    assert sla_events(db_session, ticket) == []
    # Resumed on Thursday 09:00: 58 minutes of target left, warned at 45 of them.
    resumed = at(now, 9, 0, days=2)
    tickets.perform(db_session, registry, ticket, cast.student, "resume", resumed)
    assert sla_sweep.sweep(db_session, registry, resumed + 45 * MIN).checked == 0
    assert sla_sweep.sweep(db_session, registry, resumed + 46 * MIN).resolution_at_risk == 1


def test_sweep_reads_only_tickets_whose_moment_has_come(db_session, registry, cast, now):
    due = [p1(db_session, registry, cast, now) for _ in range(2)]
    later = [make_ticket(db_session, registry, cast.ward, now) for _ in range(3)]  # P4
    done = p1(db_session, registry, cast, now)
    tickets.perform(db_session, registry, done, cast.coordinator, "cancel", now, reason="Trùng")
    report = sla_sweep.sweep(db_session, registry, now + 13 * MIN)
    assert report.checked == 2 and report.response_at_risk == 2
    assert all(t.response_at_risk for t in due) and not any(t.response_at_risk for t in later)
    report = sla_sweep.sweep(db_session, registry, now + 13 * MIN, limit=1)
    assert report.checked == 0 and not report.more
    assert sla_events(db_session, done) == []


def test_sweep_clears_a_stale_moment_on_a_closed_ticket(db_session, registry, cast, now):
    ticket = p1(db_session, registry, cast, now)
    ticket.status = Status.CANCELLED  # changed behind the service layer's back
    db_session.flush()
    report = sla_sweep.sweep(db_session, registry, now + dt.timedelta(hours=3))
    assert (report.checked, report.warnings, report.breaches) == (1, 0, 0)
    assert ticket.sla_next_at is None and sla_events(db_session, ticket) == []


def test_sweep_query_uses_the_sla_next_index(db_session, database, now):
    query = sla_sweep.due_for_sweep(now)
    compiled = query.compile(db_session.get_bind(), compile_kwargs={"render_postcompile": True})
    params = {**compiled.params, "sla_next_at_1": now}
    connection = db_session.connection()
    if database.kind == "postgresql":
        connection.execute(text("SET LOCAL enable_seqscan = off"))  # the table is tiny
        rows = connection.exec_driver_sql("EXPLAIN " + str(compiled), params)
    else:
        params["sla_next_at_1"] = now.replace(tzinfo=None).isoformat(sep=" ")
        rows = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled),
            tuple(params[name] for name in compiled.positiontup))
    plan = "\n".join(str(row[-1]) for row in rows)
    assert "ix_ticket_sla_next" in plan, plan


def test_breach_escalates_when_the_policy_says_so(db_session, registry, cast, now):
    db_session.add(SlaPolicy(priority=1, category=None, response_minutes=15,
                             resolution_minutes=60, escalate_on_breach=True))
    db_session.flush()
    ticket = p1(db_session, registry, cast, now)
    report = sla_sweep.sweep(db_session, registry, now + 16 * MIN)
    assert (report.response_breached, report.escalated) == (1, 1)
    assert (ticket.status, ticket.escalation_level) == (Status.WAITING_CITY, workflow.LEVEL_CITY)
    escalated = [e for e in ticket.events if e.kind == "escalated"]
    assert [(e.old_value, e.new_value, e.actor_id) for e in escalated] == [("0", "1", None)]
    assert escalated[0].body  # the reason is recorded
    moved = [e for e in ticket.events if e.kind == "status"][-1]
    assert (moved.old_value, moved.new_value, moved.data) == (
        Status.NEW, Status.WAITING_CITY, {"sla": True, "action": "escalate"})
    assert ticket.responded_at is None  # the system's move is no response
    assert sla_sweep.sweep(db_session, registry, now + 16 * MIN).checked == 0
    # The resolution breach goes on to the vendor; the clock then waits on the vendor.
    report = sla_sweep.sweep(db_session, registry, now + 61 * MIN)
    assert (report.resolution_breached, report.escalated) == (1, 1)
    assert (ticket.status, ticket.escalation_level) == (Status.WAITING_VENDOR, workflow.LEVEL_VENDOR)
    assert ticket.paused_at == now + 61 * MIN
    assert sla_sweep.sweep(db_session, registry, now + dt.timedelta(days=5)).checked == 0


def test_no_escalation_past_the_vendor_or_without_the_policy(db_session, registry, cast, now):
    plain = p1(db_session, registry, cast, now)
    db_session.add(SlaPolicy(priority=1, category="printer", response_minutes=15,
                             resolution_minutes=60, escalate_on_breach=True))
    db_session.flush()
    at_vendor = p1(db_session, registry, cast, now)
    at_vendor.escalation_level = workflow.LEVEL_VENDOR
    report = sla_sweep.sweep(db_session, registry, now + 16 * MIN)
    assert (report.response_breached, report.escalated, report.failed) == (2, 0, 0)
    assert plain.status == at_vendor.status == Status.NEW


def test_plugins_hear_sla_events_after_commit(db_session, registry, cast, now, builtin_pm):
    heard = []

    class Listener:
        @hookimpl
        def helpdesk_on_ticket_event(self, ticket, event):
            heard.append((event.kind, event.data.get("target")))

    ticket = p1(db_session, registry, cast, now)
    tickets.commit(db_session)
    builtin_pm.register(Listener(), name="sla-listener")
    try:
        sla_sweep.sweep(db_session, registry, now + 13 * MIN)
        assert heard == []
        tickets.commit(db_session)
        assert heard == [("sla_at_risk", "response")]
        assert db_session.get(Ticket, ticket.id).response_at_risk
    finally:
        builtin_pm.unregister(name="sla-listener")


def test_one_failing_ticket_does_not_undo_the_others(db_session, registry, cast, now,
                                                     monkeypatch, builtin_pm):
    db_session.add(SlaPolicy(priority=1, category=None, response_minutes=15,
                             resolution_minutes=60, escalate_on_breach=True))
    db_session.flush()
    broken, fine = p1(db_session, registry, cast, now), p1(db_session, registry, cast, now)
    tickets.commit(db_session)
    broken_id = broken.id
    real_perform = tickets.perform

    def perform(session, registry, ticket, *args, **kwargs):
        if ticket.id == broken_id:  # e.g. someone changed it at the same moment
            raise Conflict("Someone else has just claimed this ticket.")
        return real_perform(session, registry, ticket, *args, **kwargs)

    heard = []

    class Listener:
        @hookimpl
        def helpdesk_on_ticket_event(self, ticket, event):
            heard.append((ticket.id, event.kind))

    monkeypatch.setattr(tickets, "perform", perform)
    builtin_pm.register(Listener(), name="sla-failure-listener")
    try:
        report = sla_sweep.sweep(db_session, registry, now + 16 * MIN)
        tickets.commit(db_session)
    finally:
        builtin_pm.unregister(name="sla-failure-listener")
    assert (report.checked, report.response_breached, report.escalated, report.failed) == (2, 1, 1, 1)
    # The broken ticket's breach was undone with its savepoint (and never announced)...
    assert not broken.response_breached and broken.status == Status.NEW
    assert sla_events(db_session, broken) == []
    assert {kind for ticket_id, kind in heard if ticket_id == broken_id} == set()
    # ...and is tried again on the next run; the other one went through.
    assert fine.response_breached and fine.status == Status.WAITING_CITY
    assert (fine.id, "sla_breached") in heard and (fine.id, "escalated") in heard
    monkeypatch.undo()
    assert sla_sweep.sweep(db_session, registry, now + 17 * MIN).escalated == 1
