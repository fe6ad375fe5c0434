"""The coordinators' dashboard: figures, period form, chart, CSV exports, query counts."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re

import pytest

from sqlalchemy import event, select

from helpdesk_core.models import Role, Ticket, Ward
from helpdesk_core.services import tickets
from tests.conftest import FIXED_NOW
from tests.factories import make_student, make_ticket, make_user, make_ward
from tests.webapp.admin.conftest import build_world, login_as
from webapp.extensions import db

DATETIME = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")


def coordinator_client(app, world):
    client = app.test_client()
    login_as(client, world.coordinator)
    return client


def test_dashboard_shows_ward_load_health_and_compliance(app, world):
    with app.app_context():
        ticket = db.session.get(Ticket, world.ticket_a)
        ticket.resolution_due_at = FIXED_NOW - dt.timedelta(minutes=5)
        db.session.commit()
    body = coordinator_client(app, world).get("/dashboard/").get_data(as_text=True)
    table = body.split('id="ward-load"')[1].split("</table>")[0]
    row_a = table.split("Phường Hải Châu Thử")[1].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", row_a) == ["1", "0", "1"]
    row_b = table.split("Phường Sơn Trà Thử")[1].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", row_b) == ["1", "0", "0"]
    assert 'href="/health"' in body
    assert re.search(r'id="health-red">1 ', body) and re.search(r'id="health-amber">0 ', body)
    assert "Bảng điều khiển" in body  # Vietnamese by default


def test_compliance_and_weekly_chart_over_the_chosen_period(app, world):
    with app.app_context():
        registry = app.extensions["helpdesk"]
        ward = db.session.get(type(db.session.get(Ticket, world.ticket_a).ward), world.ward_a)
        on_time = make_ticket(db.session, registry, ward, FIXED_NOW - dt.timedelta(days=3))
        late = make_ticket(db.session, registry, ward, FIXED_NOW - dt.timedelta(days=3))
        for t, due in ((on_time, FIXED_NOW), (late, FIXED_NOW - dt.timedelta(hours=2))):
            t.status, t.resolved_at, t.resolution_due_at = ("resolved",
                                                            FIXED_NOW - dt.timedelta(hours=1), due)
        db.session.commit()
    client = coordinator_client(app, world)
    body = client.get("/dashboard/?start=01/03/2026&end=10/03/2026").get_data(as_text=True)
    assert 'id="sla-overall">50,0 %' in body  # Vietnamese decimal comma
    # The figures may come from the cache: the page says when they were counted.
    assert re.search(r'id="period-figures-as-of">Số liệu lúc \d{2}/\d{2}/\d{4} \d{2}:\d{2}\.', body)
    assert '<svg class="chart" role="img" aria-labelledby="chart-title chart-desc"' in body
    assert '<title id="chart-title">' in body and '<desc id="chart-desc">' in body
    table = body.split('id="volume-table"')[1].split("</table>")[0]
    assert "01/03/2026" in table and "08/03/2026" in table
    # 4 network tickets filed on 07/03 and 10/03: weeks 1 and 2; totals in the last column.
    rows = re.findall(r"<tr><th scope=\"row\">([\d/]+)</th>(.*?)</tr>", table)
    totals = {week: re.findall(r"<td>(\d+)</td>", cells)[-1] for week, cells in rows}
    assert totals == {"01/03/2026": "2", "08/03/2026": "2"}
    quiet = client.get("/dashboard/?start=01/01/2026&end=31/01/2026").get_data(as_text=True)
    assert "<svg" not in quiet and 'id="sla-overall">–' in quiet


def test_bad_period_keeps_the_input_and_explains_in_vietnamese(app, world):
    client = coordinator_client(app, world)
    page = client.get("/dashboard/?start=31/02/2026&end=10/03/2026")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="31/02/2026"' in body and "Ngày không hợp lệ" in body
    reversed_range = client.get("/dashboard/?start=10/03/2026&end=01/03/2026").get_data(as_text=True)
    assert "Ngày kết thúc không được trước ngày bắt đầu" in reversed_range
    assert 'value="10/03/2026"' in reversed_range and 'value="01/03/2026"' in reversed_range


def _read_csv(response):
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode("utf-8"))
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_ticket_export_is_excel_friendly_csv_without_personal_data(app, world):
    with app.app_context():
        registry = app.extensions["helpdesk"]
        ward = db.session.get(Ticket, world.ticket_a).ward
        make_ticket(db.session, registry, ward, FIXED_NOW - dt.timedelta(hours=1),
                    title="Không in được hồ sơ", description="Gọi chị Lan 0905123456")
        db.session.commit()
    client = coordinator_client(app, world)
    response = client.get("/dashboard/export/tickets.csv?start=01/03/2026&end=10/03/2026"
                          f"&ward={world.ward_a}&status=open")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _read_csv(response)
    header, data = rows[0], rows[1:]
    assert header[:3] == ["Số phiếu", "Mã phường/xã", "Phường/xã"]
    assert {r[0] for r in data} == {world.ticket_a_number,
                                    f"{world.ward_a_code}-2026-00002"}
    assert all(r[2] == "Phường Hải Châu Thử" for r in data)
    assert all(DATETIME.match(r[8]) for r in data)
    # 07:00 UTC is 14:00 in Da Nang.
    assert "10/03/2026 08:00" in {r[8] for r in data}
    text = response.get_data(as_text=True)
    assert "0905123456" not in text and "Gọi chị Lan" not in text
    assert world.ticket_b_number not in text


def test_student_activity_page_and_export(app, world):
    with app.app_context():
        registry = app.extensions["helpdesk"]
        ticket = db.session.get(Ticket, world.ticket_a)
        student = db.session.get(type(ticket.reporter), world.student_a)
        tickets.perform(db.session, registry, ticket, student, "claim",
                        FIXED_NOW - dt.timedelta(hours=1))
        tickets.commit(db.session)
    client = coordinator_client(app, world)
    page = client.get("/dashboard/students?start=01/03/2026&end=10/03/2026")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Sinh viên A" in body and "Đại học Duy Tân" in body
    rows = _read_csv(client.get("/dashboard/export/students.csv?start=01/03/2026&end=10/03/2026"))
    by_name = {r[1]: r for r in rows[1:]}
    assert rows[0][1] == "Sinh viên"
    active = by_name["Sinh viên A"]
    assert active[2] == "Đại học Duy Tân" and active[3] == "Phường Hải Châu Thử"
    assert active[4:7] == ["1", "0", "0"] and active[7] == "60.0"


@contextlib.contextmanager
def count_queries(engine):
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _add_wards(app, count):
    with app.app_context():
        registry = app.extensions["helpdesk"]
        for _ in range(count):
            ward = make_ward(db.session)
            make_student(db.session, ward, FIXED_NOW.date())
            make_user(db.session, Role.STAFF, ward)
            for hours in (1, 30, 200):
                make_ticket(db.session, registry, ward, FIXED_NOW - dt.timedelta(hours=hours))
        db.session.commit()


def test_dashboard_queries_do_not_grow_with_wards_or_tickets(app, world):
    client = coordinator_client(app, world)
    with app.app_context():
        engine = db.engine
    counts = []
    for extra in (0, 5, 20):
        _add_wards(app, extra)
        for path in ("/dashboard/", "/dashboard/students"):
            with count_queries(engine) as statements:
                assert client.get(path + "?start=01/02/2026&end=10/03/2026").status_code == 200
            counts.append((path, len(statements)))
    by_path: dict[str, set[int]] = {}
    for path, n in counts:
        by_path.setdefault(path, set()).add(n)
    assert all(len(values) == 1 for values in by_path.values()), counts
    # 1 for what the live figures are kept under (the newest ticket event, the wards);
    # 7 for the figures; 6 for the duty section (the wards with new unassigned tickets
    # and their counts, their calendars for today, the roster and its changes, the oldest
    # waiting tickets, help at the counter).
    assert max(n for _, n in counts) <= 14, counts


CACHED_URL = "/dashboard/?start=01/02/2026&end=10/03/2026"


@pytest.fixture
def cached_dashboard(app, world):
    """A coordinator's client and the engine, with the dashboard's kept figures emptied
    before and after the test."""
    from webapp.dashboard import period_cache

    period_cache.clear()
    with app.app_context():
        engine = db.engine
    try:
        yield coordinator_client(app, world), engine
    finally:
        period_cache.clear()


def test_period_figures_are_cached_but_the_live_load_is_not(app, world, cached_dashboard):
    """With DASHBOARD_CACHE_SECONDS on, a second look skips compliance and volumes only."""
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    client, engine = cached_dashboard
    with count_queries(engine) as first:
        assert client.get(CACHED_URL).status_code == 200
    _add_wards(app, 1)  # one more ward: the live load must show it at once
    with count_queries(engine) as second:
        page = client.get(CACHED_URL).get_data(as_text=True)
    assert len(second) == len(first) - 2, (first, second)
    assert not any("resolved_at" in s for s in second)  # compliance came from the cache
    assert any("ward_id" in s and "at_risk" in s for s in second)  # the load did not
    with app.app_context():
        newest = db.session.scalars(select(Ward).order_by(Ward.id.desc())).first()
    assert newest.name in page
    with count_queries(engine) as other_period:
        assert client.get("/dashboard/?start=01/01/2026&end=10/03/2026").status_code == 200
    assert len(other_period) == len(first)  # another period is computed afresh


def test_live_figures_are_kept_until_a_ticket_changes(app, world, cached_dashboard):
    """A second look reads only whether any ticket changed; a change shows at once."""
    app.config["DASHBOARD_LIVE_SECONDS"] = 60
    client, engine = cached_dashboard
    with count_queries(engine) as first:
        page = client.get(CACHED_URL).get_data(as_text=True)
    assert 'id="live-as-of"' in page
    live = page.split('aria-label="Toàn thành phố hiện nay"')[1].split(
        'id="counter-help-by-ward"')[0]
    with count_queries(engine) as again:
        assert live in client.get(CACHED_URL).get_data(as_text=True)
    assert not any("at_risk" in s for s in again)  # the load came from the cache
    assert len(again) < len(first) - 5, (first, again)
    open_now = re.compile(r'<div class="tile"><span class="big">(\d+)</span>')
    before = int(open_now.search(page).group(1))
    with app.app_context():  # a ticket filed meanwhile shows at the next look
        registry = app.extensions["helpdesk"]
        make_ticket(db.session, registry, db.session.get(Ward, world.ward_a), FIXED_NOW)
        db.session.commit()
    changed = client.get(CACHED_URL).get_data(as_text=True)
    assert int(open_now.search(changed).group(1)) == before + 1
    from webapp.dashboard import period_cache
    live_entries = [k for k in period_cache._entries if k[0] == "live"]
    assert len(live_entries) == 1, live_entries  # the new figures replaced the old ones
    app.config["DASHBOARD_LIVE_SECONDS"] = 0  # off: every look counts afresh
    with count_queries(engine) as off:
        assert client.get(CACHED_URL).status_code == 200
    assert any("at_risk" in s for s in off)
    assert not any("max(ticket_event.id)" in s for s in off)
