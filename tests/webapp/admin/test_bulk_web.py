"""The Import/Export page, the one-time password links and the import/export commands."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from helpdesk_core.models import PasswordLink, User, Ward
from helpdesk_core.services import password_links, users
from tests.conftest import FIXED_NOW
from tests.core.test_bulk import ACCOUNTS, ALL, CHECKS, DEVICES, WARDS, csv_bytes, xlsx
from tests.webapp.admin.conftest import login_as
from webapp.extensions import db

STRONG = "ngựa ô chạy qua cầu Rồng lúc bình minh"


@pytest.fixture
def admin(app, world):
    client = app.test_client()
    login_as(client, world.admin)
    return client


def upload(client, data: bytes, name: str, button: str = "check"):
    return client.post("/admin/bulk/", data={"file": (io.BytesIO(data), name), button: "1"},
                       content_type="multipart/form-data")


def ward_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ward))


def test_only_administrators_reach_the_page(app, world):
    for user_id, status in ((world.staff_a, 403), (world.coordinator, 403), (world.admin, 200)):
        client = app.test_client()
        login_as(client, user_id)
        assert client.get("/admin/bulk/").status_code == status
    assert app.test_client().get("/admin/bulk/").status_code == 302


def test_a_dry_run_shows_rows_and_stores_nothing_then_the_import_stores_all(app, admin):
    before = ward_count(app)
    page = upload(admin, xlsx(ALL), "city.xlsx").get_data(as_text=True)
    assert "Chạy thử: chưa lưu gì" in page and "12 sẽ tạo" in page
    assert ward_count(app) == before
    page = upload(admin, xlsx(ALL), "city.xlsx", "apply").get_data(as_text=True)
    assert "Đã nhập" in page and ward_count(app) == before + 2
    links = re.findall(r"http://localhost/password/set/[A-Za-z0-9_-]+", page)
    assert len(links) == 2
    again = upload(admin, xlsx(ALL), "city.xlsx", "apply").get_data(as_text=True)
    assert "0 sẽ tạo, 0 sẽ sửa, 12 giữ nguyên" in again
    assert "/password/set/" not in again


def test_errors_show_row_and_column_and_nothing_is_stored(app, admin):
    rows = ACCOUNTS + [["x.y.z", "Lê C", "cán bộ", "NOPE", "", ""]]
    page = upload(admin, csv_bytes(rows, ";", bom=True), "tai-khoan.csv", "apply")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Không có phường, xã nào có mã NOPE." in body and "Không lưu gì" in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)
                                 .where(User.login == "hch.nguyenvana")) == 0


@pytest.mark.parametrize("data,name", [(b"\x00\x00", "x.xlsx"), (b"a\x00b\n", "x.csv"),
                                       (b"", ""), (b"x" * 10, "x.exe"),
                                       (("Mã phường,Tên\n" + "A" * 3000 + "\n").encode(),
                                        "w.csv")])
def test_hostile_files_get_an_answer_not_a_crash(admin, data, name):
    response = upload(admin, data, name, "apply")
    assert response.status_code == 200


def test_settings_refused_by_the_check_types_form_are_explained(app, admin):
    checks = [CHECKS[0], ["HCH", "VNB3K1", "tcp", '{"port": 70000}', "300"]]
    body = upload(admin, xlsx({"Phường xã": WARDS, "Thiết bị": DEVICES, "Kiểm tra": checks}),
                  "city.xlsx", "apply").get_data(as_text=True)
    assert "port: Số phải từ 1 đến 65535." in body and "Không lưu gì" in body


def test_a_text_field_instead_of_a_file(admin):
    response = admin.post("/admin/bulk/", data={"file": "\x00" * 10, "apply": "1"})
    assert response.status_code == 200
    assert "Hãy chọn tệp .xlsx hoặc .csv." in response.get_data(as_text=True)


def test_templates_and_exports_download(app, admin):
    for path in ("/admin/bulk/template/all.xlsx", "/admin/bulk/template/wards.csv",
                 "/admin/bulk/export/all.xlsx", "/admin/bulk/export/devices.csv"):
        response = admin.get(path)
        assert response.status_code == 200, path
        assert "attachment" in response.headers["Content-Disposition"]
    body = admin.get("/admin/bulk/export/wards.csv").data.decode("utf-8-sig")
    assert body.startswith("Mã phường,Tên")
    for path in ("/admin/bulk/export/all.csv", "/admin/bulk/export/nope.xlsx",
                 "/admin/bulk/template/wards.pdf", "/admin/bulk/export/%00.csv"):
        assert admin.get(path).status_code == 404, path


def test_export_page_round_trip(app, admin):
    data = admin.get("/admin/bulk/export/all.xlsx").data
    body = upload(admin, data, "all.xlsx").get_data(as_text=True)
    assert "0 sẽ tạo, 0 sẽ sửa" in body and " 0 lỗi" in body


# --- one-time links -------------------------------------------------------------------

def new_account(app) -> str:
    with app.app_context():
        user = users.create_user(db.session, login="hch.moi", name="Cán bộ Mới", password=None,
                                 role="coordinator")
        token = password_links.issue(db.session, user, FIXED_NOW)
        db.session.commit()
        return token


def test_a_link_sets_the_password_once(app, client):
    token = new_account(app)
    page = client.get(f"/password/set/{token}")
    assert page.status_code == 200 and "hch.moi" in page.get_data(as_text=True)
    response = client.post(f"/password/set/{token}", data={"password": STRONG,
                                                           "confirm": STRONG})
    assert response.status_code == 302
    with app.app_context():
        assert users.authenticate(db.session, "hch.moi", STRONG) is not None
        stored = db.session.scalar(select(PasswordLink.token_hash))
        assert token not in stored and len(stored) == 64
    assert client.get(f"/password/set/{token}").status_code == 404
    again = client.post(f"/password/set/{token}", data={"password": STRONG + "x",
                                                        "confirm": STRONG + "x"})
    assert again.status_code == 404


def test_a_link_applies_the_password_rule(app, client):
    token = new_account(app)
    response = client.post(f"/password/set/{token}", data={"password": "12345678",
                                                           "confirm": "12345678"})
    assert response.status_code == 200
    assert "quá dễ đoán" in response.get_data(as_text=True)
    with app.app_context():
        assert users.authenticate(db.session, "hch.moi", "12345678") is None
    assert client.get(f"/password/set/{token}").status_code == 200  # still usable


def test_a_link_expires(app, client):
    token = new_account(app)
    app.config["NOW"] = lambda: FIXED_NOW + password_links.LIFETIME + dt.timedelta(seconds=1)
    assert client.get(f"/password/set/{token}").status_code == 404
    assert client.post(f"/password/set/{token}", data={"password": STRONG,
                                                       "confirm": STRONG}).status_code == 404


@pytest.mark.parametrize("token", ["x", "a" * 5000, "%00" * 30, "A" * 43])
def test_bad_tokens_are_not_found(app, client, token):
    assert client.get(f"/password/set/{token}").status_code == 404


def test_an_account_without_password_cannot_log_in(app):
    new_account(app)
    with app.app_context():
        assert users.authenticate(db.session, "hch.moi", "!") is None
        assert users.authenticate(db.session, "hch.moi", "") is None


# --- the commands -------------------------------------------------------------------

def test_import_command_dry_run_then_import(app, runner, tmp_path):
    path = tmp_path / "city.xlsx"
    path.write_bytes(xlsx(ALL))
    dry = runner.invoke(args=["import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Chạy thử" in dry.output and ward_count(app) == 0
    done = runner.invoke(args=["import", str(path), "--base-url", "https://helpdesk.example"])
    assert done.exit_code == 0, done.output
    assert ward_count(app) == 2
    assert len(re.findall(r"https://helpdesk.example/password/set/\S+", done.output)) == 2
    again = runner.invoke(args=["import", str(path)])
    assert "12 giữ nguyên" in again.output and "/password/set/" not in again.output


def test_import_command_fails_on_errors(app, runner, tmp_path):
    path = tmp_path / "phuong.csv"
    path.write_bytes(csv_bytes(WARDS + [["h", "", "", ""]], ";"))
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "dòng 4" in result.output and ward_count(app) == 0


def test_export_command_round_trips(app, runner, tmp_path):
    path = tmp_path / "city.xlsx"
    path.write_bytes(xlsx(ALL))
    runner.invoke(args=["import", str(path)])
    out = tmp_path / "export.xlsx"
    assert runner.invoke(args=["export", "all", str(out)]).exit_code == 0
    result = runner.invoke(args=["import", str(out), "--dry-run"])
    assert "0 sẽ tạo, 0 sẽ sửa, 12 giữ nguyên, 0 lỗi" in result.output
    printed = runner.invoke(args=["export", "wards"])
    assert printed.output.startswith("Mã phường,Tên") and "HCH" in printed.output
    template = runner.invoke(args=["export", "accounts", "--template"])
    assert "Ví dụ" in template.output
