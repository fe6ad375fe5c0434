"""The VNeID plugin: triage without personal data, summary, priority, checklists, portal check."""

from __future__ import annotations

import asyncio
import re

import pytest
from wtforms import BooleanField, SelectField, StringField

from helpdesk_core import CheckStatus, CheckTarget, i18n
from helpdesk_core.services import tickets
from helpdesk_core.testing import run_check
from plugins.vneid import forms
from plugins.vneid.checks import check_portal as check_portal_async
from tests.factories import make_ward

VALID = {"level": "2", "step": "login", "phone_os": "android", "nfc": "yes",
         "chip_card": "yes"}
SECRET_WORDS = re.compile(r"password|passcode|otp|pin\b|mật khẩu|mã bảo vệ|số định danh|"
                          r"số căn cước|citizen id|id number", re.IGNORECASE)


def triage_form(**data):
    return forms.VneidTriageForm(data=dict(VALID, **data), meta={"csrf": False})


def test_category_templates_and_check_are_registered(registry):
    assert registry.categories["vneid"].icon == "🪪"
    assert registry.category_plugins["vneid"] == "vneid"
    keys = {t.key for t in registry.templates_for("vneid")}
    assert keys == {"forgot_password", "forgot_passcode", "new_phone", "nfc_verification",
                    "wrong_data", "integrity_warning", "level1_pending", "portal_sso_loop"}
    assert registry.check_types["portal"].category == "vneid"
    assert registry.check_types["portal"].config_form is forms.PortalCheckForm


def test_triage_covers_level_step_phone_error_shield_and_chip_card():
    form = forms.VneidTriageForm(meta={"csrf": False})
    assert {c.value for c in forms.LEVELS} >= {"none", "1", "2", "not_activated"}
    assert {c.value for c in forms.STEPS} >= {
        "activation", "login", "otp", "face", "nfc", "documents", "passcode",
        "forgot_password", "changed_phone", "data_mismatch", "portal_login", "integration"}
    assert [c.value for c in forms.SHIELD_CODES][1:] == [str(n) for n in range(1, 12)]
    assert {"phone_os", "nfc", "chip_card", "error_text", "shield_code",
            "number_in_use"} <= set(form._fields)
    assert triage_form(shield_code="10", error_text="Không thể nhận diện khuôn mặt").validate()


@pytest.mark.parametrize("missing", ["level", "step", "phone_os", "nfc", "chip_card"])
def test_triage_requires_the_choices(missing):
    form = triage_form(**{missing: ""})
    assert not form.validate()
    assert missing in form.errors


@pytest.mark.parametrize("locale", ["en", "vi"])
def test_no_field_asks_for_a_password_passcode_otp_or_full_id(locale):
    form = forms.VneidTriageForm(meta={"csrf": False})
    with i18n.use_locale(locale):
        for field in form:
            label = str(field.label.text)
            if field.name == "id_last4":
                assert "4" in label
                continue
            assert not SECRET_WORDS.search(field.name), field.name
            assert not SECRET_WORDS.search(label), (field.name, label)
    # Every free-text field is short and bounded; the ID field takes 4 digits, no more.
    for field in form:
        if isinstance(field, StringField) and not isinstance(field, SelectField):
            assert any(getattr(v, "max", -1) > 0 or hasattr(v, "regex")
                       for v in field.validators), field.name


@pytest.mark.parametrize("value", ["048095012345", "12345", "abcd", "048 0"])
def test_the_id_field_refuses_anything_but_four_digits(value):
    form = triage_form(id_last4=value)
    assert not form.validate()
    assert "id_last4" in form.errors
    assert triage_form(id_last4="2345").validate()


def test_summary_is_readable_in_vietnamese(registry):
    triage = dict(VALID, shield_code="11", error_text="Hệ thống đang bảo trì",
                  citizen_waiting=True, id_last4="2345", number_in_use="no")
    with i18n.use_locale("vi"):
        rows = dict(registry.triage_summary("vneid", triage))
    assert rows["Mức tài khoản"] == "Mức 2"
    assert rows["Lỗi ở bước nào?"] == "Đăng nhập ứng dụng"
    assert rows["Điện thoại"] == "Android"
    assert rows["Điện thoại có NFC không?"] == "Có"
    assert rows["Mã cảnh báo bảo mật"].startswith("11 – ")
    assert rows["Thông báo lỗi hiển thị"] == "Hệ thống đang bảo trì"
    assert rows["Số thẻ căn cước kết thúc bằng"] == "…2345"
    assert rows["Công dân đang chờ"] == "Có, đang chờ tại quầy"
    assert rows["Số điện thoại đã đăng ký còn sử dụng không?"] == "Không"
    with i18n.use_locale("en"):
        rows = dict(registry.triage_summary("vneid", dict(VALID)))
    assert rows == {"Account level": "Level 2", "Where does it fail?": "Logging in to the app",
                    "Phone": "Android", "Does the phone have NFC?": "Yes",
                    "Chip ID card?": "Yes"}


def test_summary_leaves_other_categories_alone(registry):
    assert registry.pm.hook.helpdesk_triage_summary(category="printer", triage={}) in (None, [])
    from plugins import vneid
    assert vneid.helpdesk_triage_summary("printer", {}) is None


@pytest.mark.parametrize("step, waiting, expected", [
    ("portal_login", True, 2), ("otp", True, 2), ("login", False, None),
    ("data_mismatch", True, None)])
