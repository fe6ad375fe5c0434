"""The device status board: colours with words, links to tickets, scope per role, and a
fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, select

from helpdesk_core import CheckResult, CheckStatus
from helpdesk_core.models import Asset, AssetCheck, Role, Ward
from helpdesk_core.services import health, tickets
from tests.conftest import FIXED_NOW
from tests.factories import PASSWORD, make_student, make_user, make_ward
from webapp.extensions import db

NOW = FIXED_NOW  # the web tests freeze the app clock here (tests/webapp/conftest.py)


def login(client, user):
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302


def add_asset(ward, name, *checks):
    asset = Asset(ward=ward, category="network", kind="router", name=name, address="10.0.0.1",
                  checks=list(checks))
    db.session.add(asset)
    db.session.flush()
    return asset


def record(check, status, message, times=1):
    registry = db.session.info.get("registry")
    for n in range(times):
        health.record_result(db.session, registry, check.id, CheckResult(status, message,
                                                                         {"latency_ms": 12.4}),
                             None, NOW - dt.timedelta(minutes=times - n))
    tickets.commit(db.session)


@pytest.fixture
def scene(app):
    """Two wards and a city-wide service, in every colour; one user per role."""
    with app.app_context():
        db.session.info["registry"] = app.extensions["helpdesk"]
        ward_a = make_ward(db.session, name="Phường Hải Châu")
        ward_b = make_ward(db.session, name="Phường Sơn Trà")
        people = {
            "staff": make_user(db.session, Role.STAFF, ward_a, locale="en"),
            "student": make_student(db.session, ward_b, NOW.date(), locale="en"),
            "coordinator": make_user(db.session, Role.COORDINATOR, locale="en"),
        }
        ok, warn, down, never = (AssetCheck(check_type="http"), AssetCheck(check_type="tcp"),
                                 AssetCheck(check_type="tcp", failure_threshold=3),
                                 AssetCheck(check_type="http"))
        add_asset(ward_a, "Printer A1", ok, warn)
        add_asset(ward_a, "Router A", down)
        add_asset(ward_a, "Kiosk A", never)
        b_down = AssetCheck(check_type="tcp", failure_threshold=3)
        add_asset(ward_b, "Router B", b_down)
        portal = AssetCheck(check_type="http")
        add_asset(None, "City portal", portal)
        db.session.commit()
        record(ok, CheckStatus.OK, "answered 200")
        record(warn, CheckStatus.WARNING, "Toner 5%")
        record(down, CheckStatus.FAILURE, "Cannot connect to 10.0.0.1:9", times=3)
        record(b_down, CheckStatus.FAILURE, "Cannot connect to 10.0.0.2:9", times=1)
        record(portal, CheckStatus.OK, "answered 200")
        down_ticket = health.open_ticket_for(db.session, down.id)
        assert down_ticket is not None
        ids = {"ok": ok.id, "warn": warn.id, "down": down.id, "never": never.id,
               "b_down": b_down.id, "ticket": down_ticket.id}
        db.session.remove()
    return people, ids


def rows(page):
    """(device, state cell text, state colour) per row of the board."""
    found = []
    for row in re.findall(r"<tr class=\"health-row-(\w+)\">(.*?)</tr>", page, re.S):
        colour, body = row
        device = re.search(r"<strong>(.*?)</strong>", body).group(1)
        state = re.sub(r"<[^>]+>|\s+", " ", re.search(
            r'class="health-cell[^"]*">(.*?)</td>', body, re.S).group(1)).split()
        found.append((device, " ".join(state), colour))
    return found


def test_staff_see_their_ward_in_colours_with_words(client, scene):
    people, ids = scene
    login(client, people["staff"])
    page = client.get("/health/").get_data(as_text=True)
    assert rows(page) == [
        ("Kiosk A", "– Never checked", "grey"),
        ("Printer A1", "✓ OK", "green"),
        ("Printer A1", "! Warning", "amber"),
        ("Router A", "✕ Failure", "red"),
    ]
    assert "Router B" not in page and "City portal" not in page
    # From the red cell to its open ticket.
    assert f'href="/tickets/{ids["ticket"]}"' in page
    assert "Toner 5%" in page and "12 ms" in page
    assert client.get(f"/tickets/{ids['ticket']}").status_code == 200
    assert 'href="/health/"' in page  # the nav link


def test_student_sees_their_assigned_ward_and_red_without_ticket_says_why(client, scene):
    people, _ids = scene
    login(client, people["student"])
    page = client.get("/health/").get_data(as_text=True)
    assert [r[0] for r in rows(page)] == ["Router B"]
    assert "1 of 3 failures before a ticket" in page


def test_coordinator_sees_every_ward_and_city_wide_services(client, scene):
    people, _ids = scene
    login(client, people["coordinator"])
    page = client.get("/health/").get_data(as_text=True)
    devices = [r[0] for r in rows(page)]
    assert devices == ["Kiosk A", "Printer A1", "Printer A1", "Router A", "Router B",
                       "City portal"]
    assert "City-wide services" in page
    assert page.index("<h2>Phường Hải Châu") < page.index("<h2>Phường Sơn Trà") \
        < page.index("City portal")
    # The whole city is long: a coordinator can narrow it to one ward.
    ward_b = re.search(r'<option value="(\d+)">Phường Sơn Trà</option>', page).group(1)
    narrowed = client.get(f"/health/?ward={ward_b}").get_data(as_text=True)
    assert [r[0] for r in rows(narrowed)] == ["Router B"]


def test_staff_cannot_widen_their_board_with_the_ward_filter(client, scene):
    people, _ids = scene
    login(client, people["staff"])
    with client.application.app_context():
        other = db.session.scalar(select(Ward.id).where(Ward.name == "Phường Sơn Trà"))
    page = client.get(f"/health/?ward={other}").get_data(as_text=True)
    assert rows(page) == [] and "Router B" not in page and "<select" not in page


def test_the_board_is_in_vietnamese_by_default(app, client):
    with app.app_context():
        ward = make_ward(db.session)
        user = make_user(db.session, Role.STAFF, ward)
        add_asset(ward, "Máy in", AssetCheck(check_type="tcp"))
        db.session.commit()
    login(client, user)
    page = client.get("/health/").get_data(as_text=True)
    assert "Tình trạng thiết bị" in page and "Chưa kiểm tra" in page


def test_the_board_needs_a_login(client):
    response = client.get("/health/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_board_uses_a_fixed_number_of_queries(app, client, scene):
    people, _ids = scene
    login(client, people["coordinator"])

    def count_queries():
        statements = []

        def listener(conn, cursor, statement, *args):
            statements.append(statement)
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/health/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    small = count_queries()
    with app.app_context():
        for n in range(4):
            ward = make_ward(db.session)
            for m in range(3):
                add_asset(ward, f"Thiết bị {n}-{m}", AssetCheck(check_type="tcp"),
                          AssetCheck(check_type="http"))
        db.session.commit()
    assert count_queries() == small
    assert small <= 8
