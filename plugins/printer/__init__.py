"""Printers and scanners: triage, checklists and device health checks."""

from helpdesk_core import Category, HealthCheckType, hookimpl, run_later, translator

from . import forms
from .triage import suggest_priority, suggest_template, summary_rows
from .resolutions import TEMPLATES

HELPDESK_API = ">=1.1,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext

CATEGORY = "printer"


@hookimpl
def helpdesk_register_categories():
    # One button for both: most centres have multifunction devices, and staff in a hurry
    # should not have to decide whether the copier's scanner counts as a printer.
    return [Category(CATEGORY, _l("Printer / scanner"), icon="🖨️",
                     description=_l("Paper jam, offline, toner, scanning"),
                     priority_hint=3, order=10)]  # the triage suggests 1-2 for the urgent


@hookimpl
def helpdesk_triage_form(category):
    return forms.PrinterTriageForm if category == CATEGORY else None


@hookimpl
def helpdesk_triage_summary(category, triage):
    return summary_rows(triage) if category == CATEGORY else None


@hookimpl
def helpdesk_suggest_priority(category, triage):
    return suggest_priority(triage) if category == CATEGORY else None


@hookimpl
def helpdesk_suggest_template(category, triage):
    return suggest_template(triage) if category == CATEGORY else None


@hookimpl
def helpdesk_register_resolution_templates():
    return TEMPLATES


@hookimpl
def helpdesk_register_health_checks():
    # The checks' code (aiohttp, pysnmp) loads when one first runs: in the scheduler and
    # `helpdesk check`, never in web workers.
    return [
        HealthCheckType("ipp", _l("Printer status over IPP (state, paper, toner)"), CATEGORY,
                        run_async=run_later("plugins.printer.ipp:check_ipp"),
                        config_form=forms.IppCheckForm, default_interval=300),
        HealthCheckType("snmp_printer", _l("Printer status over SNMP (Printer-MIB)"), CATEGORY,
                        run_async=run_later("plugins.printer.snmp:check_snmp_printer_async"),
                        config_form=forms.SnmpPrinterCheckForm, default_interval=300),
        HealthCheckType("escl", _l("Network scanner status (eSCL / AirScan)"), CATEGORY,
                        run_async=run_later("plugins.printer.escl:check_escl"),
                        config_form=forms.EsclCheckForm, default_interval=300),
    ]
