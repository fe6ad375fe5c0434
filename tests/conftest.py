"""Shared fixtures. Every database test runs on SQLite and on PostgreSQL.

Each test session creates its own PostgreSQL database (so parallel runs never collide)
and drops it at the end; every test starts from empty tables.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
import responses
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from helpdesk_core.db import make_engine, make_session_factory
from helpdesk_core.models import Base
from helpdesk_core.plugins import PluginRegistry, make_plugin_manager

PG_ADMIN_URL = os.environ.get("HELPDESK_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    """A needed tool or service is absent: skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


class Database:
    """One engine under test, with a way to empty it between tests."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)

    def clean(self) -> None:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with self.engine.begin() as conn:
            if self.kind == "postgresql":
                conn.execute(text("TRUNCATE {} RESTART IDENTITY CASCADE".format(
                    ", ".join(f'"{t}"' for t in tables))))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))

    def dispose(self) -> None:
        self.engine.dispose()


def _create_pg_database() -> tuple[str, callable]:
    admin_url = make_url(PG_ADMIN_URL)
    name = f"hdtest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server down or not installed
        missing(f"PostgreSQL is not reachable at {admin_url.render_as_string()}: {exc!r}")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """The engine under test: SQLite (a file, WAL) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        db = Database("sqlite", f"sqlite:///{path}")
        yield db
        db.dispose()
    else:
        url, drop = _create_pg_database()
        db = Database("postgresql", url)
        yield db
        db.dispose()
        drop()


@pytest.fixture
def postgres_database():
    """A fresh PostgreSQL database with the schema, for tests that only make sense there
    (several processes sharing one database). It does not run on SQLite at all."""
    url, drop = _create_pg_database()
    db = Database("postgresql", url)
    yield db
    db.dispose()
    drop()


@pytest.fixture
def db_session(database):
    """A session on a clean schema, no Flask involved."""
    factory = make_session_factory(database.engine)
    session = factory()
    yield session
    session.close()
    database.clean()


@pytest.fixture
def session_factory(database):
    """For tests that need several independent sessions (concurrency)."""
    yield make_session_factory(database.engine)
    database.clean()


@pytest.fixture
def pm():
    """A plugin manager with the specs only."""
    return make_plugin_manager(load_entry_points=False)


@pytest.fixture(scope="session")
def builtin_pm():
    """A plugin manager loaded from the ``ward_helpdesk`` entry points."""
    return make_plugin_manager()


@pytest.fixture(scope="session")
def registry(builtin_pm):
    return PluginRegistry(builtin_pm)


FIXED_NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.timezone.utc)  # Tue 09:00 in Da Nang


@pytest.fixture
def now():
    """A fixed moment inside working hours (Tuesday 10/03/2026, 09:00 local)."""
    return FIXED_NOW


@pytest.fixture
def app(database, tmp_path):
    from webapp import create_app
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database.url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "DASHBOARD_CACHE_SECONDS": 0,  # tests change tickets between two looks
        "SCHEDULER_EXPECTED": False,  # no scheduler runs in tests: /healthz answers 200
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    })
    yield app
    from webapp.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database.clean()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def http():
    """Outbound HTTP through requests: anything not stubbed fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
