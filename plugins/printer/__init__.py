"""Printers and scanners: triage, checklists and device health checks."""

from helpdesk_core import Category, hookimpl, translator

from . import checks, forms
from .triage import suggest_priority, summary_rows
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
def helpdesk_register_resolution_templates():
    return TEMPLATES


@hookimpl
def helpdesk_register_health_checks():
    return checks.CHECK_TYPES

