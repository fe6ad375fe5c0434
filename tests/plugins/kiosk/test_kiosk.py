"""The queue-kiosk plugin: triage, priority, checklists, the ESC/POS paper check."""

from __future__ import annotations

import json
import pathlib
import socket

import pytest

from helpdesk_core import CheckStatus, CheckTarget, i18n
from helpdesk_core.models import Role
from helpdesk_core.services import tickets
from helpdesk_core.testing import assert_catalog, run_check
from tests.conftest import FIXED_NOW
from tests.plugins.late_loop import TIMEOUT, LateLoop
from tests.factories import PASSWORD, make_user, make_ward

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "plugins" / "kiosk"
TRIAGE = {"unit": "kiosk", "counter": 3, "symptom": "no_ticket", "all_counters": False,
          "since": "8 giờ sáng"}


def test_kiosk_registers_category_templates_and_checks(registry):
    assert registry.category_plugins["kiosk"] == "kiosk"
    assert registry.categories["kiosk"].icon == "🎫"
    assert {t.key for t in registry.templates_for("kiosk")} == {
        "no_paper", "touch_dead", "services_outdated", "counter_cannot_call", "board_silent"}
    assert registry.check_type_plugins["kiosk_paper"] == "kiosk"
    assert registry.check_type_plugins["kiosk_status"] == "kiosk"


def test_kiosk_speaks_vietnamese_from_its_own_catalog(registry):
    with i18n.use_locale("vi"):
        assert str(registry.categories["kiosk"].label) == "Máy bốc số"
        steps = registry.templates[("kiosk", "no_paper")].steps
        assert str(steps[1]) == "Lắp cuộn giấy mới, mặt giấy nhiệt hướng về đầu in"
    with i18n.use_locale("en"):
        assert str(registry.categories["kiosk"].label) == "Queue kiosk"


def test_file_a_kiosk_ticket_through_the_service_layer(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, registry, ward=ward, category="kiosk",
                                 title="Máy bốc số không ra phiếu", now=now,
                                 triage=dict(TRIAGE, since="từ 8h, gọi 0905 123 456"))
    tickets.commit(db_session)
    db_session.expire_all()
    assert ticket.category == "kiosk"
    assert ticket.triage == {"unit": "kiosk", "counter": 3, "symptom": "no_ticket",
                             "all_counters": False, "since": "từ 8h, gọi •••• ••• 456"}
    assert ticket.priority == 2  # citizens cannot take a number
    with i18n.use_locale("vi"):
        rows = dict(registry.triage_summary("kiosk", ticket.triage))
    assert rows == {"Thiết bị nào?": "Máy lấy số (màn hình cảm ứng và máy in)",
                    "Máy bị lỗi gì?": "Không ra phiếu số", "Số quầy": "3",
                    "Tất cả các quầy đều bị": "Không", "Từ khi nào?": "từ 8h, gọi •••• ••• 456"}


def test_all_counters_down_is_priority_one(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, registry, ward=ward, category="kiosk",
                                 title="Cả hệ thống xếp hàng ngừng", now=now,
                                 triage=dict(TRIAGE, unit="caller", symptom="cannot_call",
                                             all_counters=True))
    assert ticket.priority == 1
    assert ticket.priority_reason == "Toàn bộ hệ thống xếp hàng ngừng hoạt động"


@pytest.mark.parametrize("triage, field", [
    ({"unit": "", "symptom": "no_ticket"}, "unit"),
    ({"unit": "fax", "symptom": "no_ticket"}, "unit"),
    ({"unit": "kiosk", "symptom": "no_ticket", "counter": 0}, "counter"),
    ({"unit": "kiosk", "symptom": "no_ticket", "since": "x" * 101}, "since"),
])
def test_kiosk_triage_refuses_bad_answers(db_session, registry, now, triage, field):
    from helpdesk_core.errors import ValidationFailed
    ward = make_ward(db_session)
    with pytest.raises(ValidationFailed) as error:
        tickets.file_ticket(db_session, registry, ward=ward, category="kiosk",
                            title="Lỗi", now=now, triage=triage)
    assert field in error.value.field_errors


