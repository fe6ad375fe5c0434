"""Coordinators' figures against a known data set."""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.errors import ValidationFailed
from helpdesk_core.models import Asset, AssetCheck, Role, Status
from helpdesk_core.services import reports, tickets
from tests.factories import make_student, make_ticket, make_user, make_ward

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def _ticket(session, registry, ward, now, *, created, status=Status.NEW, **fields):
    ticket = make_ticket(session, registry, ward, created)
    ticket.created_at = created
    ticket.status = status
    ticket.response_due_at = fields.pop("response_due_at", now + D)
    ticket.resolution_due_at = fields.pop("resolution_due_at", now + 2 * D)
    for key, value in fields.items():
        setattr(ticket, key, value)
    session.flush()
    return ticket


def test_period_defaults_to_the_last_30_days_and_refuses_bad_ranges():
    today = dt.date(2026, 3, 10)
    period = reports.make_period(None, None, today)
    assert (period.start, period.end, period.days) == (dt.date(2026, 2, 9), today, 30)
    # Local midnight in Da Nang is 17:00 UTC the day before.
    assert period.start_utc == dt.datetime(2026, 2, 8, 17, tzinfo=dt.timezone.utc)
    assert period.end_utc == dt.datetime(2026, 3, 10, 17, tzinfo=dt.timezone.utc)
    with pytest.raises(ValidationFailed) as reversed_range:
        reports.make_period(dt.date(2026, 3, 5), dt.date(2026, 3, 1), today)
    assert "end" in reversed_range.value.field_errors
    with pytest.raises(ValidationFailed) as too_long:
        reports.make_period(dt.date(2024, 1, 1), dt.date(2026, 1, 1), today)
    assert "start" in too_long.value.field_errors


def test_ward_load_counts_open_at_risk_and_breached_per_ward(db_session, registry, now):
    a, b = make_ward(db_session, name="A ward"), make_ward(db_session, name="B ward")
    quiet = make_ward(db_session, name="C ward")
    make_ward(db_session, name="D closed", active=False)
    created = now - 3 * H
    _ticket(db_session, registry, a, now, created=created)
    _ticket(db_session, registry, a, now, created=created, at_risk=True)
    _ticket(db_session, registry, a, now, created=created, resolution_due_at=now - H)
    _ticket(db_session, registry, a, now, created=created, status=Status.WAITING_VENDOR,
            paused_at=now - 2 * H, resolution_due_at=now - H)  # clock stopped: not late
    _ticket(db_session, registry, b, now, created=created, at_risk=True, response_breached=True)
    _ticket(db_session, registry, b, now, created=created, status=Status.CLOSED,
            resolution_breached=True)
    _ticket(db_session, registry, b, now, created=created, response_due_at=now - H)
    rows = {r.name: r for r in reports.ward_load(db_session, now)}
    assert set(rows) == {"A ward", "B ward", "C ward"}
    assert (rows["A ward"].open, rows["A ward"].at_risk, rows["A ward"].breached) == (4, 1, 1)
    assert (rows["B ward"].open, rows["B ward"].at_risk, rows["B ward"].breached) == (2, 0, 2)
    assert (rows["C ward"].open, rows["C ward"].at_risk, rows["C ward"].breached) == (0, 0, 0)
    only_a = reports.ward_load(db_session, now, frozenset({a.id}))
    assert [r.ward_id for r in only_a] == [a.id] and quiet.id not in {r.ward_id for r in only_a}


def test_sla_compliance_per_ward_and_overall(db_session, registry, now):
    a, b = make_ward(db_session, name="A ward"), make_ward(db_session, name="B ward")
    period = reports.make_period(dt.date(2026, 3, 1), dt.date(2026, 3, 10), now.date())
    created = now - 5 * D
    _ticket(db_session, registry, a, now, created=created, status=Status.RESOLVED,
            resolved_at=now - 2 * D, resolution_due_at=now - D)                 # met
    _ticket(db_session, registry, a, now, created=created, status=Status.CLOSED,
            resolved_at=now - 2 * D, resolution_due_at=now - 3 * D)             # late
    _ticket(db_session, registry, b, now, created=created, status=Status.CLOSED,
            resolved_at=now - 2 * D, resolution_due_at=now, resolution_breached=True)
    _ticket(db_session, registry, b, now, created=now - 40 * D, status=Status.CLOSED,
            resolved_at=now - 30 * D, resolution_due_at=now)                    # before period
    _ticket(db_session, registry, b, now, created=created)                      # still open
    rows, overall = reports.sla_compliance(db_session, period)
    by_name = {r.name: r for r in rows}
    assert (by_name["A ward"].resolved, by_name["A ward"].met, by_name["A ward"].percent) == (2, 1, 50.0)
    assert (by_name["B ward"].resolved, by_name["B ward"].met, by_name["B ward"].percent) == (1, 0, 0.0)
    assert (overall.resolved, overall.met, overall.percent) == (3, 1, 33.3)


