"""The example third-party plugin, installed with pip and loaded through its entry point."""

from __future__ import annotations

import importlib.metadata
import pathlib
import socket
import sys

import pytest

from helpdesk_core import ENTRY_POINT_GROUP, CheckStatus, CheckTarget, i18n
from helpdesk_core.models import Role
from helpdesk_core.services import tickets
from helpdesk_core.testing import assert_catalog
from tests.core.test_boundaries import WEB_MODULES, imported_modules
from tests.conftest import FIXED_NOW
from tests.factories import PASSWORD, make_user, make_ward

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "examples" / "kiosk" / "helpdesk_kiosk"
TRIAGE = {"unit": "kiosk", "counter": 3, "symptom": "no_ticket", "all_counters": False,
          "since": "8 giờ sáng"}


def test_kiosk_is_found_through_the_entry_point(kiosk_installed):
    found = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert found["kiosk"].value == "helpdesk_kiosk"
    assert found["kiosk"].dist.name == "ward-helpdesk-kiosk"
    module = found["kiosk"].load()
    assert pathlib.Path(module.__file__).is_relative_to(kiosk_installed)


def test_kiosk_registers_category_templates_and_check(kiosk_registry):
    assert "kiosk" in kiosk_registry.plugin_names()
    assert kiosk_registry.category_plugins["kiosk"] == "kiosk"
    assert kiosk_registry.categories["kiosk"].icon == "🎫"
    assert {t.key for t in kiosk_registry.templates_for("kiosk")} == {
        "no_paper", "touch_dead", "services_outdated", "counter_cannot_call", "board_silent"}
    assert kiosk_registry.check_type_plugins["kiosk_paper"] == "kiosk"
    # The built-ins load beside it, untouched.
    assert {"printer", "network", "signing", "vneid"} <= set(kiosk_registry.categories)


def test_builtin_registry_does_not_see_the_kiosk(registry, builtin_pm):
    assert "kiosk" not in registry.categories
    assert "kiosk" not in dict(builtin_pm.list_name_plugin())
    assert "helpdesk_kiosk" not in sys.modules
    assert not any("kiosk" in d for d in i18n.translation_directories())


def test_kiosk_translations_are_merged(kiosk_registry):
    with i18n.use_locale("vi"):
        assert str(kiosk_registry.categories["kiosk"].label) == "Máy bốc số"
        steps = kiosk_registry.templates[("kiosk", "no_paper")].steps
        assert str(steps[1]) == "Lắp cuộn giấy mới, mặt giấy nhiệt hướng về đầu in"
    with i18n.use_locale("en"):
        assert str(kiosk_registry.categories["kiosk"].label) == "Queue kiosk"


def test_file_a_kiosk_ticket_through_the_service_layer(db_session, kiosk_registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, kiosk_registry, ward=ward, category="kiosk",
                                 title="Máy bốc số không ra phiếu", now=now,
                                 triage=dict(TRIAGE, since="từ 8h, gọi 0905 123 456"))
    tickets.commit(db_session)
    db_session.expire_all()
    assert ticket.category == "kiosk"
    assert ticket.triage == {"unit": "kiosk", "counter": 3, "symptom": "no_ticket",
                             "all_counters": False, "since": "từ 8h, gọi •••• ••• 456"}
    assert ticket.priority == 2  # citizens cannot take a number
    with i18n.use_locale("vi"):
        rows = dict(kiosk_registry.triage_summary("kiosk", ticket.triage))
    assert rows == {"Thiết bị nào?": "Máy lấy số (màn hình cảm ứng và máy in)",
                    "Máy bị lỗi gì?": "Không ra phiếu số", "Số quầy": "3",
                    "Tất cả các quầy đều bị": "Không", "Từ khi nào?": "từ 8h, gọi •••• ••• 456"}