# --- the ESC/POS paper check, through the registry ----------------------------------

@pytest.mark.parametrize("status, expected, paper", [
    (0x12, CheckStatus.OK, "ok"),
    (0x1E, CheckStatus.WARNING, "near_end"),     # bits 2-3: near end
    (0x16, CheckStatus.WARNING, "near_end"),     # one near-end bit is enough
    (0x72, CheckStatus.FAILURE, "end"),          # bits 5-6: paper end
    (0x7E, CheckStatus.FAILURE, "end"),          # near end and end
])
def test_paper_check_decodes_the_printer_answer(registry, escpos_printer, status,
                                                expected, paper):
    printer = escpos_printer(status)
    result, _ms = registry.run_check("kiosk_paper",
                                           CheckTarget(printer.address, timeout=2.0))
    assert result.status is expected, result.message
    assert result.values["paper"] == paper and result.values["status_byte"] == status
    assert printer.requests == [b"\x10\x04\x04"]


def test_paper_check_answered_while_the_loop_was_busy_is_read(registry, tcp_server,
                                                              monkeypatch):
    late = LateLoop(monkeypatch)

    def answer(request):
        late.hold()  # the status byte below waits unread until past the check's deadline
        return b"\x12"
    printer = tcp_server(answer, read=3)
    result = late.run(registry, "kiosk_paper", CheckTarget(printer.address, timeout=TIMEOUT))
    assert late.holds == 1
    assert result.status is CheckStatus.OK, result.message


def test_paper_check_uses_the_configured_port(registry, escpos_printer):
    printer = escpos_printer(0x72)
    with i18n.use_locale("vi"):
        result, _ms = registry.run_check(
            "kiosk_paper", CheckTarget("127.0.0.1", config={"port": printer.port}, timeout=2.0))
    assert result.status is CheckStatus.FAILURE
    assert result.message == "Máy in phiếu số đã hết giấy"


def test_paper_check_garbage_answer_is_an_error(registry, escpos_printer):
    printer = escpos_printer(0xFF)
    result, _ms = registry.run_check("kiosk_paper", CheckTarget(printer.address, timeout=2.0))
    assert result.status is CheckStatus.ERROR
    assert "0xFF" in result.message


def test_paper_check_silent_printer_is_a_failure(registry, escpos_printer):
    printer = escpos_printer(None)
    result, _ms = registry.run_check("kiosk_paper", CheckTarget(printer.address, timeout=0.3))
    assert result.status is CheckStatus.FAILURE
    assert printer.requests == [b"\x10\x04\x04"]


def test_paper_check_closed_connection_and_closed_port(registry, escpos_printer):
    printer = escpos_printer(b"")
    result, _ms = registry.run_check("kiosk_paper", CheckTarget(printer.address, timeout=2.0))
    assert result.status is CheckStatus.FAILURE
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result, _ms = registry.run_check("kiosk_paper",
                                           CheckTarget(f"127.0.0.1:{port}", timeout=2.0))
    assert result.status is CheckStatus.FAILURE
    assert not registry.failures  # the target was unwell; the check did not break


# --- the kiosk's own status endpoint (a coroutine check) -------------------------------

def kiosk_reports(http_server, report, status=200, path="/status"):
    body = report if isinstance(report, str) else json.dumps(report)
    http_server.answer(path, status, body, content_type="application/json")
    return http_server.address


def test_status_check_is_a_coroutine(registry):
    check = registry.check_types["kiosk_status"]
    assert check.run_async is not None and check.run is None


