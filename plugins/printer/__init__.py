"""Printers and scanners: triage, checklists and device health checks."""

from helpdesk_core import Category, hookimpl, translator

from . import checks, forms, snmp
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
    # Called once as the plugins load: start the SNMP engine meanwhile, so the first
    # check (the scheduler's, or `helpdesk check`'s) does not wait for it.
    snmp.warm_up()
    return checks.CHECK_TYPES

