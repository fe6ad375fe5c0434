"""The e-government plugin: four categories with triage and checklists, the egov_page check."""

from __future__ import annotations

import unicodedata

import pytest

from helpdesk_core import CheckStatus, i18n
from helpdesk_core.services import tickets
from helpdesk_core.testing import run_check
from tests.factories import make_ward

CATEGORIES = ("one_stop", "public_portal", "documents", "smart_city")
VALID = {
    "one_stop": {"step": "receive", "procedure": "1.013995", "record_code": "H17-0042"},
    "public_portal": {"portal": "city", "step": "attach", "filer": "citizen"},
    "documents": {"system": "ioffice", "action": "sign", "document": "123/UBND-VP"},
    "smart_city": {"feature": "data_store", "phone": "android", "app_version": "3.2"},
}
REQUIRED = {"one_stop": ["step"], "public_portal": ["portal", "step"],
            "documents": ["system", "action"], "smart_city": ["feature"]}


def form(registry, category, **data):
    return registry.triage_form(category)(data=data, meta={"csrf": False})


def test_four_categories_with_buttons_forms_and_checklists(registry):
    keys = [c.key for c in registry.sorted_categories()]
    assert [k for k in keys if k in CATEGORIES] == list(CATEGORIES)
    assert keys.index("one_stop") > keys.index("kiosk") and keys[-1] == "other"
    for key in CATEGORIES:
        assert registry.category_plugins[key] == "egov"
        assert registry.templates_for(key), key
        assert form(registry, key, **VALID[key]).validate(), key
    assert registry.check_type_plugins["egov_page"] == "egov"


def test_categories_and_checklists_speak_vietnamese(registry):
    with i18n.use_locale("vi"):
        labels = {k: str(registry.categories[k].label) for k in CATEGORIES}
        steps = registry.templates[("public_portal", "portal_login")].steps
        assert "Chỉ xóa cookie" in str(steps[1])
    assert labels == {"one_stop": "Hệ thống một cửa", "public_portal": "Cổng dịch vụ công",
                      "documents": "Quản lý văn bản", "smart_city": "Danang Smart City"}


@pytest.mark.parametrize("category, missing",
                         [(c, f) for c, fields in REQUIRED.items() for f in fields])
def test_triage_requires_its_choices(registry, category, missing):
    bad = form(registry, category, **dict(VALID[category], **{missing: ""}))
    assert not bad.validate() and missing in bad.errors


@pytest.mark.parametrize("category", CATEGORIES)
def test_no_question_asks_for_a_secret_or_an_id_number(registry, category):
    with i18n.use_locale("vi"):
        for field in form(registry, category):
            text = f"{field.name} {field.label.text}".casefold()
            for word in ("password", "mật khẩu", "otp", "pin", "passcode", "cccd", "căn cước"):
                assert word not in text, (category, field.name)


def test_a_waiting_citizen_raises_the_priority(db_session, registry, now):
    ward = make_ward(db_session)
    urgent = tickets.file_ticket(db_session, registry, ward=ward, category="public_portal",
                                 title="Không đăng nhập được", now=now,
                                 triage=dict(VALID["public_portal"], citizen_waiting=True))
    ordinary = tickets.file_ticket(db_session, registry, ward=ward, category="smart_city",
                                   title="Ứng dụng lỗi", now=now, triage=VALID["smart_city"])
    assert (urgent.priority, ordinary.priority) == (2, 4)
    assert urgent.priority_reason == "Người dân đang chờ tại quầy"


@pytest.mark.parametrize("category", CATEGORIES)
def test_staff_file_each_category_at_the_front_desk(app, logged_in, category):
    staff = logged_in("staff")
    front_desk = staff.get("/tickets/new").get_data(as_text=True)
    assert f'href="/tickets/new/{category}"' in front_desk
    answers = {f"triage-{k}": v for k, v in VALID[category].items()}
    sent = staff.post(f"/tickets/new/{category}", data=dict(
        answers, **{"title": "Lỗi hệ thống", "triage-error_text": "Lỗi 500"}))
    assert sent.status_code == 302, sent.get_data(as_text=True)
    page = staff.get(sent.headers["Location"].removesuffix("/filed")).get_data(as_text=True)
    assert "Lỗi 500" in page


# --- egov_page: a portal page answers, with its keyword ----------------------------------

@pytest.fixture
def page(http_server, registry):
    def run(body, keyword="Dịch vụ công", status=200, **config):
        http_server.answer("/portal", status, body, content_type="text/html; charset=utf-8")
        config.setdefault("url", http_server.url("/portal"))
        return run_check("egov_page", "", config=dict(keyword=keyword, **config),
                         registry=registry)
    return run


def test_page_with_its_keyword_is_ok(page):
    result = page("<title>Cổng Dịch vụ công Đà Nẵng</title>")
    assert result.status is CheckStatus.OK, result.message
    assert result.values["status_code"] == 200


def test_the_check_is_a_coroutine(registry):
    assert registry.check_types["egov_page"].run_async is not None


def test_keyword_matches_whatever_the_unicode_form_and_case(page):
    decomposed = unicodedata.normalize("NFD", "<h1>CỔNG DỊCH VỤ CÔNG</h1>")
    assert page(decomposed, keyword="cổng dịch vụ công").status is CheckStatus.OK


def test_page_without_its_keyword_is_a_failure(page):
    with i18n.use_locale("vi"):
        result = page("<h1>502 Bad Gateway</h1>")
    assert result.status is CheckStatus.FAILURE and "không chứa “Dịch vụ công”" in result.message


def test_maintenance_notice_is_a_warning(page):
    result = page("<p>Hệ thống đang bảo trì. Vui lòng thử lại sau</p>", status=503)
    assert result.status is CheckStatus.WARNING and result.values["maintenance"] is True


def test_wrong_status_is_a_failure(page):
    result = page("Dịch vụ công", status=500)
    assert result.status is CheckStatus.FAILURE and result.values["status_code"] == 500


def test_the_asset_address_is_used_without_a_url(http_server, registry):
    http_server.answer("/", 200, "Đăng nhập VNeID")
    result = run_check("egov_page", http_server.url("/"), config={"keyword": "VNeID"},
                       registry=registry)
    assert result.status is CheckStatus.OK


@pytest.mark.parametrize("trouble", ["hang", "refused"])
def test_unreachable_page_is_a_failure(registry, http_server, closed_port, trouble):
    http_server.hang("/hang")
    url = {"hang": http_server.url("/hang"), "refused": f"http://127.0.0.1:{closed_port}/"}
    result = run_check("egov_page", "", config={"url": url[trouble], "keyword": "x"},
                       timeout=0.5, registry=registry)
    assert result.status is CheckStatus.FAILURE, result.message


def test_an_untrusted_certificate_is_a_failure(registry, https_server):
    server = https_server(days=30)
    server.answer("/", 200, "Dịch vụ công")
    result = run_check("egov_page", "", config={"url": server.url("/"), "keyword": "x"},
                       registry=registry)
    assert result.status is CheckStatus.FAILURE


def test_the_settings_want_a_keyword(registry):
    settings = registry.check_types["egov_page"].config_form
    assert not settings(data={"keyword": ""}, meta={"csrf": False}).validate()
    filled = settings(data={"keyword": "Dịch vụ công"}, meta={"csrf": False})
    assert filled.validate() and filled.expect_status.data == 200
