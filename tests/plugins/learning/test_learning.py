"""The example third-party plugin, installed with pip and loaded through its entry point."""

from __future__ import annotations

import importlib.metadata
import pathlib
import sys

import pytest

from helpdesk_core import ENTRY_POINT_GROUP, CheckStatus, i18n
from helpdesk_core.models import Role
from helpdesk_core.services import tickets
from helpdesk_core.testing import assert_catalog, run_check
from tests.conftest import FIXED_NOW
from tests.core.test_boundaries import WEB_MODULES, imported_modules
from tests.factories import PASSWORD, make_user, make_ward

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "examples" / "learning" / "helpdesk_learning"
BUILT_INS = {"printer", "network", "signing", "vneid", "kiosk", "one_stop", "public_portal",
             "documents", "smart_city", "other"}
TRIAGE = {"step": "course", "for_citizen": True, "details": "Bài 3 không mở, gọi 0905 123 456"}


def test_the_example_is_found_through_the_entry_point(learning_installed):
    found = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert found["learning"].value == "helpdesk_learning"
    assert found["learning"].dist.name == "ward-helpdesk-learning"
    module = found["learning"].load()
    assert pathlib.Path(module.__file__).is_relative_to(learning_installed)


def test_the_example_registers_category_template_and_check(learning_registry):
    assert learning_registry.category_plugins["learning"] == "learning"
    assert learning_registry.categories["learning"].icon == "🎓"
    assert [t.key for t in learning_registry.templates_for("learning")] == ["cannot_learn"]
    assert learning_registry.check_type_plugins["learning_web"] == "learning"
    assert BUILT_INS <= set(learning_registry.categories)  # the built-ins load beside it
    assert learning_registry.sorted_categories()[-1].key == "other"  # "Khác" stays last


def test_the_builtin_registry_does_not_see_the_example(registry, builtin_pm):
    assert "learning" not in registry.categories
    assert "learning" not in dict(builtin_pm.list_name_plugin())
    assert "helpdesk_learning" not in sys.modules


def test_the_example_speaks_vietnamese_from_its_own_catalog(learning_registry):
    with i18n.use_locale("vi"):
        assert str(learning_registry.categories["learning"].label) == "Bình dân học vụ số"
        steps = learning_registry.templates[("learning", "cannot_learn")].steps
        assert str(steps[1]) == "Bài học mở theo thứ tự: hoàn thành bài trước"
        assert i18n.gettext("Digital skills platform") == "Digital skills platform"  # core's
    assert not any("learning" in d for d in i18n.translation_directories())
    with i18n.use_locale("en"):
        assert str(learning_registry.categories["learning"].label) == "Digital skills platform"


def test_file_a_ticket_through_the_service_layer(db_session, learning_registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, learning_registry, ward=ward, category="learning",
                                 title="Không mở được bài học", now=now, triage=TRIAGE)
    tickets.commit(db_session)
    db_session.expire_all()
    assert ticket.triage == dict(TRIAGE, details="Bài 3 không mở, gọi •••• ••• 456")
    with i18n.use_locale("vi"):
        rows = dict(learning_registry.triage_summary("learning", ticket.triage))
    assert rows["Phần nào không hoạt động?"] == "Khóa học hoặc bài học không mở được"


def test_the_check_runs_through_the_registry(learning_registry, http_server):
    http_server.answer("/", 200)
    result = run_check("learning_web", http_server.address, registry=learning_registry)
    assert result.status is CheckStatus.OK and result.values["status_code"] == 200


def test_helpdesk_plugins_lists_the_example(learning_app):
    result = learning_app.test_cli_runner().invoke(args=["plugins"])
    assert result.exit_code == 0, result.output
    line = next(l for l in result.output.splitlines() if l.startswith("learning: "))
    for hook in ("helpdesk_register_categories", "helpdesk_triage_form",
                 "helpdesk_register_health_checks", "helpdesk_register_resolution_templates"):
        assert hook in line
    assert "vneid: " in result.output and "FAILED" not in result.output


def test_staff_file_a_ticket_with_the_example_form(learning_app):
    from webapp.extensions import db
    with learning_app.app_context():
        ward = make_ward(db.session)
        staff = make_user(db.session, Role.STAFF, ward=ward)
        db.session.commit()
        login = staff.login
    client = learning_app.test_client()
    client.post("/login", data={"login": login, "password": PASSWORD})
    assert "Bình dân học vụ số" in client.get("/tickets/new").get_data(as_text=True)
    response = client.post("/tickets/new/learning", data={
        "title": "Không mở được bài học", "triage-step": "video", "triage-details": "Lỗi 403"})
    assert response.status_code == 302, response.get_data(as_text=True)
    html = client.get(response.headers["Location"].replace("/filed", "")).get_data(as_text=True)
    assert "Video không phát được" in html and "Lỗi 403" in html


def test_a_disabled_example_is_not_loaded(learning_installed):
    from helpdesk_core.plugins import load_registry
    registry = load_registry(blocked=["learning"])
    assert "learning" not in registry.categories and "learning_web" not in registry.check_types


def test_the_catalog_translates_every_string():
    assert_catalog(PACKAGE, others={})  # own catalog: no other area's text can change


def test_make_compile_reaches_the_example_catalog():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(wildcard examples/*/*/translations)" in makefile
    assert PACKAGE / "translations" in set(ROOT.glob("examples/*/*/translations"))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_the_example_imports_only_the_public_core(path):
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top not in WEB_MODULES and top != "plugins", f"{path} imports {name}"
        if top == "helpdesk_core":
            assert name == "helpdesk_core", f"{path} imports private core module {name}"
