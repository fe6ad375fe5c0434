"""All wards at once: the sortable table and the heat map of wards x ISO weeks."""

from __future__ import annotations

import datetime as dt

from helpdesk_core.models import Status
from helpdesk_core.services import reports, users, ward_overview
from tests.factories import make_student, make_ticket, make_user, make_ward
from .conftest import quick_student

UTC = dt.timezone.utc


def _ticket(session, registry, ward, created, **fields):
    ticket = make_ticket(session, registry, ward, created)
    ticket.created_at = created
    for key, value in fields.items():
        setattr(ticket, key, value)
    session.flush()
    return ticket


def test_heatmap_has_every_ward_and_cuts_weeks_at_local_monday(db_session, registry):
    a = make_ward(db_session, name="Phường Hải Châu")
    make_ward(db_session, name="Phường Sơn Trà")
    make_ward(db_session, name="Phường Cũ", active=False)
    # 2-15 March 2026: ISO weeks 10 (from Monday 2/3) and 11 (from Monday 9/3).
    period = reports.make_period(dt.date(2026, 3, 4), dt.date(2026, 3, 15), dt.date(2026, 3, 15))
    monday_9_local = dt.datetime(2026, 3, 8, 17, tzinfo=UTC)  # 00:00 on 9/3 in Đà Nẵng
    _ticket(db_session, registry, a, monday_9_local - dt.timedelta(minutes=1))  # week 10
    _ticket(db_session, registry, a, monday_9_local)                            # week 11
    _ticket(db_session, registry, a, monday_9_local + dt.timedelta(days=2))     # week 11
    _ticket(db_session, registry, a, dt.datetime(2026, 3, 2, 3, tzinfo=UTC))    # before period
    heat = ward_overview.ward_week_heatmap(db_session, period)
    assert heat.weeks == [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
    assert [heat.label(w) for w in heat.weeks] == ["10", "11"]
    rows = {r.name: r.counts for r in heat.rows}
    assert rows == {"Phường Hải Châu": [1, 2], "Phường Sơn Trà": [0, 0]}
    assert heat.maximum == 2
    assert [heat.level(n) for n in (0, 1, 2)] == [0, 3, 5]


def test_ward_table_counts_now_and_sorts(db_session, registry, now):
    a = make_ward(db_session, name="Phường An Hải")
    b = make_ward(db_session, name="Phường Bình Hiên")
    quiet = make_ward(db_session, name="Phường Sơn Trà")
    today = now.date()
    quick_student(db_session, a, today)  # on the roster every working half-day
    quick_student(db_session, a, today)
    make_student(db_session, b, today)  # placed, but on no roster: not on duty
    off = make_user(db_session, "student")
    users.assign_student(db_session, off, b, "Đại học FPT", today - dt.timedelta(days=60),
                         today - dt.timedelta(days=1))  # placement over: not on duty
    _ticket(db_session, registry, b, now - dt.timedelta(hours=3),
            resolution_due_at=now - dt.timedelta(hours=1))  # overdue
    _ticket(db_session, registry, b, now - dt.timedelta(hours=3), at_risk=True,
            resolution_due_at=now + dt.timedelta(hours=1))
    _ticket(db_session, registry, a, now - dt.timedelta(days=2), status=Status.CLOSED,
            resolved_at=now - dt.timedelta(days=1), resolution_due_at=now)
    period = reports.make_period(None, None, today)
    rows = ward_overview.ward_table(db_session, now, today, period)
    by_name = {r.name: r for r in rows}
    assert [r.name for r in rows] == ["Phường An Hải", "Phường Bình Hiên", "Phường Sơn Trà"]
    assert (by_name["Phường An Hải"].on_duty, by_name["Phường An Hải"].on_time) == (2, 100.0)
    assert (by_name["Phường Bình Hiên"].open, by_name["Phường Bình Hiên"].at_risk,
            by_name["Phường Bình Hiên"].breached, by_name["Phường Bình Hiên"].on_duty) == (2, 1, 1, 0)
    assert by_name["Phường Sơn Trà"].on_time is None and by_name["Phường Sơn Trà"].open == 0
    by_open = ward_overview.ward_table(db_session, now, today, period, "open", descending=True)
    assert by_open[0].name == "Phường Bình Hiên"
    by_share = ward_overview.ward_table(db_session, now, today, period, "on_time")
    assert by_share[-1].name == "Phường An Hải"  # no share sorts below 0 %
    assert ward_overview.students_on_duty(db_session, now) == {a.id: 2}
    assert quiet.id not in ward_overview.students_on_duty(db_session, now)
    evening = now.replace(hour=13)  # 20:00 in Da Nang: the centre is closed
    assert ward_overview.students_on_duty(db_session, evening) == {}