def test_priority_suggestion_for_a_citizen_waiting_to_file_online(registry, step, waiting,
                                                                  expected):
    suggestion = registry.suggest_priority("vneid", dict(VALID, step=step,
                                                         citizen_waiting=waiting))
    assert (suggestion.priority if suggestion else None) == expected


def test_filed_ticket_gets_the_suggested_priority_and_masked_error_text(db_session, registry,
                                                                        now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(
        db_session, registry, ward=ward, category="vneid", title="Công dân không đăng nhập được",
        now=now, triage=dict(VALID, step="portal_login", citizen_waiting=True,
                             error_text="Sai CCCD 048095012345, SĐT 0905.123.456"))
    tickets.commit(db_session)
    db_session.expire_all()
    assert ticket.priority == 2
    assert ticket.priority_reason == "Công dân đang chờ tại quầy để nộp hồ sơ trực tuyến"
    assert ticket.triage["error_text"] == "Sai CCCD ••••••••2345, SĐT ••••.•••.456"
    assert "048095012345" not in ticket.search_text


def test_templates_guide_without_asking_for_secrets(registry):
    steps = " ".join(str(s) for t in registry.templates_for("vneid") for s in t.steps)
    for template in registry.templates_for("vneid"):
        assert len(template.steps) >= 4
    with i18n.use_locale("en"):
        integrity = registry.templates[("vneid", "integrity_warning")]
        text = " ".join(str(s) for s in integrity.steps)
        assert "official" in text or "Google Play" in text
        assert "developer options" in text and "USB debugging" in text and "clone" in text
        sso = " ".join(str(s) for s in registry.templates[("vneid", "portal_sso_loop")].steps)
        assert "dichvucong.gov.vn and sso.dancuquocgia.gov.vn only" in sso
        wrong = " ".join(str(s) for s in registry.templates[("vneid", "wrong_data")].steps)
        assert "police" in wrong
    assert "048" not in steps


# --- the portal check --------------------------------------------------------------

def target(url, **config):
    return CheckTarget(url, config=config, timeout=2.0, name="VNeID")


def check_portal(target: CheckTarget):
    return asyncio.run(check_portal_async(target))


@pytest.fixture
def portal(http_server):
    """The portal's page on the kit's loopback HTTP server (``portal.answer("/", ...)``)."""
    return http_server


def test_portal_up(portal):
    portal.answer("/", 200, "<html>Đăng nhập VNeID</html>")
    result = check_portal(target(portal.url("/"), keyword="VNeID"))
    assert result.status is CheckStatus.OK
    assert result.values["status_code"] == 200 and result.latency_ms is not None


def test_portal_server_error_is_a_failure(portal):
    portal.answer("/", 502, "Bad gateway")
    result = check_portal(target(portal.url("/")))
    assert result.status is CheckStatus.FAILURE
    assert result.values["status_code"] == 502


@pytest.mark.parametrize("status", [200, 503])
def test_portal_maintenance_page_is_a_warning(portal, status):
    portal.answer("/", status, "<h1>HỆ THỐNG ĐANG BẢO TRÌ</h1><p>Vui lòng thử lại sau</p>")
    result = check_portal(target(portal.url("/")))
    assert result.status is CheckStatus.WARNING
    assert result.values["maintenance"] is True


def test_portal_maintenance_text_is_configurable(portal):
    portal.answer("/", 200, "Kết nối tới hệ thống thất bại")
    assert check_portal(target(portal.url("/"), maintenance_text="kết nối tới hệ thống thất bại")
                        ).status is CheckStatus.WARNING
    portal.answer("/", 200, "Hệ thống đang bảo trì")
    assert check_portal(target(portal.url("/"), maintenance_text="")).status is CheckStatus.OK


def test_portal_missing_keyword_is_a_failure(portal):
    portal.answer("/", 200, "<html>Trang khác</html>")
    assert check_portal(target(portal.url("/"), keyword="Dịch vụ công")).status \
        is CheckStatus.FAILURE


@pytest.mark.parametrize("peer", ["refused", "silent", "hung"])
def test_portal_unreachable_is_a_failure(portal, closed_port, silent_port, peer):
    portal.hang("/hang")
    url = {"refused": f"http://127.0.0.1:{closed_port}/",
           "silent": f"http://127.0.0.1:{silent_port}/", "hung": portal.url("/hang")}[peer]
    with i18n.use_locale("en"):
        result = check_portal(CheckTarget(url, timeout=0.5))
    assert result.status is CheckStatus.FAILURE
    assert url in result.message


def test_portal_url_in_config_wins_and_runs_through_the_registry(portal, registry):
    portal.answer("/other", 200, "ok")
    result = run_check("portal", portal.url("/asset"), registry=registry,
                       config={"url": portal.url("/other"), "expect_status": 200})
    assert result.status is CheckStatus.OK
    assert portal.hits == {"/other": 1}


def test_portal_config_form_defaults():
    form = forms.PortalCheckForm(data={}, meta={"csrf": False})
    assert form.validate()
    assert form.data["expect_status"] == 200
    assert form.data["maintenance_text"] == "Hệ thống đang bảo trì"
    assert not forms.PortalCheckForm(data={"expect_status": 42}, meta={"csrf": False}).validate()


def test_the_id_field_renders_as_a_four_digit_input():
    html = triage_form()["id_last4"]()
    assert 'maxlength="4"' in html and 'inputmode="numeric"' in html
