"""Fixtures of the web tests: a small two-ward world, logging in without the form, and
apps with CSRF or rate limiting switched on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from helpdesk_core.models import Asset, AssetCheck, CalendarDay, Role, SlaPolicy
from helpdesk_core.services import users
from tests.conftest import FIXED_NOW
from tests.factories import make_student, make_ticket, make_user, make_ward


@dataclass
class World:
    """Ids of everything the web tests use; ward A is the one URLs point into."""

    ward_a: int
    ward_b: int
    ward_a_code: str
    ward_b_code: str
    staff_a: int
    staff_b: int
    student_a: int
    student_expired: int
    coordinator: int
    admin: int
    ticket_a: int
    ticket_a_number: str
    ticket_b: int
    ticket_b_number: str
    asset_a: int
    check_a: int
    day_a: int
    assignment_a: int
    policy: int
    batch: int = 0        # a batch serving ward A (student A placed in it), open for evaluation
    university: int = 0


def build_world(session, registry) -> World:
    today = FIXED_NOW.date()
    a = make_ward(session, name="Phường Hải Châu Thử")
    b = make_ward(session, name="Phường Sơn Trà Thử")
    staff_a = make_user(session, Role.STAFF, a, name="Cán bộ A")
    staff_b = make_user(session, Role.STAFF, b, name="Cán bộ B")
    student_a = make_student(session, a, today, name="Sinh viên A")
    expired = make_user(session, Role.STUDENT, name="Sinh viên Hết hạn")
    users.assign_student(session, expired, a, "Đại học Bách khoa",
                         today - dt.timedelta(days=120), today - dt.timedelta(days=1))
    coordinator = make_user(session, Role.COORDINATOR, name="Điều phối")
    admin = make_user(session, Role.ADMIN, name="Quản trị")
    ticket_a = make_ticket(session, registry, a, FIXED_NOW - dt.timedelta(hours=2),
                           reporter=staff_a, title="Máy in quầy 1 kẹt giấy")
    ticket_b = make_ticket(session, registry, b, FIXED_NOW - dt.timedelta(hours=2),
                           reporter=staff_b, title="Mất mạng tầng 2")
    asset = Asset(ward=a, category="network", kind="router", name="Router tầng 1",
                  address="127.0.0.1")
    check = AssetCheck(asset=asset, check_type="tcp", config={"port": 80}, last_status="failure")
    day = CalendarDay(ward=a, day=dt.date(2026, 4, 30), is_working=False, note="Nghỉ lễ")
    policy = SlaPolicy(priority=2, category=None, response_minutes=30, resolution_minutes=240)
    session.add_all([asset, check, day, policy])
    session.commit()
    world = World(a.id, b.id, a.code, b.code, staff_a.id, staff_b.id, student_a.id, expired.id,
                  coordinator.id, admin.id, ticket_a.id, ticket_a.number, ticket_b.id,
                  ticket_b.number, asset.id, check.id, day.id,
                  student_a.assignments[0].id, policy.id)
    world.batch, world.university = _programme(session, a, student_a, today)
    return world


def _programme(session, ward, student, today: dt.date) -> tuple[int, int]:
    """A batch serving *ward* that ends in three days, *student*'s placement in it (with
    its university as an organisation)."""
    from helpdesk_core.services import admin as admin_service
    from helpdesk_core.services import batches
    university = batches.save_university(session, None, code="DTU", name="Đại học Duy Tân")
    batch = batches.save_batch(session, None, name="Đợt thử", starts_on=today - dt.timedelta(
        days=60), ends_on=today + dt.timedelta(days=3), wards=[ward], criteria="Thái độ; 5")
    placement = student.assignments[0]
    admin_service.save_assignment(session, placement, student=student, ward=ward, university="",
                                  starts_on=batch.starts_on, ends_on=batch.ends_on, batch=batch,
                                  university_org=university)
    session.commit()
    return batch.id, university.id


@pytest.fixture
def world(app) -> World:
    """Two wards with staff, students, a coordinator, an admin, tickets and an asset.

    The app's clock is frozen at Tue 10/03/2026 09:00 local time.
    """
    from webapp.extensions import db
    app.config["NOW"] = lambda: FIXED_NOW
    with app.app_context():
        return build_world(db.session, app.extensions["helpdesk"])


def login_as(client, user_id: int | None) -> None:
    """Log *user_id* in without the form (None: stay anonymous)."""
    if user_id is None:
        return
    from helpdesk_core.models import User
    from webapp.extensions import db
    with client.application.app_context():
        session_id = db.session.get(User, user_id).get_id()  # with the session version
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True


def _make_app(database, tmp_path, **overrides):
    from webapp import create_app
    config = {"TESTING": True, "DATABASE_URL": database.url, "SECRET_KEY": "test-secret",
              "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
              "UPLOAD_FOLDER": str(tmp_path / "uploads")}
    config.update(overrides)
    return create_app(config)


def _dispose(app, database) -> None:
    from webapp.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database.clean()


@pytest.fixture
def make_app(database, tmp_path):
    """Build extra apps on the test database with their own settings."""
    built = []

    def build(**overrides):
        app = _make_app(database, tmp_path, **overrides)
        built.append(app)
        return app

    yield build
    for app in built:
        _dispose(app, database)
