"""VNeID accounts: triage without collecting personal data, checklists, portal checks."""

from helpdesk_core import Category, hookimpl
from helpdesk_core import lazy_gettext as _l

from . import forms
from .resolutions import TEMPLATES

CATEGORY = "vneid"


@hookimpl
def helpdesk_register_categories():
    return [Category(CATEGORY, _l("VNeID"), icon="🪪",
                     description=_l("Activation, login, password, data mismatch"),
                     priority_hint=3, order=40)]


@hookimpl
def helpdesk_triage_form(category):
    return forms.VneidTriageForm if category == CATEGORY else None


@hookimpl
def helpdesk_register_resolution_templates():
    return TEMPLATES
