"""Network and Wi-Fi: triage, checklists, and TCP / HTTP / DNS / ping health checks."""

from helpdesk_core import Category, HealthCheckType, hookimpl, run_later, translator

from . import forms
from .resolutions import TEMPLATES

HELPDESK_API = ">=1.1,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext

CATEGORY = "network"


@hookimpl
def helpdesk_register_categories():
    return [Category(CATEGORY, _l("Network / Wi-Fi"), icon="🌐",
                     description=_l("No internet, Wi-Fi, internal systems unreachable"),
                     order=20)]  # no hint: the triage suggests 1-3, the rest is minor (4)


@hookimpl
def helpdesk_triage_form(category):
    return forms.NetworkTriageForm if category == CATEGORY else None


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
        HealthCheckType("tcp", _l("TCP port open"), CATEGORY, run_async=run_later("plugins.network.checks:check_tcp"),
                        config_form=forms.TcpCheckForm, default_interval=300),
        HealthCheckType("http", _l("Web page or service (HTTP/HTTPS)"), CATEGORY,
                        run_async=run_later("plugins.network.checks:check_http"), config_form=forms.HttpCheckForm,
                        default_interval=300),
        HealthCheckType("dns", _l("Name lookup (DNS)"), CATEGORY, run_async=run_later("plugins.network.checks:check_dns"),
                        config_form=forms.DnsCheckForm, default_interval=300),
        HealthCheckType("ping", _l("Ping (ICMP)"), CATEGORY, run_async=run_later("plugins.network.checks:check_ping"),
                        config_form=forms.PingCheckForm, default_interval=120),
    ]
