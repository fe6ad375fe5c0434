"""Printers and scanners: triage, checklists and device health checks."""

from helpdesk_core import Category, hookimpl
from helpdesk_core import lazy_gettext as _l

from . import forms
from .resolutions import TEMPLATES

CATEGORY = "printer"


@hookimpl
def helpdesk_register_categories():
    return [Category(CATEGORY, _l("Printer / scanner"), icon="🖨️",
                     description=_l("Paper jam, offline, toner, scanning"),
                     priority_hint=2, order=10)]


@hookimpl
def helpdesk_triage_form(category):
    return forms.PrinterTriageForm if category == CATEGORY else None


@hookimpl
def helpdesk_register_resolution_templates():
    return TEMPLATES
