"""Digital signatures: specialised USB tokens and personal remote signing."""

from helpdesk_core import Category, hookimpl
from helpdesk_core import lazy_gettext as _l

from . import forms
from .resolutions import TEMPLATES

CATEGORY = "signing"


@hookimpl
def helpdesk_register_categories():
    return [Category(CATEGORY, _l("Digital signature"), icon="🔏",
                     description=_l("USB token, remote signing, certificate"),
                     priority_hint=1, order=30)]


@hookimpl
def helpdesk_triage_form(category):
    return forms.SigningTriageForm if category == CATEGORY else None


@hookimpl
def helpdesk_register_resolution_templates():
    return TEMPLATES
