""""Other" (Khác): the last front-desk button, for whatever no category covers."""

from __future__ import annotations

import pytest

from helpdesk_core import hookimpl, i18n, Category
from helpdesk_core.plugins import PluginRegistry


def test_other_is_the_last_button_and_says_khac(registry):
    categories = registry.sorted_categories()
    assert categories[-1].key == "other" and registry.category_plugins["other"] == "other"
    with i18n.use_locale("vi"):
        assert str(categories[-1].label) == "Khác"
        steps = registry.templates[("other", "general")].steps
        assert str(steps[0]) == "Ghi lại chính xác thông báo lỗi và chụp màn hình"


def test_other_stays_last_after_a_late_plugin(builtin_pm):
    class Late:
        @hookimpl
        def helpdesk_register_categories(self):
            return [Category("camera", "Camera", icon="📷", order=500)]

    builtin_pm.register(Late(), name="camera")
    keys = [c.key for c in PluginRegistry(builtin_pm).sorted_categories()]
    assert keys[-2:] == ["camera", "other"]


@pytest.mark.parametrize("data, valid", [
    ({"kind": "device", "subject": "Máy chiếu phòng họp"}, True),
    ({"kind": "", "subject": "Máy chiếu"}, False),
    ({"kind": "device", "subject": ""}, False),
    ({"kind": "software", "subject": "x" * 121}, False),
])
def test_the_triage_wants_what_and_which(registry, data, valid):
    form = registry.triage_form("other")(data=data, meta={"csrf": False})
    assert form.validate() is valid


def test_staff_file_an_other_ticket(logged_in):
    staff = logged_in("staff")
    page = staff.get("/tickets/new").get_data(as_text=True)
    assert 'href="/tickets/new/other"' in page and "Khác" in page
    sent = staff.post("/tickets/new/other", data={
        "title": "Máy chiếu không lên hình", "triage-kind": "device",
        "triage-subject": "Máy chiếu Epson phòng họp", "triage-error_text": "No signal"})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    shown = staff.get(sent.headers["Location"].removesuffix("/filed")).get_data(as_text=True)
    assert "Máy chiếu Epson phòng họp" in shown and "No signal" in shown
