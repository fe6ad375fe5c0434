"""Triage of printer/scanner tickets: validation, filing, readable summary, priority."""

from __future__ import annotations

import pytest

from helpdesk_core import PrioritySuggestion, i18n
from helpdesk_core.errors import ValidationFailed
from helpdesk_core.models import Ticket
from helpdesk_core.services import tickets
from plugins.printer import forms
from plugins.printer.triage import suggest_priority, summary_rows

from ...factories import make_ward

SCAN_AT_COUNTER = {"device": "Quầy 2, Canon DR-C225", "symptom": "scanner_not_detected",
                   "error_code": "", "connection": "usb", "affected": "one_pc",
                   "blocks_counter": True}


def test_the_category_is_registered_with_its_form(registry):
    category = registry.categories["printer"]
    with i18n.use_locale("vi"):
        assert str(category.label) == "Máy in / máy quét"
    assert registry.triage_form("printer") is forms.PrinterTriageForm
    assert registry.triage_form("network") is not forms.PrinterTriageForm


def test_only_the_symptom_is_required_and_defaults_fill_the_rest(registry):
    data = tickets.validate_triage(registry, "printer", {"symptom": "paper_jam"})
    assert data == {"device": None, "symptom": "paper_jam", "error_code": None,
                    "connection": "unknown", "affected": "unknown", "blocks_counter": False}


def test_answers_are_cleaned_and_kept(registry):
    data = tickets.validate_triage(registry, "printer", dict(SCAN_AT_COUNTER, device="  Quầy 2  "))
    assert data["device"] == "Quầy 2"
    assert data["symptom"] == "scanner_not_detected" and data["blocks_counter"] is True


@pytest.mark.parametrize("answers, field, english", [
    ({}, "symptom", "Choose what is wrong."),
    ({"symptom": ""}, "symptom", "Choose what is wrong."),
    ({"symptom": "on_fire"}, "symptom", "Not a valid choice."),
    ({"symptom": "toner", "device": "x" * 121}, "device", "At most 120 characters."),
    ({"symptom": "toner", "error_code": "E" * 101}, "error_code", "At most 100 characters."),
    ({"symptom": "toner", "connection": "bluetooth"}, "connection", "Not a valid choice."),
    ({"symptom": "toner", "affected": "galaxy"}, "affected", "Not a valid choice."),
])
def test_invalid_answers_get_clear_messages(registry, answers, field, english):
    with i18n.use_locale("en"), pytest.raises(ValidationFailed) as error:
        tickets.validate_triage(registry, "printer", answers)
    assert error.value.field_errors[field] == [english]


def test_messages_are_vietnamese_by_default(registry):
    with pytest.raises(ValidationFailed) as error:
        tickets.validate_triage(registry, "printer", {"device": "x" * 121})
    assert error.value.field_errors["symptom"] == ["Hãy chọn máy bị lỗi gì."]
    assert error.value.field_errors["device"] == ["Tối đa 120 ký tự."]


def test_wtforms_own_messages_are_vietnamese_too(registry):
    # "Not a valid choice." comes from WTForms itself, not from the plugin's catalog.
    with pytest.raises(ValidationFailed) as error:
        tickets.validate_triage(registry, "printer", {"symptom": "on_fire"})
    [message] = error.value.field_errors["symptom"]
    assert message != "Not a valid choice." and "hợp lệ" in message


def test_every_field_has_a_label_and_no_field_asks_for_secrets():
    form = forms.PrinterTriageForm()
    for field in form:
        assert str(field.label.text)
        assert not any(word in field.name for word in ("password", "pin", "otp", "cccd"))


def test_filing_stores_the_triage_and_takes_the_suggested_priority(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, registry, ward=ward, category="printer",
                                 title="Máy quét quầy 2 không nhận", now=now,
                                 triage=SCAN_AT_COUNTER, impact="person", urgency="normal")
    db_session.commit()
    stored = db_session.get(Ticket, ticket.id)
    assert stored.triage["symptom"] == "scanner_not_detected"
    assert stored.triage["blocks_counter"] is True
    assert stored.priority == 1  # the matrix alone gives 4
    assert "scan" in stored.priority_reason.lower() or "quét" in stored.priority_reason


