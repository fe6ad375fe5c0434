"""The students' programme in a real headless Chromium: a coordinator creates a batch,
the ward evaluates its student, the coordinator issues and downloads the certificates,
and anyone checks one on the public page (the URL its QR code carries)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest

from helpdesk_core.db import create_schema
from helpdesk_core.models import Role
from helpdesk_core.services import admin as admin_service
from helpdesk_core.services import batches
from tests.conftest import missing
from tests.factories import make_user, make_ward
from tests.webapp.test_browser import (DESKTOP, browser, live_server, log_in,  # noqa: F401
                                       shot)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def live_app(tmp_path):
    """A ward with its staff, a student placed in a batch that ends in two days (so the
    ward may evaluate), a coordinator."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.web import today
    app = create_app({"TESTING": False, "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
                      "SECRET_KEY": "browser-test", "RATELIMIT_ENABLED": False,
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    with app.app_context():
        create_schema(db.engine)
        s = db.session
        ward = make_ward(s, code="HCH", name="Phường Hải Châu")
        make_ward(s, code="STR", name="Phường Sơn Trà")
        make_user(s, Role.STAFF, ward, login="canbo.haichau", name="Trần Văn Minh")
        student = make_user(s, Role.STUDENT, login="sv.haichau1", name="Võ Minh Tuấn")
        make_user(s, Role.COORDINATOR, login="dieuphoi", name="Nguyễn Thị Lan")
        dtu = batches.save_university(s, None, code="DTU", name="Đại học Duy Tân")
        start, end = today() - dt.timedelta(days=60), today() + dt.timedelta(days=2)
        batch = batches.save_batch(s, None, name="Đợt 1 – Hải Châu", starts_on=start,
                                   ends_on=end, wards=[ward],
                                   issuing_unit="Sở Khoa học và Công nghệ Đà Nẵng",
                                   criteria="Tinh thần trách nhiệm; 5\nKỹ năng kỹ thuật; 10")
        admin_service.save_assignment(s, None, student=student, ward=ward, university="",
                                      starts_on=start, ends_on=end, batch=batch,
                                      university_org=dtu)
        s.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_batch_evaluation_certificate_and_public_check(live_server, browser, tmp_path):  # noqa: F811
    base = live_server
    for tool in ("pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed (Debian: poppler-utils)")

    # The coordinator creates a batch: wards chosen, criteria one per line.
    coordinator = log_in(browser, base, "dieuphoi")
    coordinator.goto(base + "/programme/batches/new")
    coordinator.fill("input[name=name]", "Đợt 2 – Sơn Trà")
    coordinator.fill("input[name=starts_on]", "01/06/2026")
    coordinator.fill("input[name=ends_on]", "31/07/2026")
    coordinator.select_option("select[name=wards]", label="Phường Sơn Trà (STR)")
    coordinator.fill("textarea[name=criteria]", "Thái độ phục vụ; 5\nKỹ năng; 10")
    coordinator.click("button.primary")
    coordinator.wait_for_load_state()
    assert "Đã lưu đợt" in coordinator.inner_text("body")
    assert "Thái độ phục vụ; 5" in coordinator.input_value("textarea[name=criteria]")
    shot(coordinator, "programme-01-batch")

    # The ward evaluates its student on the batch's criteria.
    staff = log_in(browser, base, "canbo.haichau")
    staff.click("nav a:has-text('Đánh giá sinh viên')")
    staff.wait_for_selector("#to-evaluate")
    staff.click("#to-evaluate a:has-text('Đánh giá')")
    staff.wait_for_selector("form#evaluation")
    assert "Đánh giá Võ Minh Tuấn" in staff.inner_text("h1")
    radios = staff.locator("form#evaluation .radios")
    radios.nth(0).locator("input[value='5']").check()
    staff.fill("form#evaluation textarea[name=comment]", "Nhiệt tình, đúng giờ, hướng dẫn "
               "người dân dùng VNeID rất tốt")
    staff.click("form#evaluation button.primary")  # the second scale is left empty
    staff.wait_for_selector(".error")
    assert "Chọn điểm từ 1 đến 10" in staff.inner_text("form#evaluation")
    assert "VNeID" in staff.input_value("textarea[name=comment]")  # nothing lost
    radios.nth(1).locator("input[value='9']").check()
    shot(staff, "programme-02-evaluation")
    staff.click("form#evaluation button.primary")
    staff.wait_for_selector("#to-evaluate")
    assert "Sửa đánh giá" in staff.inner_text("#to-evaluate")

    # The coordinator sees the evaluation, issues the batch's certificates, downloads one.
    coordinator.goto(base + "/programme/")
    row = coordinator.inner_text("#results tbody tr")
    assert "Võ Minh Tuấn" in row and "9.5" in row  # (5/5 + 9/10) / 2 of 10
    coordinator.goto(base + "/programme/batches")
    coordinator.click("#batches tr:has-text('Đợt 1 – Hải Châu') a:has-text('Giấy chứng nhận')")
    coordinator.click("#issue")
    coordinator.wait_for_selector("#certificates tbody a")
    number = coordinator.inner_text("#certificates tbody a").strip()
    with coordinator.expect_download() as download:
        coordinator.click("#certificates tbody a")
    path = tmp_path / "certificate.pdf"
    download.value.save_as(path)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "GIẤY CHỨNG NHẬN" in text and "Võ Minh Tuấn" in text and number in text
    verify_url = f"{base}/verify/{number}"
    assert verify_url in text

    # Anyone, without logging in, checks the certificate; a forged number is refused.
    public = browser.new_context(viewport=DESKTOP, locale="vi-VN").new_page()
    public.goto(verify_url)
    assert "Giấy chứng nhận này là hợp lệ" in public.inner_text("#verification")
    assert public.inner_text("#verified-name") == "Võ Minh Tuấn"
    assert "Đại học Duy Tân" not in public.inner_text("body")
    shot(public, "programme-03-verified")
    public.fill("input[name=number]", number[:-1] + ("Z" if number[-1] != "Z" else "Y"))
    public.click("#verification button")
    public.wait_for_selector("#not-verified")
    assert "Không có giấy chứng nhận nào mang số này" in public.inner_text("#not-verified")
