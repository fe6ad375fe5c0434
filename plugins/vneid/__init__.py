"""VNeID accounts: triage without collecting personal data, checklists, portal checks."""

from helpdesk_core import Category, HealthCheckType, PrioritySuggestion, hookimpl
from helpdesk_core import translator

from . import checks, forms
from .resolutions import TEMPLATES

HELPDESK_API = ">=1.1,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext

CATEGORY = "vneid"

# Steps where a citizen at the counter cannot file online until it is fixed.
BLOCKS_FILING = {"activation", "login", "otp", "face", "nfc", "passcode", "forgot_password",
                 "changed_phone", "portal_login", "integrity_warning"}


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


@hookimpl
def helpdesk_register_health_checks():
    return [HealthCheckType("portal", _l("VNeID / public service portal reachable"), CATEGORY,
                            run_async=checks.check_portal, config_form=forms.PortalCheckForm,
                            default_interval=600)]


@hookimpl
def helpdesk_triage_summary(category, triage):
    return forms.summary_rows(triage) if category == CATEGORY else None


@hookimpl
def helpdesk_suggest_priority(category, triage):
    if category != CATEGORY:
        return None
    if triage.get("citizen_waiting") and triage.get("step") in BLOCKS_FILING:
        return PrioritySuggestion(2, _l("A citizen is waiting at the counter to file online"))
    return None