@pytest.mark.parametrize("report, expected, paper", [
    ({}, CheckStatus.OK, None),                                   # answers, reports nothing
    ("OK", CheckStatus.OK, None),                                 # not JSON: reachability only
    ({"app": "running", "server": "connected",
      "printer": {"online": True, "paper": "ok", "cover_open": False}}, CheckStatus.OK, "ok"),
    ({"printer": {"paper": "near_end"}}, CheckStatus.WARNING, "near_end"),
    ({"printer": {"paper": "out"}}, CheckStatus.FAILURE, "out"),
    ({"printer": {"online": False}}, CheckStatus.FAILURE, None),
    ({"printer": {"cover_open": True, "paper": "ok"}}, CheckStatus.FAILURE, "ok"),
    ({"app": "stopped"}, CheckStatus.FAILURE, None),
    ({"server": "disconnected"}, CheckStatus.FAILURE, None),
])
def test_status_check_judges_what_the_kiosk_reports(registry, http_server, report, expected,
                                                    paper):
    result = run_check("kiosk_status", kiosk_reports(http_server, report), registry=registry)
    assert result.status is expected, result.message
    assert result.values.get("paper") == paper and result.values["status_code"] == 200


def test_status_check_says_every_trouble_in_vietnamese(registry, http_server):
    address = kiosk_reports(http_server, {"server": "disconnected", "printer": {"paper": "out"},
                                          "last_ticket": "2026-03-10T08:55:00+07:00"})
    with i18n.use_locale("vi"):
        result = run_check("kiosk_status", address, registry=registry)
    assert result.message == ("Máy lấy số: mất kết nối tới máy chủ xếp hàng; "
                              "máy in phiếu hết giấy")
    assert result.values["last_ticket"] == "2026-03-10T08:55:00+07:00"


def test_status_check_uses_the_configured_path(registry, http_server):
    address = kiosk_reports(http_server, {"printer": {"paper": "out"}}, path="/api/health")
    result = run_check("kiosk_status", address, config={"path": "/api/health"},
                       registry=registry)
    assert result.status is CheckStatus.FAILURE and result.values["paper"] == "out"
    assert registry.check_types["kiosk_status"].config_form().path.data == "/status"


@pytest.mark.parametrize("trouble", ["error", "hang", "refused"])
def test_status_check_fails_when_the_kiosk_does_not_answer(registry, http_server, closed_port,
                                                           trouble):
    http_server.answer("/status", 503, "down")
    http_server.hang("/hang")
    address, path = {"error": (http_server.address, "/status"),
                     "hang": (http_server.address, "/hang"),
                     "refused": (f"127.0.0.1:{closed_port}", "/status")}[trouble]
    result = run_check("kiosk_status", address, config={"path": path}, timeout=0.5,
                       registry=registry)
    assert result.status is CheckStatus.FAILURE, result.message


# --- the app and the CLI ----------------------------------

def test_helpdesk_plugins_lists_the_kiosk(app):
    result = app.test_cli_runner().invoke(args=["plugins"])
    assert result.exit_code == 0, result.output
    line = next(l for l in result.output.splitlines() if l.startswith("kiosk: "))
    for hook in ("helpdesk_register_categories", "helpdesk_triage_form",
                 "helpdesk_triage_summary", "helpdesk_suggest_priority",
                 "helpdesk_register_health_checks", "helpdesk_register_resolution_templates"):
        assert hook in line
    assert "vneid: " in result.output and "FAILED" not in result.output


def test_kiosk_ticket_page_shows_the_vietnamese_summary(app):
    from webapp.extensions import db
    with app.app_context():
        registry = app.extensions["helpdesk"]
        ward = make_ward(db.session)
        staff = make_user(db.session, Role.STAFF, ward=ward)
        ticket = tickets.file_ticket(db.session, registry, ward=ward, category="kiosk",
                                     title="Máy bốc số hết giấy", triage=TRIAGE,
                                     reporter=staff, now=FIXED_NOW)
        tickets.commit(db.session)
        ticket_id, login = ticket.id, staff.login
    client = app.test_client()
    client.post("/login", data={"login": login, "password": PASSWORD})
    html = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Thiết bị nào?" in html and "Không ra phiếu số" in html


# --- the package itself ---------------------------------------------------------------

def test_kiosk_catalog_translates_every_string_and_clashes_with_no_other():
    assert_catalog(PACKAGE)
