"""The Zalo plugin's opt-in page and its tables: a user links their Zalo id, an
administrator links anyone's, the migrations make the tables its metadata describes."""

from __future__ import annotations

import re

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from helpdesk_core.db import make_engine
from plugins.zalo.tables import links
from tests.core.test_migrations import empty_database_url  # noqa: F401 (a fixture)
from tests.plugins.kiosk.test_kiosk_extensions import dispose, make_app, upgrade


def linked(app) -> dict[int, str]:
    from webapp.extensions import db
    with app.app_context():
        return dict(db.session.execute(select(links.c.user_id, links.c.zalo_user_id)).all())


def test_a_user_links_and_unlinks_their_zalo_id(app, logged_in, accounts):
    student = logged_in("student")
    page = student.get("/p/zalo/").get_data(as_text=True)
    assert "Chưa liên kết" in page and 'name="login"' not in page  # only admins name others
    response = student.post("/p/zalo/", data={"action": "link",
                                              "zalo_user_id": "5830000000000001"})
    assert response.status_code == 302
    assert linked(app) == {accounts.ids["student"]: "5830000000000001"}
    page = student.get("/p/zalo/").get_data(as_text=True)
    assert "Đã liên kết với mã người dùng Zalo 5830000000000001." in page

    channel = app.extensions["helpdesk"].channels["zalo"]
    from webapp.extensions import db
    from helpdesk_core.models import User
    with app.app_context():
        user = db.session.get(User, accounts.ids["student"])
        assert channel.addresses(db.session, user) == ["5830000000000001"]

    assert student.post("/p/zalo/", data={"action": "unlink"}).status_code == 302
    assert linked(app) == {}


def test_a_bad_id_comes_back_with_a_vietnamese_error(app, logged_in):
    response = logged_in("staff").post("/p/zalo/", data={"action": "link",
                                                         "zalo_user_id": "abc<script>"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Mã người dùng Zalo chỉ gồm chữ số." in page
    assert 'value="abc&lt;script&gt;"' in page  # what was typed is kept, escaped
    assert linked(app) == {}


def test_a_user_cannot_link_someone_else(app, logged_in, accounts):
    logged_in("staff").post("/p/zalo/", data={"action": "link", "login": accounts.logins["admin"],
                                              "zalo_user_id": "42"})
    assert linked(app) == {accounts.ids["staff"]: "42"}  # their own account, not the admin's


def test_an_admin_links_anyone_and_sees_the_list(app, logged_in, accounts):
    admin = logged_in("admin")
    response = admin.post("/p/zalo/", data={"action": "link", "login": accounts.logins["student"],
                                            "zalo_user_id": "777"})
    assert response.status_code == 302
    response = admin.post("/p/zalo/", data={"action": "link", "login": "nobody.here",
                                            "zalo_user_id": "778"})
    assert response.status_code == 400
    assert "Không có tài khoản nào có tên đăng nhập này." in response.get_data(as_text=True)
    assert linked(app) == {accounts.ids["student"]: "777"}
    table = admin.get("/p/zalo/").get_data(as_text=True)
    row = re.search(r'<table class="list" id="zalo-links">.*?</table>', table, re.S).group(0)
    assert accounts.logins["student"] in row and "777" in row


def test_migrations_make_the_tables_of_the_metadata(empty_database_url):  # noqa: F811
    app = make_app(empty_database_url)
    try:
        assert "plugin zalo: up to date" in upgrade(app)
        storage = app.extensions["helpdesk"].storages["zalo"]
        engine = make_engine(empty_database_url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _p: kind != "table"
                    or name.startswith("zalo_")})
                assert compare_metadata(context, storage.metadata) == []
        finally:
            engine.dispose()
    finally:
        dispose(app)


def test_the_catalog_translates_everything_as_the_others_do():
    from helpdesk_core.testing import assert_catalog
    assert_catalog("plugins.zalo")
