"""E-government systems of the ward centre (DOMAIN §1.8-1.10): the one-stop system for
administrative procedures, the public-service portals, document management and the
Danang Smart City app. One category each, with its triage form and checklists, and a
coroutine check that a portal or the VNeID sign-in page answers with a keyword."""

from helpdesk_core import Category, HealthCheckType, PrioritySuggestion, hookimpl, translator

from . import checks, forms
from .resolutions import TEMPLATES

HELPDESK_API = ">=1.1,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext


@hookimpl
def helpdesk_register_categories():
    return [
        Category("one_stop", _l("One-stop system"), icon="🏛️", order=60, priority_hint=3,
                 description=_l("Receiving, processing and returning procedure records")),
        Category("public_portal", _l("Public service portal"), icon="🌐", order=70,
                 priority_hint=3, description=_l("Online filing, VNeID sign-in, payment")),
        Category("documents", _l("Document management"), icon="📄", order=80,
                 priority_hint=3, description=_l("Incoming and outgoing documents, signing")),
        Category("smart_city", _l("Danang Smart City"), icon="📱", order=90,
                 description=_l("The city app, citizen accounts and data store")),
    ]


@hookimpl
def helpdesk_triage_form(category):
    return forms.TRIAGE_FORMS.get(category)


@hookimpl
def helpdesk_register_resolution_templates():
    return TEMPLATES


@hookimpl
def helpdesk_register_health_checks():
    return [HealthCheckType("egov_page", _l("Portal or sign-in page answers with a keyword"),
                            "public_portal", run_async=checks.check_page,
                            config_form=forms.PageCheckForm, default_interval=600)]


@hookimpl
def helpdesk_suggest_priority(category, triage):
    if category in forms.TRIAGE_FORMS and triage.get("citizen_waiting"):
        return PrioritySuggestion(2, _l("A citizen is waiting at the counter"))
    return None
