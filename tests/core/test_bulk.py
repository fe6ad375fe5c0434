"""Bulk import and export: round trip, idempotence, dry run, bad files, CSV dialects."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from helpdesk_core.models import Asset, AssetCheck, CalendarDay, StudentAssignment, User, Ward
from helpdesk_core.services import bulk
from helpdesk_core.services.bulk import reader
from tests.conftest import FIXED_NOW

WARDS = [["Mã phường", "Tên", "Địa chỉ", "Làm sáng thứ Bảy"],
         ["HCH", "Phường Hải Châu", "270 Trần Phú", "có"],
         ["TK", "Phường Thanh Khê", "", "không"]]
CALENDAR = [["Mã phường", "Ngày", "Ngày làm việc", "Ghi chú"],
            ["", "02/05/2026", "không", "Nghỉ bù lễ"], ["HCH", "09/05/2026", "có", "Làm bù"]]
ACCOUNTS = [["Tên đăng nhập", "Họ và tên", "Vai trò", "Mã phường", "E-mail", "Điện thoại"],
            ["hch.nguyenvana", "Nguyễn Văn A", "cán bộ", "HCH", "nva@danang.gov.vn",
             "0905 123 456"],
            ["sv.tranthib", "Trần Thị B", "sinh viên", "", "", ""]]
PLACEMENTS = [["Tên đăng nhập sinh viên", "Mã phường", "Trường", "Từ ngày", "Đến ngày"],
              ["sv.tranthib", "HCH", "Đại học Duy Tân", "02/03/2026", "30/05/2026"]]
DEVICES = [["Mã phường", "Tên thiết bị", "Nhóm", "Loại", "Số serial", "Địa chỉ mạng"],
           ["HCH", "Máy in quầy 1", "printer", "máy in laser", "VNB3K1", "10.0.1.20"],
           ["HCH", "Router tầng 1", "network", "router", "", "10.0.1.1"],
           ["", "Cổng dịch vụ công", "network", "portal", "", "https://dichvucong.gov.vn"]]
CHECKS = [["Mã phường", "Thiết bị", "Kiểu kiểm tra", "Cài đặt", "Chu kỳ (giây)"],
          ["HCH", "VNB3K1", "tcp", '{"port": 9100}', "300"],
          ["HCH", "Router tầng 1", "ping", "", "60"]]
ALL = {"Phường xã": WARDS, "Lịch làm việc": CALENDAR, "Tài khoản": ACCOUNTS,
       "Phân công sinh viên": PLACEMENTS, "Thiết bị": DEVICES, "Kiểm tra": CHECKS}


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], delimiter: str = ",", bom: bool = False) -> bytes:
    text = "\r\n".join(delimiter.join(f'"{c}"' if delimiter in c or '"' in c else c
                                      for c in (cell.replace('"', '""') for cell in row))
                       for row in rows) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def run(db_session, registry, data, name="city.xlsx", apply=True):
    return bulk.import_file(db_session, registry, data, name, FIXED_NOW, apply=apply)


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(m))
                 for m in (Ward, CalendarDay, User, StudentAssignment, Asset, AssetCheck))


def errors(outcome) -> list[tuple[str, int, str]]:
    return [(e.sheet, e.row, e.column) for e in outcome.errors]


def test_a_whole_workbook_imports_then_changes_nothing_the_second_time(db_session, registry):
    first = run(db_session, registry, xlsx(ALL))
    assert first.errors == [] and first.applied
    assert first.count(bulk.CREATED) == 12
    assert counts(db_session) == (2, 2, 2, 1, 3, 2)
    staff = db_session.scalar(select(User).where(User.login == "hch.nguyenvana"))
    assert (staff.ward.code, staff.email, staff.phone) == ("HCH", "nva@danang.gov.vn",
                                                           "0905 123 456")
    check = db_session.scalar(select(AssetCheck).where(AssetCheck.check_type == "tcp"))
    assert check.config == {"port": 9100} and check.asset.serial == "VNB3K1"
    second = run(db_session, registry, xlsx(ALL))
    assert second.errors == []
    assert {r.action for r in second.rows} == {bulk.UNCHANGED}
    assert second.links == []
    assert counts(db_session) == (2, 2, 2, 1, 3, 2)


def test_a_changed_row_is_changed_and_only_it(db_session, registry):
    run(db_session, registry, xlsx(ALL))
    wards = [WARDS[0], WARDS[1], ["TK", "Phường Thanh Khê Mới", "", "không"]]
    outcome = run(db_session, registry, xlsx({"Phường xã": wards}))
    assert [r.action for r in outcome.rows] == [bulk.UNCHANGED, bulk.CHANGED]
    assert db_session.scalar(select(Ward.name).where(Ward.code == "TK")) == "Phường Thanh Khê Mới"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_export_reimports_unchanged(db_session, registry, fmt):
    run(db_session, registry, xlsx(ALL))
    ward = db_session.scalar(select(Ward).where(Ward.code == "TK"))
    ward.name = "=HYPERLINK(\"http://x\")"  # must come back as the same text
    db_session.commit()
    before = counts(db_session)
    for kind in bulk.BY_KEY:
        data = bulk.export(db_session, registry, kind, fmt)
        outcome = run(db_session, registry, data, f"{kind}.{fmt}")
        assert outcome.errors == [], kind
        assert outcome.rows and {r.action for r in outcome.rows} == {bulk.UNCHANGED}, kind
    assert counts(db_session) == before
    assert db_session.scalar(select(Ward.name).where(Ward.code == "TK")) == ward.name


def test_exported_cells_are_neutralised(db_session, registry):
    run(db_session, registry, xlsx({"Phường xã": WARDS}))
    db_session.scalar(select(Ward).where(Ward.code == "TK")).name = "=1+2"
    db_session.commit()
    text = bulk.export(db_session, registry, "wards", "csv").decode("utf-8-sig")
    assert "'=1+2" in text
    book = openpyxl.load_workbook(io.BytesIO(bulk.export(db_session, registry, "all", "xlsx")))
    cells = [c for row in book["Phường xã"].iter_rows() for c in row]
    assert "'=1+2" in [c.value for c in cells]
    assert all(c.data_type != "f" for c in cells)


def test_a_dry_run_stores_nothing_and_reports_each_row(db_session, registry):
    outcome = run(db_session, registry, xlsx(ALL), apply=False)
    assert outcome.errors == [] and not outcome.applied
    assert outcome.count(bulk.CREATED) == 12 and outcome.links == []
    assert counts(db_session) == (0, 0, 0, 0, 0, 0)


def test_templates_import_as_nothing(db_session, registry):
    for fmt in ("xlsx", "csv"):
        for kind in bulk.BY_KEY:
            outcome = run(db_session, registry, bulk.template(kind, fmt), f"{kind}.{fmt}")
            assert outcome.errors == [] and outcome.rows == [], (kind, fmt)
    book = openpyxl.load_workbook(io.BytesIO(bulk.template("all", "xlsx")))
    assert book["Tài khoản"]["A1"].value == "Tên đăng nhập"
    assert "Ví dụ" in book["Tài khoản"]["A2"].value


@pytest.mark.parametrize("delimiter,bom", [(";", True), (";", False), (",", True), (",", False)])
def test_csv_dialects_of_excel(db_session, registry, delimiter, bom):
    outcome = run(db_session, registry, csv_bytes(WARDS, delimiter, bom), "phuong.csv")
    assert outcome.errors == [] and outcome.count(bulk.CREATED) == 2
    assert db_session.scalar(select(Ward.name).where(Ward.code == "HCH")) == "Phường Hải Châu"


def test_accounts_never_take_a_password_and_get_a_link(db_session, registry):
    rows = [ACCOUNTS[0] + ["Mật khẩu"], ACCOUNTS[1] + ["secret123"]]
    outcome = run(db_session, registry, xlsx({"Phường xã": WARDS, "Tài khoản": rows}))
    assert errors(outcome) == [("Tài khoản", 1, "Mật khẩu")]
    outcome = run(db_session, registry, xlsx({"Phường xã": WARDS, "Tài khoản": ACCOUNTS}))
    assert [u.login for u, _ in outcome.links] == ["hch.nguyenvana", "sv.tranthib"]
    from helpdesk_core.services import users
    assert users.authenticate(db_session, "hch.nguyenvana", "") is None


def bad(db_session, registry, sheets):
    outcome = run(db_session, registry, xlsx(sheets))
    assert not outcome.applied and outcome.errors
    assert counts(db_session) == (0, 0, 0, 0, 0, 0)
    return outcome


def test_an_unknown_ward_code_is_refused_with_its_row_and_column(db_session, registry):
    accounts = ACCOUNTS[:2] + [["x.y.z", "Lê C", "cán bộ", "NOPE", "", ""]]
    outcome = bad(db_session, registry, {"Phường xã": WARDS, "Tài khoản": accounts})
    assert errors(outcome) == [("Tài khoản", 3, "Mã phường")]
    assert "NOPE" in outcome.errors[0].message


def test_two_rows_with_the_same_login(db_session, registry):
    accounts = ACCOUNTS + [["HCH.NguyenVanA", "Khác", "cán bộ", "HCH", "", ""]]
    outcome = bad(db_session, registry, {"Phường xã": WARDS, "Tài khoản": accounts})
    assert errors(outcome) == [("Tài khoản", 4, "Tên đăng nhập")]
    assert "2" in outcome.errors[0].message


def test_a_check_type_no_plugin_provides(db_session, registry):
    checks = CHECKS[:2] + [["HCH", "VNB3K1", "telepathy", "", "300"]]
    outcome = bad(db_session, registry, {"Phường xã": WARDS, "Thiết bị": DEVICES,
                                         "Kiểm tra": checks})
    assert errors(outcome) == [("Kiểm tra", 3, "Kiểu kiểm tra")]


def test_settings_the_check_types_form_refuses(db_session, registry):
    checks = [CHECKS[0], ["HCH", "VNB3K1", "tcp", '{"port": 70000}', "300"],
              ["HCH", "Router tầng 1", "ping", "[1]", "60"]]
    outcome = bad(db_session, registry, {"Phường xã": WARDS, "Thiết bị": DEVICES,
                                         "Kiểm tra": checks})
    assert errors(outcome) == [("Kiểm tra", 2, "Cài đặt"), ("Kiểm tra", 3, "Cài đặt")]
    assert outcome.errors[0].message.startswith("port: ")


def test_a_sheet_of_no_known_kind(db_session, registry):
    outcome = bad(db_session, registry, {"Phường xã": WARDS,
                                         "Sheet1": [["Foo", "Bar"], ["1", "2"]]})
    assert errors(outcome) == [("Sheet1", 1, "")]


def test_merged_cells_are_refused(db_session, registry):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Phường xã"
    for row in WARDS:
        sheet.append(row)
    sheet.merge_cells("B2:B3")
    out = io.BytesIO()
    book.save(out)
    outcome = run(db_session, registry, out.getvalue())
    assert not outcome.applied and "gộp" in outcome.errors[0].message
    assert counts(db_session) == (0, 0, 0, 0, 0, 0)


def test_formulas_are_refused(db_session, registry):
    outcome = bad(db_session, registry, {"Phường xã": WARDS + [["DN", "=A2&\"x\"", "", ""]]})
    assert "B4" in outcome.errors[0].message


def test_a_50_mb_file_is_refused(db_session, registry):
    outcome = run(db_session, registry, b"a" * (50 * 1024 * 1024), "big.csv")
    assert outcome.errors and outcome.errors[0].row == 0 and not outcome.applied


def test_100000_rows_are_refused(db_session, registry):
    data = ("Mã phường,Tên\n" + "".join(f"W{i},Phường {i}\n" for i in range(100_000))).encode()
    assert len(data) < reader.MAX_BYTES
    outcome = run(db_session, registry, data, "wards.csv")
    assert outcome.errors and outcome.errors[0].row == 0
    assert counts(db_session) == (0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("data,name", [(b"\xff\xfe\x00garbage", "x.csv"),
                                       (b"PK\x03\x04nope", "x.xlsx"), (b"hello", "x.pdf"),
                                       (b"", "x.csv")])
def test_unreadable_files_get_a_clear_error(db_session, registry, data, name):
    outcome = run(db_session, registry, data, name)
    assert not outcome.applied and outcome.errors and outcome.errors[0].row == 0


def test_control_characters_and_huge_numbers_are_cell_errors(db_session, registry):
    checks = [CHECKS[0], ["HCH", "VNB3K1", "tcp", '{"port": 9100}', "1e300"],
              ["HCH", "Router\x00", "ping", "", "60"]]
    outcome = run(db_session, registry, csv_bytes(checks), "checks.csv")
    assert errors(outcome) == [("checks", 2, "Chu kỳ (giây)"), ("checks", 3, "Thiết bị")]
    assert not outcome.applied


def test_errors_are_in_vietnamese(db_session, registry):
    outcome = bad(db_session, registry, {"Phường xã": [WARDS[0], ["h", "", "", "có"]]})
    messages = " ".join(e.message for e in outcome.errors)
    assert "chữ" in messages or "Vui lòng" in messages or "không" in messages.lower()


def test_a_device_sits_behind_another_named_in_its_row(db_session, registry):
    devices = [DEVICES[0] + ["Nằm sau thiết bị"],
               ["HCH", "Router tầng 1", "network", "router", "", "10.0.1.1", ""],
               ["HCH", "Máy in quầy 1", "printer", "máy in laser", "VNB3K1", "10.0.1.20",
                "Router tầng 1"]]
    first = run(db_session, registry, xlsx({"Phường xã": WARDS, "Thiết bị": devices}))
    assert first.errors == [] and first.applied
    printer = db_session.scalar(select(Asset).where(Asset.serial == "VNB3K1"))
    assert printer.depends_on.name == "Router tầng 1"
    again = run(db_session, registry, xlsx({"Phường xã": WARDS, "Thiết bị": devices}))
    assert {r.action for r in again.rows} == {bulk.UNCHANGED}
    unknown = devices[:2] + [devices[2][:-1] + ["Router tầng 9"]]
    outcome = run(db_session, registry, xlsx({"Thiết bị": unknown}))
    assert errors(outcome) == [("Thiết bị", 3, "Nằm sau thiết bị")]
    db_session.refresh(printer)
    assert printer.depends_on.name == "Router tầng 1"
