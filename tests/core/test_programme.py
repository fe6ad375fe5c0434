"""Batches, universities, end-of-batch evaluations and certificates (services, both engines)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from sqlalchemy import select

from helpdesk_core import stickers
from helpdesk_core.calendar import vietnam_holidays
from helpdesk_core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk_core.models import Role, Shift, ShiftPart, Status, StudentAssignment
from helpdesk_core.services import admin, batches, certificates, evaluations
from tests.conftest import missing
from tests.factories import make_ticket, make_user, make_ward

NOW = dt.datetime(2025, 11, 3, 3, 0, tzinfo=dt.timezone.utc)
START, END = dt.date(2025, 8, 18), dt.date(2025, 10, 31)


@pytest.fixture
def programme(db_session, registry):
    s = db_session
    hc, st, other = (make_ward(s, name="Phường Hải Châu"), make_ward(s, name="Phường Sơn Trà"),
                     make_ward(s, name="Phường Hòa Vang"))
    dtu = batches.save_university(s, None, code="dtu", name="Đại học Duy Tân")
    fpt = batches.save_university(s, None, code="FPT", name="Đại học FPT")
    batch = batches.save_batch(s, None, name="Đợt 1 – 2025", starts_on=START, ends_on=END,
                               wards=[hc, st], issuing_unit="Sở Khoa học và Công nghệ Đà Nẵng",
                               criteria="Tinh thần trách nhiệm; 5\nKỹ năng kỹ thuật; 10")
    an = make_user(s, Role.STUDENT, name="Nguyễn Văn Ân")
    binh = make_user(s, Role.STUDENT, name="Trần Thị Bình")
    for student, ward, uni in ((an, hc, dtu), (binh, st, fpt)):
        admin.save_assignment(s, None, student=student, ward=ward, university="",
                              starts_on=START, ends_on=END, batch=batch, university_org=uni)
    staff_hc = make_user(s, Role.STAFF, hc, name="Cán bộ Hải Châu")
    coordinator = make_user(s, Role.COORDINATOR)
    dtu_coord = batches.create_university_coordinator(s, dtu, login="dtu.coord",
                                                      name="Điều phối DTU", password=None)
    # Two tickets Ân resolved in Hải Châu during the batch, one late; one of another ward.
    for breached, ward in ((False, hc), (True, hc), (False, other)):
        t = make_ticket(s, registry, ward, dt.datetime(2025, 9, 2, 2, tzinfo=dt.timezone.utc),
                        title="Máy in kẹt giấy, gọi 0905 123 456")
        t.assignee_id, t.status = an.id, Status.RESOLVED
        t.resolved_at = dt.datetime(2025, 9, 3, 2, tzinfo=dt.timezone.utc)
        t.resolution_breached = breached
    s.flush()
    return {"batch": batch, "an": an, "binh": binh, "hc": hc, "st": st, "other": other,
            "staff": staff_hc, "coord": coordinator, "dtu": dtu, "fpt": fpt,
            "dtu_coord": dtu_coord, "s": s}


def test_batch_validation_keeps_nothing_and_names_each_field(db_session):
    with pytest.raises(ValidationFailed) as caught:
        batches.save_batch(db_session, None, name="", starts_on=END, ends_on=START, wards=[],
                           criteria="Thái độ; 7\nThái độ; 5\nThái độ")
    errors = caught.value.field_errors
    assert set(errors) == {"name", "ends_on", "wards", "criteria"}
    assert len(errors["criteria"]) == 2  # the bad scale and the repeated name


def test_scored_criteria_cannot_be_removed(programme):
    p, s = programme, programme["s"]
    target = evaluations.evaluation_target(s, p["staff"], p["batch"].id, p["an"].id, END)
    first, second = p["batch"].criteria
    evaluations.save_evaluation(s, target, p["staff"], {first.id: "4", second.id: 9},
                                {first.id: "Chăm chỉ"}, "Tốt", NOW)
    with pytest.raises(ValidationFailed) as caught:
        batches.save_batch(s, p["batch"], name=p["batch"].name, starts_on=START, ends_on=END,
                           wards=[p["hc"], p["st"]], criteria="Tinh thần trách nhiệm; 5")
    assert "Kỹ năng kỹ thuật" in caught.value.field_errors["criteria"][0]
    # Renaming nothing and adding one is fine; the scores stay.
    batches.save_batch(s, p["batch"], name=p["batch"].name, starts_on=START, ends_on=END,
                       wards=[p["hc"], p["st"]],
                       criteria=batches.criteria_text(p["batch"]) + "\nĐúng giờ; 5")
    assert [c.name for c in p["batch"].criteria][-1] == "Đúng giờ"


def test_placement_outside_the_batch_wards_is_refused(programme):
    p = programme
    with pytest.raises(ValidationFailed) as caught:
        admin.save_assignment(p["s"], None, student=p["an"], ward=p["other"], university="",
                              starts_on=START, ends_on=END, batch=p["batch"],
                              university_org=p["dtu"])
    assert "batch" in caught.value.field_errors


def test_only_the_ward_evaluates_its_students_once_the_batch_ends(programme):
    p, s = programme, programme["s"]
    with pytest.raises(PermissionDenied):  # too early
        evaluations.evaluation_target(s, p["staff"], p["batch"].id, p["an"].id, START)
    with pytest.raises(NotFound):  # Bình was placed in Sơn Trà
        evaluations.evaluation_target(s, p["staff"], p["batch"].id, p["binh"].id, END)
    with pytest.raises(NotFound):  # a coordinator does not fill in a ward's form
        evaluations.evaluation_target(s, p["coord"], p["batch"].id, p["an"].id, END)
    listed = evaluations.to_evaluate(s, p["staff"], END)
    assert [(t.student.name, t.evaluation) for t in listed] == [("Nguyễn Văn Ân", None)]
    target = evaluations.evaluation_target(s, p["staff"], p["batch"].id, p["an"].id, END)
    first, second = p["batch"].criteria
    with pytest.raises(ValidationFailed) as caught:
        evaluations.save_evaluation(s, target, p["staff"], {first.id: "6", second.id: "x"},
                                    {}, "", NOW)
    assert set(caught.value.field_errors) == {f"score_{first.id}", f"score_{second.id}"}
    evaluations.save_evaluation(s, target, p["staff"], {first.id: "5", second.id: "8"}, {},
                                "Nhiệt tình", NOW)
    again = evaluations.evaluation_target(s, p["staff"], p["batch"].id, p["an"].id, END)
    evaluations.save_evaluation(s, again, p["staff"], {first.id: "4", second.id: "8"}, {}, "",
                                NOW)
    s.flush()
    assert sorted(x.score for x in again.evaluation.scores) == [4, 8]
    assert evaluations.to_evaluate(s, p["staff"], END)[0].evaluation is not None


def test_results_count_the_batch_wards_only_and_universities_see_their_own(programme):
    p, s = programme, programme["s"]
    target = evaluations.evaluation_target(s, p["staff"], p["batch"].id, p["an"].id, END)
    first, second = p["batch"].criteria
    evaluations.save_evaluation(s, target, p["staff"], {first.id: "5", second.id: "6"}, {},
                                "", NOW)
    rows = evaluations.student_results(s, p["coord"], sort="resolved", descending=True)
    an = rows[0]
    assert (an.name, an.resolved, an.on_time, an.on_time_share) == ("Nguyễn Văn Ân", 2, 1, 0.5)
    assert an.categories == {"network": 2}
    assert an.evaluation == 8.0  # (5/5 + 6/10) / 2 on a scale of 10
    assert an.hours == 0  # on no roster: never on duty
    # On the roster every weekday morning (4 h) and Monday afternoons (3.5 h): the hours
    # of the half-days the ward was open, from 18/08 to 31/10/2025 (not National Day).
    placement = s.scalar(select(StudentAssignment).where(StudentAssignment.student_id == p["an"].id))
    s.add_all([Shift(assignment=placement, weekday=day, part=ShiftPart.MORNING) for day in range(5)]
              + [Shift(assignment=placement, weekday=0, part=ShiftPart.AFTERNOON)])
    s.flush()
    holidays = vietnam_holidays(2025)
    days = [START + dt.timedelta(days=n) for n in range((END - START).days + 1)]
    worked = [d for d in days if d.weekday() < 5 and d not in holidays]
    mondays = [d for d in worked if d.weekday() == 0]
    an = evaluations.student_results(s, p["coord"], student_id=p["an"].id)[0]
    assert len(worked) < 55 and an.hours == len(worked) * 4 + len(mondays) * 3.5
    assert an.university == "Đại học Duy Tân" and an.wards == ["Phường Hải Châu"]
    own = evaluations.student_results(s, p["dtu_coord"], university_id=p["fpt"].id)
    assert [r.name for r in own] == ["Nguyễn Văn Ân"]  # never FPT's, whatever is asked
    worked = evaluations.tickets_worked(s, p["dtu_coord"], p["an"].id)
    assert len(worked) == 3 and all("0905" not in w.title and "•" in w.title for w in worked)
    with pytest.raises(NotFound):
        evaluations.tickets_worked(s, p["dtu_coord"], p["binh"].id)
    with pytest.raises(PermissionDenied):
        evaluations.student_results(s, p["staff"])
    book = evaluations.results_xlsx(rows, str)
    import openpyxl
    sheet = openpyxl.load_workbook(io.BytesIO(book)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][0] == "Nguyễn Văn Ân" and values[1][7] == 2 and values[1][8] == 50.0


def test_certificates_keep_their_number_and_verify_publicly(programme):
    p, s = programme, programme["s"]
    with pytest.raises(PermissionDenied):
        certificates.issue_for_batch(s, p["batch"], p["staff"], NOW)
    first = {c.student_id: c.number for c in
             certificates.issue_for_batch(s, p["batch"], p["coord"], NOW)}
    assert len(first) == 2 and all(certificates.NUMBER.match(n) for n in first.values())
    later = NOW + dt.timedelta(days=3)
    again = certificates.issue_for_batch(s, p["batch"], p["coord"], later)
    assert {c.student_id: c.number for c in again} == first
    number = first[p["an"].id]
    found = certificates.verify(s, " " + number.lower() + " ")
    assert (found.name, found.batch, found.issued_on) == ("Nguyễn Văn Ân", "Đợt 1 – 2025",
                                                         dt.date(2025, 11, 6))
    forged = number[:-1] + ("A" if number[-1] != "A" else "B")
    for bad in (forged, "CN-2025-0000", "", None, "'; drop table certificate; --"):
        with pytest.raises(NotFound):
            certificates.verify(s, bad)
    # Who may download: the student, DTU's coordinator, not FPT's student.
    assert certificates.certificate_for(s, p["an"], number).student_id == p["an"].id
    assert certificates.certificate_for(s, p["dtu_coord"], number)
    with pytest.raises(NotFound):
        certificates.certificate_for(s, p["binh"], number)
    with pytest.raises(NotFound):
        certificates.certificate_for(s, p["dtu_coord"], first[p["binh"].id])


def test_numbers_are_random():
    numbers = {certificates.new_number(2025) for _ in range(2000)}
    assert len(numbers) == 2000


def test_certificate_pdf_has_vietnamese_text_and_a_qr_of_the_verification_url(
        programme, tmp_path):
    p, s = programme, programme["s"]
    try:
        font = stickers.find_font()
    except stickers.StickerFontMissing:
        missing("no font with Vietnamese letters (Debian: fonts-noto-core)")
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed (Debian: poppler-utils)")
    try:
        import zxingcpp
    except ImportError:
        missing("zxing-cpp is not installed (pip install -e '.[test]')")
    from PIL import Image
    issued = certificates.issue_for_batch(s, p["batch"], p["coord"], NOW)
    an = next(c for c in issued if c.student_id == p["an"].id)
    pdf = certificates.render_pdf([an], "https://helpdesk.danang.example", font)
    (tmp_path / "c.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    for expected in ("GIẤY CHỨNG NHẬN", "Nguyễn Văn Ân", "Đại học Duy Tân", "Đợt 1 – 2025",
                     "Phường Hải Châu", "18/08/2025", "31/10/2025", an.number,
                     "SỞ KHOA HỌC VÀ CÔNG NGHỆ ĐÀ NẴNG", "Độc lập - Tự do - Hạnh phúc",
                     "ngày 03 tháng 11 năm 2025"):
        assert expected in text, expected
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "c.pdf"),
                    str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 1
    codes = [c.text for c in zxingcpp.read_barcodes(Image.open(pages[0]))]
    assert codes == [f"https://helpdesk.danang.example/verify/{an.number}"]


def test_results_read_the_roster_once_per_batch_not_per_student(programme):
    """The all-students table asks the same number of queries for 2 students as for 8."""
    from sqlalchemy import event

    p, s = programme, programme["s"]

    def queries() -> int:
        s.expire_all()
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(s.get_bind(), "before_cursor_execute", listener)
        try:
            rows = evaluations.student_results(s, p["coord"])
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listener)
        return len(rows), len(seen)

    two, asked = queries()
    for n in range(6):
        student = make_user(s, Role.STUDENT, name=f"Sinh viên {n}")
        admin.save_assignment(s, None, student=student, ward=(p["hc"], p["st"])[n % 2],
                              university="", starts_on=START, ends_on=END, batch=p["batch"],
                              university_org=p["dtu"])
    s.flush()
    assert (two, queries()) == (2, (8, asked))
