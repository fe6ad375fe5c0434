"""The kiosk plugin's page, setting and table: from its entry point through
``helpdesk db upgrade`` to a page behind the login."""

from __future__ import annotations

import importlib
import importlib.metadata
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from helpdesk_core.db import make_engine
from helpdesk_core.plugins import ENTRY_POINT_GROUP
from helpdesk_core.models import Role
from tests.core.test_migrations import empty_database_url  # noqa: F401 (a fixture)
from tests.factories import PASSWORD, make_user, make_ward

def core_heads() -> set[str]:
    from alembic.script import ScriptDirectory

    from webapp import MIGRATIONS_DIR
    return set(ScriptDirectory(MIGRATIONS_DIR).get_heads())


def make_app(url: str, **config):
    from webapp import create_app
    return create_app(dict({"DATABASE_URL": url, "SECRET_KEY": "x", "TESTING": True,
                            "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                            "SCHEDULER_EXPECTED": False}, **config))


def upgrade(app) -> str:
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def dispose(app) -> None:
    from webapp.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def versions(url: str) -> tuple[set[str], set[str], set[str]]:
    """Tables, the core's recorded revisions, the kiosk's recorded revisions."""
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            core = set(conn.scalars(text("SELECT version_num FROM alembic_version")))
            kiosk = (set(conn.scalars(text("SELECT version_num FROM alembic_version_kiosk")))
                     if "alembic_version_kiosk" in tables else set())
        return tables, core, kiosk
    finally:
        engine.dispose()


def test_hook_helpdesk_register_storage(registry):
    storage = registry.storages["kiosk"]
    assert set(storage.metadata.tables) == {"kiosk_counter"}
    assert storage.version_table("kiosk") == "alembic_version_kiosk"
    assert "kiosk" not in {name for name in registry.storages if name != "kiosk"}


def test_db_upgrade_creates_the_plugin_tables_on_its_own_branch(empty_database_url):
    app = make_app(empty_database_url)
    try:
        output = upgrade(app)
        assert "plugin kiosk: up to date" in output
        tables, core, kiosk = versions(empty_database_url)
        assert "kiosk_counter" in tables
        assert core == core_heads()  # the core's table holds no plugin revision
        assert kiosk == {"kiosk_0001"}
        upgrade(app)  # again: nothing to do, nothing breaks
        # The plugin's migrations match its tables.
        storage = app.extensions["helpdesk"].storages["kiosk"]
        engine = make_engine(empty_database_url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _p: kind != "table"
                    or name.startswith("kiosk_")})
                assert compare_metadata(context, storage.metadata) == []
        finally:
            engine.dispose()
    finally:
        dispose(app)


def test_disabled_or_removed_plugin_leaves_the_core_upgrade_working(empty_database_url):
    app = make_app(empty_database_url)
    upgrade(app)
    dispose(app)
    # Switched off: its branch is skipped, its tables stay.
    app = make_app(empty_database_url, DISABLED_PLUGINS="kiosk")
    try:
        assert "kiosk" not in app.extensions["helpdesk"].storages
        assert "plugin kiosk" not in upgrade(app)
    finally:
        dispose(app)
    # Uninstalled: its entry point and revision files are gone; the core's upgrade does
    # not miss them.
    real_entry_points = importlib.metadata.entry_points

    def without_kiosk(**params):
        found = real_entry_points(**params)
        if params.get("group") == ENTRY_POINT_GROUP:
            return [ep for ep in found if ep.name != "kiosk"]
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(importlib.metadata, "entry_points", without_kiosk)
        app = make_app(empty_database_url)
        try:
            assert "kiosk" not in app.extensions["helpdesk"].plugin_names()
            upgrade(app)
        finally:
            dispose(app)
    tables, core, kiosk = versions(empty_database_url)
    assert "kiosk_counter" in tables and core == core_heads() and kiosk == {"kiosk_0001"}


def test_kiosk_page_setting_and_table_end_to_end(empty_database_url):
    app = make_app(empty_database_url)
    try:
        upgrade(app)
        from webapp.extensions import db
        with app.app_context():
            a, b = make_ward(db.session, name="Phường An Hải"), make_ward(db.session,
                                                                          name="Phường Thọ Quang")
            staff_a = make_user(db.session, Role.STAFF, a)
            staff_b = make_user(db.session, Role.STAFF, b)
            admin = make_user(db.session, Role.ADMIN)
            db.session.commit()
            ids = {"a": a.id, "b": b.id}
            logins = {"a": staff_a.login, "b": staff_b.login, "admin": admin.login}

        def client_of(who: str):
            client = app.test_client()
            assert client.post("/login", data={"login": logins[who],
                                               "password": PASSWORD}).status_code == 302
            return client

        staff = client_of("a")
        html = staff.get("/p/kiosk/").get_data(as_text=True)
        assert 'href="/p/kiosk/">Quầy xếp hàng</a>' in html  # in the menu, in Vietnamese
        assert "Chưa có quầy nào." in html
        response = staff.post("/p/kiosk/", data={"ward": str(ids["a"]), "number": "3",
                                                 "label": "Hộ tịch"})
        assert response.status_code == 302
        html = staff.get("/p/kiosk/").get_data(as_text=True)
        assert "Hộ tịch" in html
        counter_id = int(re.search(r'href="/p/kiosk/counters/(\d+)"', html).group(1))
        # The same number twice, and a ward out of scope, are refused with the form back.
        html = staff.post("/p/kiosk/", data={"ward": str(ids["a"]), "number": "3",
                                             "label": "Đất đai"}).get_data(as_text=True)
        assert "Quầy này đã có trong danh sách." in html and "Đất đai" in html
        html = staff.post("/p/kiosk/", data={"ward": str(ids["b"]), "number": "4"}
                          ).get_data(as_text=True)
        assert "number" in html and "Hộ tịch" in html
        # Another ward's staff neither sees nor opens it.
        other = client_of("b")
        html = other.get("/p/kiosk/").get_data(as_text=True)
        assert "Hộ tịch" not in html and "Chưa có quầy nào." in html  # nor was 4 added
        assert other.get(f"/p/kiosk/counters/{counter_id}").status_code == 404
        assert staff.get(f"/p/kiosk/counters/{counter_id}").status_code == 200
        # The administrator sets the hotline and the limit; the page follows them.
        admin_client = client_of("admin")
        refused = admin_client.post("/admin/plugins/kiosk/settings",
                                    data={"hotline": "call me", "max_counters": "1"})
        assert refused.status_code == 200 and "Hãy nhập một số điện thoại." in \
            refused.get_data(as_text=True)
        assert admin_client.post("/admin/plugins/kiosk/settings", data={
            "hotline": "0236 3822 123", "max_counters": "1", "vendor_token": "tok"}
        ).status_code == 302
        html = staff.get("/p/kiosk/").get_data(as_text=True)
        assert "0236 3822 123" in html
        html = staff.post("/p/kiosk/", data={"ward": str(ids["a"]), "number": "5"}
                          ).get_data(as_text=True)
        assert "Phường này đã có 1 quầy." in html
    finally:
        dispose(app)