def test_filing_without_a_counter_keeps_the_matrix_priority(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, registry, ward=ward, category="printer",
                                 title="Mực mờ", now=now, triage={"symptom": "faded"},
                                 impact="person", urgency="today")
    assert ticket.priority == 3 and ticket.priority_reason == ""


def test_filing_with_bad_triage_stores_nothing(db_session, registry, now):
    ward = make_ward(db_session)
    with pytest.raises(ValidationFailed) as error:
        tickets.file_ticket(db_session, registry, ward=ward, category="printer", title="Máy in",
                            now=now, triage={"symptom": "toner", "affected": "galaxy"})
    assert set(error.value.field_errors) == {"affected"}
    db_session.rollback()
    assert db_session.query(Ticket).count() == 0


def test_summary_shows_labels_in_the_current_locale(registry):
    triage = dict(SCAN_AT_COUNTER, error_code="Code 10")
    with i18n.use_locale("en"):
        rows = registry.triage_summary("printer", triage)
    assert rows == [
        ("Which printer or scanner?", "Quầy 2, Canon DR-C225"),
        ("What is wrong?", "Scanner not detected by the computer"),
        ("Error code, message or lights on the panel", "Code 10"),
        ("How is it connected?", "USB cable to one computer"),
        ("Which computers have the problem?", "Only one computer"),
        ("A reception counter cannot receive records because of this", "Yes"),
        ("Suggested checklist", "Scanner not detected (TWAIN/WIA)"),
    ]
    with i18n.use_locale("vi"):
        vi_rows = dict(registry.triage_summary("printer", triage))
    assert vi_rows["Máy bị lỗi gì?"] == "Máy tính không nhận máy quét"
    assert vi_rows["Máy kết nối bằng gì?"] == "Cáp USB nối vào một máy tính"
    assert all(isinstance(label, str) and isinstance(value, str) for label, value in vi_rows.items())


def test_summary_leaves_out_blanks_and_shows_unknown_values_as_stored():
    with i18n.use_locale("en"):
        rows = summary_rows({"device": None, "symptom": "laser_melted", "error_code": "",
                             "connection": "unknown", "blocks_counter": False, "extra": 1})
    assert rows == [("What is wrong?", "laser_melted"), ("How is it connected?", "Not sure")]


def test_summary_is_only_for_printer_tickets(registry):
    assert ("Suggested checklist", "Paper jam") not in registry.triage_summary(
        "network", {"symptom": "paper_jam"})


@pytest.mark.parametrize("triage, priority", [
    ({"symptom": "scanner_not_detected", "blocks_counter": True}, 1),
    ({"symptom": "adf_jam", "blocks_counter": True}, 1),
    ({"symptom": "paper_jam", "blocks_counter": True}, 1),
    ({"symptom": "toner", "blocks_counter": True}, 2),
    ({"symptom": "scan_too_large", "blocks_counter": True}, 2),
    ({"symptom": "offline", "affected": "all"}, 2),
    ({"symptom": "faded", "affected": "all"}, None),
    ({"symptom": "offline", "affected": "one_pc"}, None),
    ({"symptom": "driver"}, None),
])
def test_priority_suggestion(triage, priority):
    suggestion = suggest_priority(triage)
    if priority is None:
        assert suggestion is None
    else:
        assert isinstance(suggestion, PrioritySuggestion)
        assert suggestion.priority == priority
        with i18n.use_locale("vi"):
            vietnamese = str(suggestion.reason)
        with i18n.use_locale("en"):
            english = str(suggestion.reason)
        assert vietnamese and english and vietnamese != english


def test_priority_reason_explains_scanning_versus_printing(registry):
    with i18n.use_locale("en"):
        scan = str(registry.suggest_priority("printer", {"symptom": "scan_to_folder",
                                                         "blocks_counter": True}).reason)
        paper = str(registry.suggest_priority("printer", {"symptom": "paper_jam",
                                                          "blocks_counter": True}).reason)
    assert "scan" in scan and "print" in paper
    assert registry.suggest_priority("network", {"symptom": "paper_jam",
                                                 "blocks_counter": True}) is None or \
        registry.category_plugins["network"] != "printer"
