"""Administration pages: every form saves good input, and bad input is explained in the
user's language, stores nothing and keeps what was typed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from helpdesk_core.models import (Asset, AssetCheck, CalendarDay, CheckOutage, PluginSetting,
                                  Role, SlaPolicy, StudentAssignment, User, Ward)
from helpdesk_core.plugins import PluginFailure
from helpdesk_core.services import users
from tests.webapp.admin.conftest import login_as
from webapp.extensions import db

WARD = {"code": "HCX", "name": "Phường Hòa Cường", "address": "12 Núi Thành",
        "morning_start": "07:30", "morning_end": "11:30", "afternoon_start": "13:30",
        "afternoon_end": "17:00", "saturday_morning": "y", "active": "y"}


@pytest.fixture
def admin(app, world):
    client = app.test_client()
    login_as(client, world.admin)
    return client


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_admin_index_links_every_area(admin):
    body = admin.get("/admin/").get_data(as_text=True)
    for path in ("/admin/wards", "/admin/calendar", "/admin/users", "/admin/assignments",
                 "/admin/assets", "/admin/sla", "/admin/plugins"):
        assert f'href="{path}"' in body
    assert "Quản trị" in body


def test_nav_links_follow_the_role(app, world):
    for user_id, dashboard, administration in ((world.staff_a, False, False),
                                               (world.coordinator, True, False),
                                               (world.admin, True, True)):
        client = app.test_client()
        login_as(client, user_id)
        nav = client.get("/tickets/").get_data(as_text=True).split("</nav>")[0]
        assert ('href="/dashboard/"' in nav) is dashboard
        assert ('href="/admin/"' in nav) is administration


def test_ward_is_created_and_edited(app, admin):
    response = admin.post("/admin/wards/new", data=WARD)
    assert response.status_code == 302
    with app.app_context():
        ward = db.session.scalar(select(Ward).where(Ward.code == "HCX"))
        assert (ward.name, ward.saturday_morning, ward.auto_assign) == ("Phường Hòa Cường", True, False)
        ward_id = ward.id
    assert admin.post(f"/admin/wards/{ward_id}", data=dict(WARD, auto_assign="y",
                                                           name="Phường Hòa Cường Bắc")).status_code == 302
    with app.app_context():
        ward = db.session.get(Ward, ward_id)
        assert ward.auto_assign is True and ward.name == "Phường Hòa Cường Bắc"
    assert "Phường Hòa Cường Bắc" in admin.get("/admin/wards").get_data(as_text=True)


@pytest.mark.parametrize("change, field, message", [
    ({"code": "hc x"}, "code", "Dùng 2-10 chữ in hoa"),
    ({"name": ""}, "name", "Vui lòng điền mục này."),
    ({"morning_end": "25:00"}, "morning_end", "Ghi giờ theo dạng HH:MM"),
    ({"afternoon_start": "11:00"}, "afternoon_end", "Giờ làm việc phải theo thứ tự"),
])
def test_bad_ward_input_is_explained_and_nothing_is_stored(app, admin, change, field, message):
    before = count(app, Ward)
    page = admin.post("/admin/wards/new", data=dict(WARD, **change))
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert message in body and f'id="{field}-err"' in body
    assert count(app, Ward) == before
    assert 'value="12 Núi Thành"' in body  # what was typed is still there


def test_ward_code_must_be_unique(app, admin, world):
    page = admin.post("/admin/wards/new", data=dict(WARD, code=world.ward_a_code))
    assert "Mã này đã được phường/xã khác sử dụng." in page.get_data(as_text=True)
    assert count(app, Ward, Ward.code == world.ward_a_code) == 1


def test_calendar_days_city_wide_and_per_ward(app, admin, world):
    assert admin.post("/admin/calendar", data={"ward": "", "day": "02/05/2026",
                                               "is_working": "off", "note": "Nghỉ bù"}).status_code == 302
    assert admin.post("/admin/calendar", data={"ward": str(world.ward_a), "day": "25/04/2026",
                                               "is_working": "working"}).status_code == 302
    with app.app_context():
        city = db.session.scalar(select(CalendarDay).where(CalendarDay.day == dt.date(2026, 5, 2)))
        assert city.ward_id is None and city.is_working is False
        local = db.session.scalar(select(CalendarDay).where(CalendarDay.day == dt.date(2026, 4, 25)))
        assert local.ward_id == world.ward_a and local.is_working is True
    duplicate = admin.post("/admin/calendar", data={"ward": "", "day": "02/05/2026",
                                                    "is_working": "working", "note": "Lặp"})
    body = duplicate.get_data(as_text=True)
    assert "Ngày này đã được khai báo" in body and 'value="Lặp"' in body
    bad = admin.post("/admin/calendar", data={"ward": "", "day": "30/02/2026", "is_working": "off"})
    assert "Ngày không hợp lệ" in bad.get_data(as_text=True) and 'value="30/02/2026"' in bad.get_data(as_text=True)
    assert count(app, CalendarDay) == 3
    assert admin.post(f"/admin/calendar/{world.day_a}/delete").status_code == 302
    assert count(app, CalendarDay, CalendarDay.id == world.day_a) == 0


def test_account_is_created_edited_and_its_password_reset(app, admin, world):
    data = {"login": "canbo.hoacuong", "name": "Nguyễn Văn Cán", "password": "mot-mat-khau-dai",
            "role": Role.STAFF, "ward": str(world.ward_a), "locale": "vi"}
    response = admin.post("/admin/users/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "canbo.hoacuong"))
        assert user.ward_id == world.ward_a and user.password_hash != data["password"]
        user_id = user.id
    edited = admin.post(f"/admin/users/{user_id}", data={
        "name": "Nguyễn Văn Cán", "role": Role.COORDINATOR, "ward": "", "locale": "en"})
    assert edited.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.role, user.locale, user.active, user.ward_id) == (Role.COORDINATOR, "en", False, None)
    short = admin.post(f"/admin/users/{user_id}/password", data={"password": "ngan"})
    assert "Ít nhất 8 ký tự." in short.get_data(as_text=True)
    assert admin.post(f"/admin/users/{user_id}/password",
                      data={"password": "mat-khau-moi-123"}).status_code == 302
    with app.app_context():
        db.session.get(User, user_id).active = True
        db.session.commit()
        assert users.authenticate(db.session, "canbo.hoacuong", "mat-khau-moi-123") is not None


def test_bad_account_input_is_explained_and_nothing_is_stored(app, admin, world):
    before = count(app, User)
    page = admin.post("/admin/users/new", data={"login": "Sai Tên", "name": "Trần Thị B",
                                                "password": "ngan", "role": Role.STAFF,
                                                "ward": "", "locale": "vi"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="login-err"' in body and 'id="password-err"' in body and 'id="ward-err"' in body
    assert 'value="Trần Thị B"' in body and "ngan" not in body.split('id="password"')[1][:80]
    assert count(app, User) == before
    staff_without_ward = admin.post(f"/admin/users/{world.staff_a}", data={
        "name": "Cán bộ A", "role": Role.STAFF, "ward": "", "locale": "vi", "active": "y"})
    assert "Cán bộ phải thuộc một phường/xã." in staff_without_ward.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world.staff_a).ward_id == world.ward_a


def test_student_placement_saved_and_reversed_dates_refused(app, admin, world):
    data = {"student": str(world.student_expired), "ward": str(world.ward_b),
            "university": "Đại học Kinh tế", "starts_on": "01/03/2026", "ends_on": "30/06/2026",
            "on_duty": "y"}
    assert admin.post("/admin/assignments/new", data=data).status_code == 302
    assert count(app, StudentAssignment, StudentAssignment.ward_id == world.ward_b) == 1
    before = count(app, StudentAssignment)
    page = admin.post("/admin/assignments/new", data=dict(data, starts_on="30/06/2026",
                                                         ends_on="01/03/2026"))
    body = page.get_data(as_text=True)
    assert "Ngày kết thúc không được trước ngày bắt đầu" in body and 'value="Đại học Kinh tế"' in body
    not_student = admin.post("/admin/assignments/new", data=dict(data, student=str(world.staff_a)))
    assert 'id="student-err"' in not_student.get_data(as_text=True)
    assert count(app, StudentAssignment) == before
    edited = admin.post(f"/admin/assignments/{world.assignment_a}", data={
        "student": str(world.student_a), "ward": str(world.ward_a), "university": "Đại học Duy Tân",
        "starts_on": "01/02/2026", "ends_on": "31/05/2026"})
    assert edited.status_code == 302
    with app.app_context():
        assert db.session.get(StudentAssignment, world.assignment_a).on_duty is False


def test_asset_and_its_health_check_with_plugin_settings(app, admin, world):
    data = {"ward": str(world.ward_a), "category": "printer", "kind": "printer",
            "name": "Máy in quầy 3", "address": "10.0.0.5", "criticality": "high", "active": "y"}
    response = admin.post("/admin/assets/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        asset = db.session.scalar(select(Asset).where(Asset.name == "Máy in quầy 3"))
        assert (asset.ward_id, asset.criticality) == (world.ward_a, "high")
        asset_id = asset.id
    chooser = admin.get(f"/admin/assets/{asset_id}/checks/new").get_data(as_text=True)
    assert "type=tcp" in chooser
    form = admin.get(f"/admin/assets/{asset_id}/checks/new?type=tcp").get_data(as_text=True)
    assert 'name="config-port"' in form
    bad = admin.post(f"/admin/assets/{asset_id}/checks/new?type=tcp", data={
        "config-port": "70000", "interval_seconds": "10", "timeout_seconds": "5",
        "failure_threshold": "3", "recovery_threshold": "2", "enabled": "y"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 200 and 'id="config-port-err"' in body
    assert "Số phải từ 1 đến 65535." in body
    assert 'value="70000"' in body
    assert count(app, AssetCheck, AssetCheck.asset_id == asset_id) == 0
    interval = admin.post(f"/admin/assets/{asset_id}/checks/new?type=tcp", data={
        "config-port": "631", "interval_seconds": "9", "timeout_seconds": "5",
        "failure_threshold": "3", "recovery_threshold": "2", "enabled": "y"})
    assert "Từ 10 đến 86400 giây." in interval.get_data(as_text=True)
    # The floor is a setting (HELPDESK_HEALTH_MIN_INTERVAL_SECONDS).
    app.config["HEALTH_MIN_INTERVAL_SECONDS"] = 30
    interval = admin.post(f"/admin/assets/{asset_id}/checks/new?type=tcp", data={
        "config-port": "631", "interval_seconds": "10", "timeout_seconds": "5",
        "failure_threshold": "3", "recovery_threshold": "2", "enabled": "y"})
    assert "Từ 30 đến 86400 giây." in interval.get_data(as_text=True)
    app.config["HEALTH_MIN_INTERVAL_SECONDS"] = 10
    assert count(app, AssetCheck, AssetCheck.asset_id == asset_id) == 0
    good = admin.post(f"/admin/assets/{asset_id}/checks/new?type=tcp", data={
        "config-port": "631", "interval_seconds": "120", "timeout_seconds": "3",
        "failure_threshold": "3", "recovery_threshold": "2", "enabled": "y"})
    assert good.status_code == 302
    with app.app_context():
        check = db.session.scalar(select(AssetCheck).where(AssetCheck.asset_id == asset_id))
        assert (check.check_type, check.config, check.interval_seconds) == ("tcp", {"port": 631}, 120)
        check_id = check.id
    edit = admin.get(f"/admin/checks/{check_id}").get_data(as_text=True)
    assert 'value="631"' in edit


def test_bad_asset_input_is_explained(app, admin, world):
    before = count(app, Asset)
    page = admin.post("/admin/assets/new", data={"ward": "", "category": "khong-co",
                                                 "kind": "", "name": "Cổng dịch vụ công",
                                                 "address": "a b", "criticality": "normal"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="kind-err"' in body
    assert count(app, Asset) == before and 'value="Cổng dịch vụ công"' in body
    page = admin.post("/admin/assets/new", data={"ward": "", "category": "khong-co",
                                                 "kind": "web", "name": "Cổng",
                                                 "address": "a b", "criticality": "normal"})
    body = page.get_data(as_text=True)
    assert "Hãy chọn nhóm yêu cầu." in body and "không có dấu cách" in body
    assert count(app, Asset) == before


def test_sla_policies_saved_validated_and_removed(app, admin, world):
    data = {"priority": "1", "category": "printer", "response_minutes": "10",
            "resolution_minutes": "60", "at_risk_ratio": "0.75", "escalate_on_breach": "y"}
    assert admin.post("/admin/sla/new", data=data).status_code == 302
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.category == "printer"))
        assert (policy.response_minutes, policy.at_risk_ratio, policy.escalate_on_breach) == (10, 0.75, True)
    before = count(app, SlaPolicy)
    duplicate = admin.post("/admin/sla/new", data=data)
    assert "Đã có chính sách" in duplicate.get_data(as_text=True)
    shorter = admin.post("/admin/sla/new", data=dict(data, category="", resolution_minutes="5"))
    body = shorter.get_data(as_text=True)
    assert "không được ngắn hơn thời hạn phản hồi" in body and 'value="5"' in body
    not_a_number = admin.post("/admin/sla/new", data=dict(data, category="", response_minutes="mười"))
    assert "Không phải số nguyên hợp lệ." in not_a_number.get_data(as_text=True)
    ratio = admin.post("/admin/sla/new", data=dict(data, category="", at_risk_ratio="2"))
    assert "Từ 0.1 đến 0.99." in ratio.get_data(as_text=True)
    assert count(app, SlaPolicy) == before
    assert admin.post(f"/admin/sla/{world.policy}/delete").status_code == 302
    assert count(app, SlaPolicy, SlaPolicy.id == world.policy) == 0


def test_plugins_page_lists_hooks_and_failures_and_switch_applies_at_restart(app, admin, world,
                                                                             make_app):
    app.extensions["helpdesk"].failures.append(
        PluginFailure("vneid", "helpdesk_on_ticket_event", "RuntimeError('boom')"))
    page = admin.get("/admin/plugins").get_data(as_text=True)
    # What each plugin adds, and where it failed, in words rather than hook names.
    assert "Thêm loại yêu cầu" in page and "network" in page
    assert "RuntimeError(&#39;boom&#39;)" in page and "Xử lý khi yêu cầu thay đổi" in page
    assert "helpdesk_" not in page
    assert "khởi động lại" in page
    response = admin.post("/admin/plugins/network", data={"enabled": "0"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(PluginSetting, "network").enabled is False
    assert "network" in app.extensions["helpdesk"].categories  # not before a restart
    restarted = make_app()
    assert "network" not in restarted.extensions["helpdesk"].categories
    assert "printer" in restarted.extensions["helpdesk"].categories
    client = restarted.test_client()
    login_as(client, world.admin)
    listing = client.get("/admin/plugins").get_data(as_text=True)
    row = listing.split("<td>network</td>")[1].split("</tr>")[0]
    assert "chưa nạp" in row and "Bật" in row
    assert admin.post("/admin/plugins/khong-co", data={"enabled": "0"}).status_code == 404
    assert admin.post("/admin/plugins/network", data={"enabled": "1"}).status_code == 302
    assert "network" in make_app().extensions["helpdesk"].categories


def test_app_starts_when_the_database_has_no_tables_yet(tmp_path):
    from webapp import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert "network" in app.extensions["helpdesk"].categories


def test_an_administrator_cannot_demote_themselves_on_the_page(app, admin, world):
    page = admin.post(f"/admin/users/{world.admin}", data={
        "name": "Quản trị", "role": Role.COORDINATOR, "ward": "", "locale": "vi"})
    body = page.get_data(as_text=True)
    assert "Bạn không thể tự đổi vai trò của mình." in body
    assert "Bạn không thể tự khóa tài khoản của mình." in body
    with app.app_context():
        me = db.session.get(User, world.admin)
        assert (me.role, me.active) == (Role.ADMIN, True)


def test_long_lists_are_paged_not_cut(app, admin, world):
    """A city has ~500 accounts and ~5,000 assets: every one is reachable, page by page."""
    with app.app_context():
        ward = db.session.get(Ward, world.ward_a)
        db.session.add_all([Asset(ward=ward, category="printer", kind="printer",
                                  name=f"Máy in {i:03d}", address=f"10.0.0.{i}")
                            for i in range(120)])
        db.session.commit()
        total = count(app, Asset)
    first = admin.get("/admin/assets").get_data(as_text=True)
    assert first.count("Máy in 0") == 50 and f"Trang 1 / 3 (tổng cộng {total})" in first
    third = admin.get("/admin/assets?page=3").get_data(as_text=True)
    assert "Máy in 119" in third and 'rel="next"' not in third and 'rel="prev"' in third
    names = set()
    for page in (1, 2, 3):
        names |= set(re.findall(r"Máy in \d{3}", admin.get(f"/admin/assets?page={page}")
                                .get_data(as_text=True)))
    assert len(names) == 120  # nothing missing, nothing twice across the pages
    # Search and ward filters narrow the list and the pager keeps them.
    found = admin.get("/admin/assets?q=10.0.0.11").get_data(as_text=True)
    assert "Máy in 011" in found and "Máy in 012" not in found
    other = admin.get(f"/admin/assets?ward={world.ward_b}").get_data(as_text=True)
    assert "Máy in" not in other and "Không tìm thấy thiết bị nào." in other
    paged = admin.get(f"/admin/assets?ward={world.ward_a}&q=máy").get_data(as_text=True)
    assert f"ward={world.ward_a}" in paged and "page=2" in paged
    assert admin.get("/admin/assets?page=99").status_code == 200  # past the end: empty, no error


def test_accounts_are_paged_and_searchable(app, admin, world):
    with app.app_context():
        for i in range(60):
            users.create_user(db.session, login=f"sv.thu{i:02d}", name=f"Sinh viên {i:02d}",
                              password="mat-khau-dai-12", role=Role.STUDENT)
        db.session.commit()
    pages = [admin.get(f"/admin/users?page={n}").get_data(as_text=True) for n in (1, 2)]
    logins = [set(re.findall(r"sv\.thu\d\d", page)) for page in pages]
    assert len(logins[0] | logins[1]) == 60 and not logins[0] & logins[1]
    assert "sv.thu07" in admin.get("/admin/users?q=thu07").get_data(as_text=True)


def test_a_device_sits_behind_another_of_its_ward_and_shows_its_outages(app, admin, world):
    with app.app_context():
        ward = db.session.scalar(select(Ward).order_by(Ward.id))
        other = Ward(code="ZZ", name="Phường khác")
        router = Asset(ward=ward, category="network", kind="router", name="Router tầng 1")
        printer = Asset(ward=ward, category="printer", kind="printer", name="Máy in một cửa",
                        checks=[AssetCheck(check_type="tcp", config={"port": 9100})])
        elsewhere = Asset(ward=other, category="network", kind="router", name="Router khác")
        db.session.add_all([other, router, printer, elsewhere])
        db.session.flush()
        db.session.add(CheckOutage(check_id=printer.checks[0].id, asset_id=printer.id,
                                   started_at=dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.timezone.utc),
                                   ended_at=dt.datetime(2026, 3, 10, 2, 0, 20,
                                                        tzinfo=dt.timezone.utc),
                                   message="Cổng 9100 không trả lời"))
        db.session.commit()
        ids = (ward.id, router.id, printer.id, elsewhere.id)
    ward_id, router_id, printer_id, elsewhere_id = ids
    page = admin.get(f"/admin/assets/{printer_id}").get_data(as_text=True)
    assert "Router tầng 1" in page and "Router khác" not in page  # same ward only
    assert "20 giây" in page and "quá ngắn để lập phiếu" in page
    fields = {"ward": str(ward_id), "category": "printer", "kind": "printer",
              "name": "Máy in một cửa", "criticality": "normal", "active": "y"}
    assert admin.post(f"/admin/assets/{printer_id}",
                      data=dict(fields, depends_on=str(router_id))).status_code == 302
    with app.app_context():
        assert db.session.get(Asset, printer_id).depends_on_id == router_id
    # Another ward's device, or a loop, is refused with a reason and changes nothing.
    bad = admin.post(f"/admin/assets/{printer_id}", data=dict(fields, depends_on=str(elsewhere_id)))
    assert bad.status_code == 200 and "cùng phường" in bad.get_data(as_text=True)
    loop = admin.post(f"/admin/assets/{router_id}", data=dict(
        fields, category="network", kind="router", name="Router tầng 1",
        depends_on=str(printer_id)))
    assert loop.status_code == 200 and "nằm sau chính nó" in loop.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Asset, printer_id).depends_on_id == router_id
        assert db.session.get(Asset, router_id).depends_on_id is None
