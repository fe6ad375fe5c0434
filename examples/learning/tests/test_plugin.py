"""Tests of helpdesk_learning, on the Ward Helpdesk testing kit (its fixtures load by themselves)."""

import pytest

import helpdesk_learning
from helpdesk_core import CheckStatus, i18n, translator
from helpdesk_core.testing import assert_catalog, run_check


def test_the_plugin_loads_through_its_entry_point(registry):
    assert registry.category_plugins["learning"] == "learning"
    assert registry.templates_for("learning") and "learning_web" in registry.check_types


def test_the_triage_form_wants_an_answer(registry):
    form = registry.triage_form("learning")
    assert form(data={"step": "login"}, meta={"csrf": False}).validate()
    assert not form(data={"step": ""}, meta={"csrf": False}).validate()


def test_the_check_passes_when_the_device_answers(registry, http_server):
    http_server.answer("/status", 200)
    result = run_check("learning_web", http_server.address, config={"path": "/status"},
                       registry=registry)
    assert result.status is CheckStatus.OK and result.values["status_code"] == 200


@pytest.mark.parametrize("trouble", ["error", "hang", "refused"])
def test_the_check_fails_when_the_device_does_not(registry, http_server, closed_port, trouble):
    http_server.answer("/", 500)
    http_server.hang("/hang")
    address, path = {"error": (http_server.address, "/"), "hang": (http_server.address, "/hang"),
                     "refused": (f"127.0.0.1:{closed_port}", "/")}[trouble]
    result = run_check("learning_web", address, config={"path": path}, timeout=0.5,
                       registry=registry)
    assert result.status is CheckStatus.FAILURE  # not ERROR: the check kept its timeout


def test_the_catalog_is_complete_and_changes_no_other_text():
    assert_catalog(helpdesk_learning)


def test_staff_see_the_category_in_vietnamese(logged_in):
    with i18n.use_locale("vi"):
        label = translator("helpdesk_learning").gettext("Digital skills platform")
    page = logged_in("staff").get("/tickets/new")
    assert page.status_code == 200 and label in page.get_data(as_text=True)


def test_staff_file_a_ticket_with_the_triage_form(logged_in):
    staff = logged_in("staff")
    filed = staff.post("/tickets/new/learning", data={
        "title": "Test ticket", "triage-step": "video", "triage-details": "Error 42"})
    assert filed.status_code == 302, filed.get_data(as_text=True)
    page = staff.get(filed.headers["Location"].removesuffix("/filed")).get_data(as_text=True)
    assert "Error 42" in page  # the triage answers are on the ticket
