"""The signing plugin: triage form, summary, priority, checklists and its health checks."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, SelectField

from helpdesk_core import CheckStatus, CheckTarget, i18n
from helpdesk_core.errors import ValidationFailed
from helpdesk_core.services import tickets
from helpdesk_core.testing import make_cert
from plugins.signing import forms as signing_forms
from tests.factories import make_ward
from tests.plugins.late_loop import TIMEOUT, LateLoop

LEADER_LOCKED = {"kind": "token", "provider": "vgca_safenet", "where": "document_management",
                 "document": "outgoing", "error_text": "Ký số không thành công: 3:PIN locked",
                 "holder_name": "Nguyễn Văn An", "holder_position": "leader",
                 "cert_expires_on": "31/12/2027", "pin_locked": "yes"}


# --- triage ---------------------------------------------------------------------------

def test_triage_answers_are_validated_and_stored(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, registry, ward=ward, category="signing",
                                 title="Không ký được văn bản đi", now=now, triage=LEADER_LOCKED)
    db_session.commit()
    assert ticket.triage == {**LEADER_LOCKED, "cert_expires_on": "2027-12-31"}


def test_stored_answers_validate_again(registry):
    stored = tickets.validate_triage(registry, "signing", LEADER_LOCKED)
    assert tickets.validate_triage(registry, "signing", stored) == stored


def test_short_answers_get_defaults(registry):
    data = tickets.validate_triage(registry, "signing", {"kind": "remote"})
    assert data == {"kind": "remote", "provider": "unknown", "where": "other",
                    "document": "other", "error_text": "", "holder_name": "",
                    "holder_position": "staff", "cert_expires_on": None, "pin_locked": "no"}


def test_bad_answers_are_rejected(registry):
    with pytest.raises(ValidationFailed) as error:
        tickets.validate_triage(registry, "signing", {
            "kind": "token", "provider": "vnpt_smartca", "where": "facebook",
            "cert_expires_on": "31/13/2027", "pin_locked": "maybe", "error_text": "x" * 501})
    assert set(error.value.field_errors) == {"provider", "where", "cert_expires_on",
                                             "pin_locked", "error_text"}


def test_remote_signing_with_a_vgca_token_provider_is_rejected(registry):
    with pytest.raises(ValidationFailed) as error:
        tickets.validate_triage(registry, "signing", {"kind": "remote",
                                                      "provider": "vgca_bit4id"})
    assert set(error.value.field_errors) == {"provider"}


def test_expiry_date_is_typed_as_day_month_year():
    form = signing_forms.SigningTriageForm(MultiDict({"kind": "token",
                                                      "cert_expires_on": "05/04/2027"}))
    assert form.validate(), form.errors
    assert form.cert_expires_on.data == dt.date(2027, 4, 5)
    assert 'value="05/04/2027"' in form.cert_expires_on()
    empty = signing_forms.SigningTriageForm(MultiDict({"kind": "token", "cert_expires_on": ""}))
    assert empty.validate() and empty.cert_expires_on.data is None
    wrong = signing_forms.SigningTriageForm(MultiDict({"kind": "token",
                                                      "cert_expires_on": "2027/04/05x"}))
    assert not wrong.validate() and "cert_expires_on" in wrong.errors


SECRET_WORDS = re.compile(r"\b(pin|password|passcode|otp)\b|mật khẩu|mã pin|mã otp",
                          re.IGNORECASE)


@pytest.mark.parametrize("locale", ["en", "vi"])
def test_the_form_never_asks_for_a_pin_password_or_otp(locale):
    form = signing_forms.SigningTriageForm(meta={"csrf": False})
    with i18n.use_locale(locale):
        for field in form:
            assert field.type != "PasswordField"
            label = str(field.label.text)
            mentions_secret = SECRET_WORDS.search(field.name.replace("_", " ")) or \
                SECRET_WORDS.search(label)
            if mentions_secret:
                # Only a yes/no question about the PIN's state, never a box to type it in.
                assert isinstance(field, (SelectField, RadioField)), field.name
                assert {c.value for c in field.choices} == {"yes", "no"}, field.name
    secret_fields = [f.name for f in form if SECRET_WORDS.search(f.name.replace("_", " "))]
    assert secret_fields == ["pin_locked"]


def test_summary_shows_labels_and_the_date_as_day_month_year(registry):
    with i18n.use_locale("en"):
        rows = registry.triage_summary("signing", {**LEADER_LOCKED,
                                                   "cert_expires_on": "2027-12-31"})
    assert rows == [
        ("Kind of signature", "Specialised USB token (Ban Cơ yếu)"),
        ("Token or provider", "VGCA token, SafeNet"),
        ("Where are you signing?", "Document management software"),
        ("What are you signing?", "Outgoing documents"),
        ("Error message shown", "Ký số không thành công: 3:PIN locked"),
        ("Certificate holder", "Nguyễn Văn An"),
        ("Holder's position", "Leader (Chairman, Vice-Chairman, centre director)"),
        ("Certificate valid until", "31/12/2027"),
        ("Does the token or app say the PIN is locked?", "Yes, it is locked"),
    ]


def test_summary_is_in_vietnamese_by_default_and_skips_empty_answers(registry):
    rows = dict(registry.triage_summary("signing", {"kind": "remote", "provider": "vnpt_smartca",
                                                    "where": "other", "error_text": "",
                                                    "cert_expires_on": None}))
    assert rows == {"Loại chữ ký số": "Ký số cá nhân từ xa", "Thiết bị hoặc nhà cung cấp":
                    "VNPT SmartCA"}


@pytest.mark.parametrize(("answers", "priority"), [
    ({"pin_locked": "yes", "holder_position": "leader"}, 1),
    ({"document": "outgoing", "holder_position": "leader"}, 1),
    ({"document": "results", "holder_position": "staff"}, 2),
    ({"document": "outgoing", "holder_position": "clerk"}, 2),
    ({"pin_locked": "yes", "holder_position": "staff"}, 2),
    ({"document": "incoming", "holder_position": "staff", "pin_locked": "no"}, None),
])
def test_priority_rises_for_blocked_outgoing_documents_and_the_leader(registry, answers,
                                                                     priority):
    suggestion = registry.suggest_priority("signing", {"kind": "token", **answers})
    assert (suggestion.priority if suggestion else None) == priority
    if suggestion:
        assert str(suggestion.reason)


def test_leader_with_a_locked_pin_is_filed_as_p1_with_the_reason(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, registry, ward=ward, category="signing",
                                 title="Chủ tịch bị khóa PIN", now=now, triage=LEADER_LOCKED)
    db_session.commit()
    assert ticket.priority == 1
    assert "khóa PIN" in ticket.priority_reason


# --- checklists -----------------------------------------------------------------------

def test_checklists_cover_the_usual_signing_problems(registry):
    templates = {t.key: t for t in registry.templates_for("signing")}
    assert {"token_not_recognized", "cert_expired", "pin_locked", "reinstall_software",
            "local_service_untrusted", "remote_activation"} <= set(templates)
    with i18n.use_locale("en"):
        text = {key: " ".join(str(s) for s in t.steps) for key, t in templates.items()}
    assert "https://127.0.0.1:8987" in text["local_service_untrusted"]
    assert "do not try any more PINs" in text["pin_locked"]
    assert "city unit" in text["pin_locked"]
    assert "VGCA Sign Service" in text["reinstall_software"]
    assert "Đổi thiết bị" in text["remote_activation"]


# --- cert_expiry ----------------------------------------------------------------------

@pytest.mark.parametrize(("days", "status"), [
    (400, CheckStatus.OK), (5, CheckStatus.WARNING), (-3, CheckStatus.FAILURE)])
def test_cert_expiry_of_a_tls_server(registry, tls_server, days, status):
    endpoint = tls_server(days, "portal.test")
    result, _ms = registry.run_check("cert_expiry", CheckTarget(f"127.0.0.1:{endpoint.port}",
                                                                {"warn_days": 30}, timeout=2))
    assert result.status is status, result.message
    assert result.values["subject_cn"] == "portal.test"
    assert days - 1 <= result.values["days_left"] <= days
    assert endpoint.connections == 1


def test_cert_expiry_by_url_and_a_custom_warning(registry, tls_server):
    endpoint = tls_server(5)
    target = CheckTarget(f"https://localhost:{endpoint.port}/", {"warn_days": 3}, timeout=2)
    result, _ms = registry.run_check("cert_expiry", target)
    assert result.status is CheckStatus.OK
    assert dt.datetime.fromisoformat(result.values["not_after"]) > dt.datetime.now(dt.timezone.utc)


def test_cert_expiry_from_pem_and_der_files(registry, tmp_path):
    fresh, _key = make_cert(tmp_path, 90, "Nguyen Van An")
    expired_pem, _key = make_cert(tmp_path, -10, "Tran Thi Binh")
    expired_der = tmp_path / "expired.cer"
    cert = x509.load_pem_x509_certificate(expired_pem.read_bytes())
    expired_der.write_bytes(cert.public_bytes(serialization.Encoding.DER))

    ok, _ms = registry.run_check("cert_expiry", CheckTarget("", {"cert_file": str(fresh)},
                                                            timeout=2))
    assert ok.status is CheckStatus.OK and ok.values["subject_cn"] == "Nguyen Van An"
    assert 89 <= ok.values["days_left"] <= 90
    old, _ms = registry.run_check("cert_expiry", CheckTarget(str(expired_der), {}, timeout=2))
    assert old.status is CheckStatus.FAILURE
    assert old.values["days_left"] in (-11, -10) and old.values["subject_cn"] == "Tran Thi Binh"


def test_cert_expiry_of_a_file_that_is_no_certificate(registry, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("không phải chứng thư")
    missing_file = tmp_path / "missing.pem"
    for path in (junk, missing_file):
        result, _ms = registry.run_check("cert_expiry", CheckTarget("", {"cert_file": str(path)},
                                                                    timeout=2))
        assert result.status is CheckStatus.FAILURE, path


def test_cert_expiry_closed_port_and_hung_endpoint(registry, closed_port, silent_port):
    closed, _ms = registry.run_check("cert_expiry", CheckTarget(f"127.0.0.1:{closed_port}",
                                                                timeout=2))
    assert closed.status is CheckStatus.FAILURE
    hung, _ms = registry.run_check("cert_expiry", CheckTarget(f"127.0.0.1:{silent_port}",
                                                              timeout=1))
    # FAILURE comes from the check itself; the runner's hard timeout would give ERROR.
    assert hung.status is CheckStatus.FAILURE


def test_cert_expiry_without_anything_to_read(registry):
    result, _ms = registry.run_check("cert_expiry", CheckTarget("", {}, timeout=1))
    assert result.status is CheckStatus.ERROR


# --- sign_service ---------------------------------------------------------------------

def test_sign_service_answers_its_version(registry, sign_service):
    service = sign_service({"Status": 0, "Message": "1.0.6.2", "FileServer": ""})
    result, _ms = registry.run_check("sign_service", CheckTarget(
        f"wss://127.0.0.1:{service.port}", timeout=2))
    assert result.status is CheckStatus.OK, result.message
    assert result.values["status"] == 0 and result.values["message"] == "1.0.6.2"
    assert result.values["latency_ms"] >= 0
    assert service.requests == [("/GetVersion", "version")]


def test_sign_service_answered_while_the_loop_was_busy_is_read(registry, sign_service,
                                                               monkeypatch):
    late = LateLoop(monkeypatch)
    service = sign_service({"Status": 0, "Message": "1.0.6.2"})
    service.before_reply = late.hold  # the version waits unread until past the deadline
    result = late.run(registry, "sign_service", CheckTarget(
        f"wss://127.0.0.1:{service.port}", timeout=TIMEOUT))
    assert late.holds == 1
    assert result.status is CheckStatus.OK, result.message


def test_sign_service_address_without_scheme(registry, sign_service):
    service = sign_service({"Status": 0, "Message": "1.0.6.2"})
    result, _ms = registry.run_check("sign_service", CheckTarget(f"127.0.0.1:{service.port}",
                                                                 timeout=2))
    assert result.status is CheckStatus.OK
    assert result.values["url"] == f"wss://127.0.0.1:{service.port}/GetVersion"


def test_sign_service_error_status(registry, sign_service):
    error = ("Thiết bị chứng thư số chưa được tích hợp vào máy tính hoặc VGCA Sign Service "
             "chưa được kích hoạt")
    service = sign_service({"Status": 13, "Error": error})
    result, _ms = registry.run_check("sign_service", CheckTarget(
        f"wss://127.0.0.1:{service.port}", timeout=2))
    assert result.status is CheckStatus.FAILURE
    assert result.values["status"] == 13 and error in result.message


def test_sign_service_not_running(registry, closed_port):
    result, _ms = registry.run_check("sign_service", CheckTarget(
        f"wss://127.0.0.1:{closed_port}", timeout=2))
    assert result.status is CheckStatus.FAILURE
    assert f":{closed_port}/GetVersion" in result.message


def test_sign_service_hung_fails_within_the_timeout(registry, silent_port):
    result, _ms = registry.run_check("sign_service", CheckTarget(
        f"wss://127.0.0.1:{silent_port}", timeout=1))
    assert result.status is CheckStatus.FAILURE, result.message


def test_sign_service_default_address():
    from plugins.signing.checks import _service_url
    assert _service_url("") == "wss://127.0.0.1:8987/GetVersion"
