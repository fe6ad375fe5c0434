"""Web fixtures of the testing kit: the Flask app on the test database, logged-in clients.

The only module of ``helpdesk_core`` allowed to reach the web layer, and only inside
fixtures: ``helpdesk_core`` itself never imports Flask (tests/core/test_boundaries.py).
A project that tests only core code never pays for importing the web app.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest

from ..models import Role, Ward
from ..services import users

TEST_PASSWORD = "correct horse battery"
ROLES = (Role.STAFF, Role.STUDENT, Role.COORDINATOR, Role.ADMIN)


@dataclass(frozen=True)
class WardInfo:
    """The test ward (ids and names only: ORM objects die with their session)."""

    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Accounts:
    """One account per role: logins and ids by role; the password is TEST_PASSWORD."""

    logins: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    password: str = TEST_PASSWORD


def app_config(database_url: str, upload_folder: str) -> dict[str, Any]:
    """The settings of the test app: the test database, no CSRF, no rate limits."""
    return {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
            "DASHBOARD_CACHE_SECONDS": 0,  # tests change tickets between two looks
            "SCHEDULER_EXPECTED": False,  # no scheduler runs in tests: /healthz answers 200
            "UPLOAD_FOLDER": upload_folder}


@pytest.fixture
def app(database, tmp_path, clock):
    """The web app on the test database, its clock frozen at ``clock`` (``NOW``).

    Its plugins come from the ``ward_helpdesk`` entry points, yours included once
    installed (``pip install -e .``). Tables are emptied after the test.
    """
    from webapp import create_app
    from webapp.extensions import db
    app = create_app(app_config(database.url, str(tmp_path / "uploads")))
    app.config["NOW"] = clock
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database.clean()


@pytest.fixture
def client(app):
    """A test client of ``app``, logged in as nobody."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Runs ``helpdesk`` commands against ``app`` (``runner.invoke(args=[...])``)."""
    return app.test_cli_runner()


@pytest.fixture
def ward(app) -> WardInfo:
    """A ward (code ``KIT``, "Phường Kiểm Thử") in the app's database."""
    from webapp.extensions import db
    with app.app_context():
        created = Ward(code="KIT", name="Phường Kiểm Thử", address="Đà Nẵng")
        db.session.add(created)
        db.session.commit()
        return WardInfo(created.id, created.code, created.name)


@pytest.fixture
def accounts(app, ward, clock) -> Accounts:
    """Staff of ``ward``, a student placed there, a coordinator and an administrator."""
    from webapp.extensions import db
    today = clock().astimezone(ZoneInfo(app.config["TIMEZONE"])).date()
    made = Accounts()
    with app.app_context():
        home = db.session.get(Ward, ward.id)
        for role in ROLES:
            user = users.create_user(db.session, login=f"kit.{role}", name=f"Kiểm thử {role}",
                                     password=TEST_PASSWORD, role=role,
                                     ward=home if role == Role.STAFF else None)
            if role == Role.STUDENT:
                users.assign_student(db.session, user, home, "Đại học Đà Nẵng",
                                     today - dt.timedelta(days=30), today + dt.timedelta(days=90))
            made.logins[role], made.ids[role] = user.login, user.id
        db.session.commit()
    return made


@pytest.fixture
def logged_in(app, accounts) -> Callable[[str], Any]:
    """``logged_in("staff")``: a new test client logged in as that role's account
    (``staff``, ``student``, ``coordinator`` or ``admin``)."""

    def log_in(role: str):
        client = app.test_client()
        response = client.post("/login", data={"login": accounts.logins[role],
                                               "password": accounts.password})
        assert response.status_code == 302, f"logging in as {role}: {response.status_code}"
        return client

    return log_in
