"""QR stickers: the ward's sheet has every device in service with the right URL (read
back from the rendered PDF), and scanning one opens what each role should get."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from helpdesk_core import stickers as sheets
from helpdesk_core.models import Asset, Ticket, Ward
from helpdesk_core.services import tickets as ticket_service
from tests.conftest import FIXED_NOW, missing
from tests.factories import PASSWORD, make_ticket
from tests.webapp.html_forms import visible_text
from webapp.extensions import db

PUBLIC = "https://helpdesk.danang.example"


def body(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def font() -> str:
    try:
        return sheets.find_font()
    except sheets.StickerFontMissing:
        missing("no font with Vietnamese letters (Debian: fonts-noto-core)")


@pytest.fixture
def devices(app, world) -> dict[str, list[int]]:
    """Ward A gets 30 more devices (two sheets), one of them out of service."""
    with app.app_context():
        s = db.session
        ward = s.get(Ward, world.ward_a)
        extra = [Asset(ward=ward, category="network" if i % 2 else "printer", kind="device",
                       name=f"Thiết bị số {i} – bàn tiếp dân", location=f"Quầy {i % 5}")
                 for i in range(30)]
        extra[7].active = False
        s.add_all(extra)
        s.commit()
        ids = s.scalars(select(Asset.id).where(Asset.ward_id == world.ward_a,
                                               Asset.active.is_(True))).all()
        return {"active": sorted(ids), "inactive": [extra[7].id]}


def read_codes(pdf: bytes, tmp_path: pathlib.Path) -> list[str]:
    """Render every page at 150 dpi with pdftoppm, decode every QR code on it."""
    try:
        import zxingcpp
    except ImportError:
        missing("zxing-cpp is not installed (pip install -e '.[test]')")
    from PIL import Image
    if shutil.which("pdftoppm") is None:
        missing("pdftoppm is not installed (Debian: poppler-utils)")
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "sheet.pdf"),
                    str(tmp_path / "page")], check=True)
    codes = []
    for page in sorted(tmp_path.glob("page-*.png")):
        codes += [code.text for code in zxingcpp.read_barcodes(Image.open(page))]
    return codes


def pdf_text(pdf: bytes, tmp_path: pathlib.Path) -> str:
    (tmp_path / "text.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", str(tmp_path / "text.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout


def download(client, world) -> bytes:
    response = client.get(f"/admin/assets/stickers?ward={world.ward_a}")
    assert response.status_code == 200, body(response)
    assert response.mimetype == "application/pdf"
    assert "stickers-" in response.headers["Content-Disposition"]
    return response.data


def test_the_font_found_has_vietnamese_letters(font):
    assert sheets.covers_vietnamese(font)


def test_a_font_without_vietnamese_is_refused():
    import reportlab
    vera = pathlib.Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    with pytest.raises(sheets.StickerFontMissing):
        sheets.find_font(str(vera))
    with pytest.raises(sheets.StickerFontMissing):
        sheets.find_font("/nonexistent/font.ttf")


def test_the_sheet_has_every_device_of_the_ward_with_its_url(app, client, world, login,
                                                               devices, font, tmp_path):
    app.config["PUBLIC_URL"] = PUBLIC + "/"
    login("admin")
    pdf = download(client, world)
    codes = read_codes(pdf, tmp_path)
    assert sorted(codes) == sorted(f"{PUBLIC}/d/{i}" for i in devices["active"])
    assert len(list(tmp_path.glob("page-*.png"))) == 2  # 31 devices, 24 a sheet
    text = pdf_text(pdf, tmp_path)
    assert "Máy in quầy 1" in text and "Phường Hải Châu" in text  # embedded font, not boxes
    assert "Máy in HK" not in text                                # ward B's printer


def test_without_a_public_url_the_codes_lead_to_the_address_the_admin_used(
        app, client, world, login, devices, font, tmp_path):
    login("admin")
    codes = read_codes(download(client, world), tmp_path)
    assert f"http://localhost/d/{world.printer_a}" in codes


def test_the_assets_page_links_the_sheet_of_the_chosen_ward(client, world, login):
    login("admin")
    page = body(client.get(f"/admin/assets?ward={world.ward_a}"))
    assert f"/admin/assets/stickers?ward={world.ward_a}" in page
    assert "/admin/assets/stickers" not in body(client.get("/admin/assets"))


@pytest.mark.parametrize("ward", ["", "abc", "99999999999999999999999", "0"])
def test_a_sheet_without_a_ward_says_to_choose_one(client, world, login, ward):
    login("admin")
    response = client.get(f"/admin/assets/stickers?ward={ward}", follow_redirects=True)
    assert response.status_code == 200
    assert "Hãy chọn một phường, xã để in tem QR" in visible_text(body(response))


def test_a_ward_without_devices_has_nothing_to_print(app, client, world, login, font):
    with app.app_context():
        db.session.execute(Asset.__table__.update().values(active=False))
        db.session.commit()
    login("admin")
    response = client.get(f"/admin/assets/stickers?ward={world.ward_a}", follow_redirects=True)
    assert "không có thiết bị nào đang sử dụng" in visible_text(body(response))


@pytest.mark.parametrize("who", ["staff_a", "student_a", "coordinator"])
def test_only_administrators_print_stickers(client, world, login, who):
    login(who)
    assert client.get(f"/admin/assets/stickers?ward={world.ward_a}").status_code == 403


def test_staff_of_the_ward_land_on_the_filing_form_with_the_device_chosen(
        client, world, login):
    login("staff_a")
    response = client.get(f"/d/{world.printer_a}")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/tickets/new/printer"
    page = body(client.get(response.headers["Location"]))
    assert f'<option selected value="{world.printer_a}">' in page
    assert "Máy in" in visible_text(page)


def test_filing_from_a_scan_files_about_that_device(app, client, world, login):
    from tests.webapp.html_forms import post_form
    login("staff_a")
    form_url = client.get(f"/d/{world.printer_a}").headers["Location"]
    fields = dict(post_form(body(client.get(form_url))))
    assert fields["title"] == "Máy in quầy 1"  # named after the device: nothing to type
    fields["triage-symptom"] = "paper_jam"      # the one answer without a default
    response = client.post(form_url, data=fields)
    assert response.status_code == 302, visible_text(body(response))
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).all()[-1]
        assert (ticket.asset_id, ticket.title) == (world.printer_a, "Máy in quầy 1")


def test_logging_in_after_a_scan_keeps_the_target(client, world):
    client.post("/logout")
    response = client.get(f"/d/{world.printer_a}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_page = response.headers["Location"]
    response = client.post(login_page, data={"login": world.logins["staff_a"],
                                             "password": PASSWORD})
    assert urlsplit(response.headers["Location"]).path == f"/d/{world.printer_a}"
    response = client.get(response.headers["Location"])
    assert urlsplit(response.headers["Location"]).path == "/tickets/new/printer"


def test_staff_of_another_ward_are_told_whose_device_it_is(client, world, login):
    login("staff_b")
    response = client.get(f"/d/{world.printer_a}")
    assert response.status_code == 403
    text = visible_text(body(response))
    assert "Thiết bị này thuộc một phường, xã mà bạn không phụ trách" in text
    assert "Đến trang gửi yêu cầu" in text
    assert "Máy in quầy 1" not in text and "Hải Châu" not in text  # nothing of ward A


def test_a_device_out_of_service_says_so(client, world, login, devices):
    login("staff_a")
    response = client.get(f"/d/{devices['inactive'][0]}")
    assert response.status_code == 404
    assert "đã ngừng sử dụng" in visible_text(body(response))


@pytest.mark.parametrize("code", ["999999", "99999999999999999999999", "abc", "1%00",
                                  "%C2%B2", "-1"])
def test_an_unknown_code_says_so(client, world, login, code):
    login("staff_a")
    response = client.get(f"/d/{code}")
    assert response.status_code == 404
    assert "Mã này không phải của thiết bị nào trong hệ thống" in visible_text(body(response))


@pytest.mark.parametrize("asset", ["99999999999999999999999", "x", "9" * 5000])
def test_the_filing_form_ignores_a_bad_device(client, world, login, asset):
    login("staff_a")
    response = client.get(f"/tickets/new/printer?asset={asset}")
    assert response.status_code == 200
    assert "<option selected value=\"0\">" in body(response)


@pytest.mark.parametrize("path", ["/admin/assets/stickers?ward=1%00",
                                  "/tickets/new/printer?asset=1%00"])
def test_a_nul_in_the_query_is_refused_at_the_door(client, world, login, path):
    login("admin" if path.startswith("/admin") else "staff_a")
    assert client.get(path).status_code == 400  # webapp/input_guard.py, before any view


def test_a_device_of_another_category_is_not_chosen(client, world, login):
    login("staff_a")
    page = body(client.get(f"/tickets/new/network?asset={world.printer_a}"))
    assert f'value="{world.printer_a}"' not in page


def test_students_see_the_device_and_its_tickets(app, client, world, login, registry):
    with app.app_context():
        s = db.session
        ticket = make_ticket(s, registry, s.get(Ward, world.ward_a), FIXED_NOW,
                             category="printer", title="Máy in mờ chữ",
                             triage={"symptom": "faded", "connection": "usb"},
                             asset=s.get(Asset, world.printer_a))
        ticket_service.commit(s)
        number = ticket.number
    for who in ("student_a", "coordinator", "admin"):
        login(who)
        response = client.get(f"/d/{world.printer_a}")
        assert response.status_code == 200, who
        text = visible_text(body(response))
        assert "Máy in quầy 1" in text and number in text and "Máy in mờ chữ" in text


def test_a_student_of_another_ward_is_told_so(client, world, login):
    login("student_expired")
    response = client.get(f"/d/{world.printer_a}")
    assert response.status_code == 403
    text = visible_text(body(response))
    assert "mà bạn không phụ trách" in text and "Máy in quầy 1" not in text


def test_the_command_writes_the_sheet(app, runner, world, devices, font, tmp_path):
    with app.app_context():
        code = db.session.get(Ward, world.ward_a).code
    target = tmp_path / "out" / "tem.pdf"
    target.parent.mkdir()
    result = runner.invoke(args=["stickers", code.lower(), str(target),
                                 "--base-url", PUBLIC])
    assert result.exit_code == 0, result.output
    assert sorted(read_codes(target.read_bytes(), tmp_path)) == sorted(
        f"{PUBLIC}/d/{i}" for i in devices["active"])


def test_the_command_needs_to_know_where_the_app_is(app, runner, world):
    with app.app_context():
        code = db.session.get(Ward, world.ward_a).code
    result = runner.invoke(args=["stickers", code])
    assert result.exit_code != 0
    assert "HELPDESK_PUBLIC_URL" in result.output
    result = runner.invoke(args=["stickers", "NOPE", "--base-url", PUBLIC])
    assert result.exit_code != 0 and "NOPE" in result.output


def test_the_command_says_when_it_cannot_write(app, runner, world, font, tmp_path):
    with app.app_context():
        code = db.session.get(Ward, world.ward_a).code
    result = runner.invoke(args=["stickers", code, str(tmp_path / "no" / "such" / "x.pdf"),
                                 "--base-url", PUBLIC])
    assert result.exit_code == 1 and "x.pdf" in result.output
    assert not isinstance(result.exception, OSError)


def test_the_public_url_comes_from_the_configuration():
    from flask import Flask

    from webapp.stickers import PublicUrlMissing, public_base_url
    app = Flask("probe")
    with pytest.raises(PublicUrlMissing):
        public_base_url(app)
    assert public_base_url(app, "http://10.0.0.5:8000/") == "http://10.0.0.5:8000"
    app.config.update(SERVER_NAME="helpdesk.danang.example", PREFERRED_URL_SCHEME="https",
                      APPLICATION_ROOT="/hotro")
    assert public_base_url(app, "http://10.0.0.5:8000/") == "https://helpdesk.danang.example/hotro"
    app.config["PUBLIC_URL"] = PUBLIC + "/"
    assert public_base_url(app) == PUBLIC