def test_weekly_volumes_bucket_by_local_week(db_session, registry, now):
    a = make_ward(db_session)
    period = reports.make_period(dt.date(2026, 3, 1), dt.date(2026, 3, 10), now.date())
    local_midnight_mar8 = dt.datetime(2026, 3, 7, 17, tzinfo=dt.timezone.utc)
    _ticket(db_session, registry, a, now, created=period.start_utc)                 # week 1
    _ticket(db_session, registry, a, now, created=local_midnight_mar8 - H)          # week 1
    _ticket(db_session, registry, a, now, created=local_midnight_mar8)              # week 2
    _ticket(db_session, registry, a, now, created=now)                              # week 2
    printer = make_ticket(db_session, registry, a, now, category="printer",
                          triage={"symptom": "offline", "connection": "usb"})
    printer.created_at = now
    _ticket(db_session, registry, a, now, created=period.start_utc - H)             # before
    db_session.flush()
    volumes = reports.weekly_volumes(db_session, period)
    assert volumes.weeks == [dt.date(2026, 3, 1), dt.date(2026, 3, 8)]
    assert volumes.counts["network"] == [2, 2]
    assert volumes.counts["printer"] == [0, 1]
    assert volumes.maximum == 2 and volumes.total("network") == 4


def test_student_activity_counts_claims_resolutions_comments_and_times(db_session, registry, now):
    a, b = make_ward(db_session, name="A ward"), make_ward(db_session, name="B ward")
    student = make_student(db_session, a, now.date(), name="Trần Sinh Viên")
    idle = make_student(db_session, b, now.date(), name="Lê Rảnh Rỗi")
    coordinator = make_user(db_session, Role.COORDINATOR)
    period = reports.make_period(dt.date(2026, 3, 1), dt.date(2026, 3, 10), now.date())
    filed = now - 4 * H
    first = make_ticket(db_session, registry, a, filed)
    tickets.perform(db_session, registry, first, student, "claim", filed + 30 * dt.timedelta(minutes=1))
    tickets.comment(db_session, registry, first, student, "Đã kiểm tra cáp", filed + H)
    tickets.perform(db_session, registry, first, student, "resolve", filed + 2 * H,
                    reason="Thay cáp mạng")
    second = make_ticket(db_session, registry, a, filed)
    tickets.perform(db_session, registry, second, student, "claim", filed + 90 * dt.timedelta(minutes=1))
    tickets.comment(db_session, registry, second, coordinator, "Theo dõi", filed + H)
    old = make_ticket(db_session, registry, a, now - 21 * D)
    tickets.perform(db_session, registry, old, student, "claim", now - 20 * D)
    db_session.flush()
    rows = {r.name: r for r in reports.student_activity(db_session, period)}
    assert set(rows) == {"Trần Sinh Viên", "Lê Rảnh Rỗi"}
    s = rows["Trần Sinh Viên"]
    assert (s.claimed, s.resolved, s.comments) == (2, 1, 1)
    assert s.universities == ["Đại học Duy Tân"] and s.wards == ["A ward"]
    assert sorted(s.response_minutes) == [30.0, 90.0]
    assert (s.median_response, s.average_response) == (60.0, 60.0)
    assert (s.median_resolution, s.average_resolution) == (120.0, 120.0)
    i = rows["Lê Rảnh Rỗi"]
    assert (i.claimed, i.resolved, i.comments, i.median_response) == (0, 0, 0, None)
    assert idle.id == i.student_id


def test_health_counts_red_and_amber_of_enabled_checks(db_session):
    ward = make_ward(db_session)
    asset = Asset(ward=ward, category="network", kind="router", name="Router")
    retired = Asset(ward=ward, category="network", kind="router", name="Old", active=False)
    db_session.add_all([asset, retired])
    for status, enabled, owner in [("failure", True, asset), ("error", True, asset),
                                   ("warning", True, asset), ("ok", True, asset),
                                   (None, True, asset), ("failure", False, asset),
                                   ("failure", True, retired)]:
        db_session.add(AssetCheck(asset=owner, check_type="tcp", last_status=status,
                                  enabled=enabled))
    db_session.flush()
    assert reports.health_counts(db_session) == {"red": 2, "amber": 1, "ok": 1, "unknown": 1}


def test_export_streams_in_batches_with_filters(db_session, registry, now):
    a, b = make_ward(db_session), make_ward(db_session)
    period = reports.make_period(dt.date(2026, 3, 1), dt.date(2026, 3, 10), now.date())
    for _ in range(5):
        _ticket(db_session, registry, a, now, created=now - H)
    _ticket(db_session, registry, a, now, created=now - H, status=Status.CLOSED)
    _ticket(db_session, registry, b, now, created=now - H)
    statements = []
    from sqlalchemy import event
    engine = db_session.get_bind()

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        rows = list(reports.iter_export_tickets(
            db_session, reports.ExportFilter(period, ward_id=a.id, status="open"), batch_size=2))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(rows) == 5 and all(r[1] == a.code for r in rows)
    assert len([s for s in statements if "FROM ticket" in s]) == 3  # 2 + 2 + 1
    everything = list(reports.iter_export_tickets(db_session, reports.ExportFilter(period)))
    assert len(everything) == 7
