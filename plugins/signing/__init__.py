"""Digital signatures: specialised USB tokens and personal remote signing."""

from helpdesk_core import Category, HealthCheckType, hookimpl, run_later, translator

from . import forms
from .resolutions import TEMPLATES

HELPDESK_API = ">=1.1,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext

CATEGORY = "signing"


@hookimpl
def helpdesk_register_categories():
    return [Category(CATEGORY, _l("Digital signature"), icon="🔏",
                     description=_l("USB token, remote signing, certificate"),
                     priority_hint=3, order=30)]  # the triage suggests 1-2 for the urgent


@hookimpl
def helpdesk_triage_form(category):
    return forms.SigningTriageForm if category == CATEGORY else None


@hookimpl
def helpdesk_triage_summary(category, triage):
    return forms.summarize(triage) if category == CATEGORY else None


@hookimpl
def helpdesk_suggest_priority(category, triage):
    return forms.suggest_priority(triage) if category == CATEGORY else None


@hookimpl
def helpdesk_register_resolution_templates():
    return TEMPLATES


@hookimpl
def helpdesk_register_health_checks():
    return [
        HealthCheckType("cert_expiry", _l("Certificate expiry"), CATEGORY,
                        run_async=run_later("plugins.signing.checks:check_cert_expiry"), config_form=forms.CertExpiryCheckForm,
                        default_interval=86400),
        HealthCheckType("sign_service", _l("Local signing service (VGCA Sign Service)"),
                        CATEGORY, run_async=run_later("plugins.signing.checks:check_sign_service"), default_interval=600),
    ]