def test_all_counters_down_is_priority_one(db_session, kiosk_registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, kiosk_registry, ward=ward, category="kiosk",
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
def test_kiosk_triage_refuses_bad_answers(db_session, kiosk_registry, now, triage, field):
    from helpdesk_core.errors import ValidationFailed
    ward = make_ward(db_session)
    with pytest.raises(ValidationFailed) as error:
        tickets.file_ticket(db_session, kiosk_registry, ward=ward, category="kiosk",
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
def test_paper_check_decodes_the_printer_answer(kiosk_registry, escpos_printer, status,
                                                expected, paper):
    printer = escpos_printer(status)
    result, _ms = kiosk_registry.run_check("kiosk_paper",
                                           CheckTarget(printer.address, timeout=2.0))
    assert result.status is expected, result.message
    assert result.values["paper"] == paper and result.values["status_byte"] == status
    assert printer.requests == [b"\x10\x04\x04"]


def test_paper_check_uses_the_configured_port(kiosk_registry, escpos_printer):
    printer = escpos_printer(0x72)
    with i18n.use_locale("vi"):
        result, _ms = kiosk_registry.run_check(
            "kiosk_paper", CheckTarget("127.0.0.1", config={"port": printer.port}, timeout=2.0))
    assert result.status is CheckStatus.FAILURE
    assert result.message == "Máy in phiếu số đã hết giấy"


def test_paper_check_garbage_answer_is_an_error(kiosk_registry, escpos_printer):
    printer = escpos_printer(0xFF)
    result, _ms = kiosk_registry.run_check("kiosk_paper", CheckTarget(printer.address, timeout=2.0))
    assert result.status is CheckStatus.ERROR
    assert "0xFF" in result.message


def test_paper_check_silent_printer_is_a_failure(kiosk_registry, escpos_printer):
    printer = escpos_printer(None)
    result, _ms = kiosk_registry.run_check("kiosk_paper", CheckTarget(printer.address, timeout=0.3))
    assert result.status is CheckStatus.FAILURE
    assert printer.requests == [b"\x10\x04\x04"]


def test_paper_check_closed_connection_and_closed_port(kiosk_registry, escpos_printer):
    printer = escpos_printer(b"")
    result, _ms = kiosk_registry.run_check("kiosk_paper", CheckTarget(printer.address, timeout=2.0))
    assert result.status is CheckStatus.FAILURE
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result, _ms = kiosk_registry.run_check("kiosk_paper",
                                           CheckTarget(f"127.0.0.1:{port}", timeout=2.0))
    assert result.status is CheckStatus.FAILURE
    assert not kiosk_registry.failures  # the target was unwell; the check did not break


# --- the app and the CLI with the kiosk installed ----------------------------------

def test_helpdesk_plugins_lists_the_kiosk(kiosk_app):
    result = kiosk_app.test_cli_runner().invoke(args=["plugins"])
    assert result.exit_code == 0, result.output
    line = next(l for l in result.output.splitlines() if l.startswith("kiosk: "))
    for hook in ("helpdesk_register_categories", "helpdesk_triage_form",
                 "helpdesk_triage_summary", "helpdesk_suggest_priority",
                 "helpdesk_register_health_checks", "helpdesk_register_resolution_templates"):
        assert hook in line
    assert "vneid: " in result.output and "FAILED" not in result.output


def test_kiosk_ticket_page_shows_the_vietnamese_summary(kiosk_app):
    from webapp.extensions import db
    with kiosk_app.app_context():
        registry = kiosk_app.extensions["helpdesk"]
        ward = make_ward(db.session)
        staff = make_user(db.session, Role.STAFF, ward=ward)
        ticket = tickets.file_ticket(db.session, registry, ward=ward, category="kiosk",
                                     title="Máy bốc số hết giấy", triage=TRIAGE,
                                     reporter=staff, now=FIXED_NOW)
        tickets.commit(db.session)
        ticket_id, login = ticket.id, staff.login
    client = kiosk_app.test_client()
    client.post("/login", data={"login": login, "password": PASSWORD})
    html = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Thiết bị nào?" in html and "Không ra phiếu số" in html


def test_disabled_kiosk_is_not_loaded(kiosk_installed):
    from helpdesk_core.plugins import load_registry
    registry = load_registry(blocked=["kiosk"])
    assert "kiosk" not in registry.categories and "kiosk_paper" not in registry.check_types


# --- the package itself ---------------------------------------------------------------

def test_kiosk_catalog_translates_every_string_and_clashes_with_no_other():
    assert_catalog(PACKAGE)


def test_make_compile_reaches_the_kiosk_catalog():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(wildcard examples/*/*/translations)" in makefile
    assert PACKAGE / "translations" in set(ROOT.glob("examples/*/*/translations"))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_kiosk_imports_only_the_public_core(path):
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top not in WEB_MODULES and top != "plugins", f"{path} imports {name}"
        if top == "helpdesk_core":
            assert name == "helpdesk_core", f"{path} imports private core module {name}"
