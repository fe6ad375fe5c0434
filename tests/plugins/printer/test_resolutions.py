"""Checklists and health-check registrations of the printer plugin."""

from __future__ import annotations

import pytest
from wtforms import Form

from helpdesk_core import i18n
from plugins.printer import forms
from plugins.printer.resolutions import TEMPLATE_FOR_SYMPTOM, TEMPLATES

EXPECTED = {"paper_jam", "offline", "toner", "faded", "driver_reinstall", "stuck_queue",
            "shared_0x11b", "scan_to_folder", "scanner_not_detected", "adf_jam",
            "scan_too_large"}


def test_templates_are_registered(registry):
    keys = {t.key for t in registry.templates_for("printer")}
    assert keys == EXPECTED
    assert all(registry.templates[("printer", key)].category == "printer" for key in keys)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_each_template_has_steps_translated_into_vietnamese(template):
    assert len(template.steps) >= 3
    for text in (template.title, *template.steps):
        with i18n.use_locale("en"):
            english = str(text)
        with i18n.use_locale("vi"):
            vietnamese = str(text)
        assert english.strip() and vietnamese.strip()
        assert vietnamese != english, f"not translated: {english}"


def test_every_symptom_points_to_a_checklist():
    symptoms = {choice.value for choice in forms.SYMPTOMS} - {"", "other"}
    assert set(TEMPLATE_FOR_SYMPTOM) == symptoms
    assert set(TEMPLATE_FOR_SYMPTOM.values()) == EXPECTED


def test_0x11b_checklist_names_the_error_and_the_local_port_fix():
    template = next(t for t in TEMPLATES if t.key == "shared_0x11b")
    with i18n.use_locale("en"):
        text = " ".join(str(s) for s in (template.title, *template.steps))
    assert "0x0000011b" in text and "Local Port" in text


@pytest.mark.parametrize("key, form, fields", [
    ("ipp", forms.IppCheckForm, {"path", "use_tls", "low_marker_percent"}),
    ("snmp_printer", forms.SnmpPrinterCheckForm,
     {"community", "port", "device_index", "low_supply_percent"}),
    ("escl", forms.EsclCheckForm, {"path", "use_tls"}),
])
def test_health_checks_are_registered_with_a_config_form(registry, key, form, fields):
    check_type = registry.check_types[key]
    assert registry.check_type_plugins[key] == "printer"
    assert check_type.category == "printer"
    assert check_type.config_form is form and issubclass(form, Form)
    assert set(form().data) == fields
    assert form(data={}).validate()  # the defaults are valid
    with i18n.use_locale("vi"):
        assert str(check_type.label) != i18n.translations("en").gettext(check_type.label._args[0])


@pytest.mark.parametrize("form, data, field", [
    (forms.IppCheckForm, {"low_marker_percent": 101}, "low_marker_percent"),
    (forms.IppCheckForm, {"path": "ipp/print"}, "path"),
    (forms.SnmpPrinterCheckForm, {"community": ""}, "community"),
    (forms.SnmpPrinterCheckForm, {"port": 70000}, "port"),
    (forms.SnmpPrinterCheckForm, {"device_index": 0}, "device_index"),
    (forms.EsclCheckForm, {"path": "eSCL"}, "path"),
])
def test_config_forms_reject_bad_settings(form, data, field):
    instance = form(data=data)
    assert not instance.validate()
    assert field in instance.errors
