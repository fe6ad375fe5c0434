"""Fixtures of the web tests: two wards with their people and tickets, logins.

The kit's ``app`` (helpdesk_core.testing) has its clock frozen at ``FIXED_NOW``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event

from helpdesk_core.models import Asset, AssetCheck, CheckRecord, Role
from helpdesk_core.services import tickets, users
from tests.conftest import FIXED_NOW
from tests.factories import PASSWORD, make_student, make_ticket, make_user, make_ward

LOCAL_TODAY = dt.date(2026, 3, 10)


@dataclass
class World:
    """Ids and numbers of what the ``world`` fixture created (objects die with the session)."""

    ward_a: int = 0
    ward_b: int = 0
    logins: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    ticket_a: int = 0          # new network ticket of ward A
    number_a: str = ""
    ticket_b: int = 0          # new ticket of ward B
    number_b: str = ""
    printer_a: int = 0         # ward A's printer (an asset with check results)
    printer_b: int = 0


@pytest.fixture
def world(app, registry) -> World:
    """Ward A and ward B; staff of each, a student of A, a student whose period ended,
    a coordinator, an administrator; one new ticket per ward; a printer per ward."""
    from webapp.extensions import db
    w = World()
    with app.app_context():
        s = db.session
        a = make_ward(s, name="Phường Hải Châu")
        b = make_ward(s, name="Phường Hòa Khánh")
        people = {
            "staff_a": make_user(s, Role.STAFF, a, name="Trần Văn Minh"),
            "staff_b": make_user(s, Role.STAFF, b, name="Lê Thị Hoa"),
            "student_a": make_student(s, a, LOCAL_TODAY, name="Võ Minh Tuấn"),
            "student_a2": make_student(s, a, LOCAL_TODAY, name="Đặng Thu Trang"),
            "student_expired": make_user(s, Role.STUDENT, name="Bùi Đức Anh"),
            "coordinator": make_user(s, Role.COORDINATOR, name="Nguyễn Thị Lan"),
            "admin": make_user(s, Role.ADMIN, name="Quản trị"),
        }
        users.assign_student(s, people["student_expired"], a, "Đại học Duy Tân",
                             LOCAL_TODAY - dt.timedelta(days=120),
                             LOCAL_TODAY - dt.timedelta(days=1))
        printer_a = Asset(ward=a, category="printer", kind="printer", name="Máy in quầy 1",
                          location="Quầy 1")
        printer_b = Asset(ward=b, category="printer", kind="printer", name="Máy in HK")
        s.add_all([printer_a, printer_b])
        s.flush()
        check = AssetCheck(asset=printer_a, check_type="ipp")
        s.add(check)
        s.flush()
        for i in range(12):
            s.add(CheckRecord(check_id=check.id, status="failure" if i % 3 else "ok",
                              message=f"lần kiểm tra {i}",
                              checked_at=FIXED_NOW - dt.timedelta(minutes=5 * i)))
        ta = make_ticket(s, registry, a, FIXED_NOW, reporter=people["staff_a"],
                         title="Mất mạng quầy 2")
        tb = make_ticket(s, registry, b, FIXED_NOW, reporter=people["staff_b"],
                         title="Mất mạng phòng họp")
        tickets.commit(s)
        w.ward_a, w.ward_b = a.id, b.id
        w.logins = {k: u.login for k, u in people.items()}
        w.user_ids = {k: u.id for k, u in people.items()}
        w.ticket_a, w.number_a = ta.id, ta.number
        w.ticket_b, w.number_b = tb.id, tb.number
        w.printer_a, w.printer_b = printer_a.id, printer_b.id
    return w


@pytest.fixture
def login(client, world):
    """``login("staff_a")`` logs the test client in as that person (logging out first)."""

    def do(who: str):
        client.post("/logout")
        if who == "anonymous":
            return None
        response = client.post("/login", data={"login": world.logins[who], "password": PASSWORD})
        assert response.status_code == 302, who
        return response
    return do


@pytest.fixture
def count_queries(app):
    """``with count_queries() as n: ...``; then ``n.value`` is the statements executed."""
    from contextlib import contextmanager

    from webapp.extensions import db

    class Counter:
        value = 0
        statements: list[str] = []

    @contextmanager
    def counting():
        counter = Counter()
        counter.statements = []
        with app.app_context():
            engine = db.engine

        def before(_conn, _cursor, statement, *_args, **_kwargs):
            counter.value += 1
            counter.statements.append(statement)
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)
    return counting
