"""Queue-number kiosks (máy bốc số / lấy số thứ tự, DOMAIN §1.3): triage, checklists,
and two checks: the kiosk's own status endpoint (``status.py``, a coroutine) and the
ticket printer's paper sensor over raw TCP (``checks.py``, ESC/POS).
"""

from helpdesk_core import Category, HealthCheckType, Page, PrioritySuggestion, hookimpl
from helpdesk_core import translator

from . import checks, forms, pages, status, tables
from .resolutions import TEMPLATES

HELPDESK_API = ">=1.2,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext

CATEGORY = "kiosk"


@hookimpl
def helpdesk_register_categories():
    return [Category(CATEGORY, _l("Queue kiosk"), icon="🎫",
                     description=_l("Ticket kiosk, counter caller, display board, speaker"),
                     priority_hint=3, order=50)]  # the triage suggests 1-2 for the urgent


@hookimpl
def helpdesk_triage_form(category):
    return forms.KioskTriageForm if category == CATEGORY else None


@hookimpl
def helpdesk_register_resolution_templates():
    return TEMPLATES


@hookimpl
def helpdesk_register_health_checks():
    return [HealthCheckType("kiosk_paper", _l("Ticket printer paper (ESC/POS)"), CATEGORY,
                            run_async=checks.check_paper, config_form=forms.PaperCheckForm,
                            default_interval=300),
            HealthCheckType("kiosk_status", _l("Kiosk status endpoint (HTTP)"), CATEGORY,
                            run_async=status.check_status, config_form=forms.StatusCheckForm,
                            default_interval=300)]


@hookimpl
def helpdesk_triage_summary(category, triage):
    return forms.summary_rows(triage) if category == CATEGORY else None


@hookimpl
def helpdesk_suggest_priority(category, triage):
    if category != CATEGORY:
        return None
    if triage.get("all_counters"):
        return PrioritySuggestion(1, _l("The whole queue system is down"))
    if triage.get("unit") == "kiosk" and triage.get("symptom") in ("no_ticket", "touch_dead"):
        return PrioritySuggestion(2, _l("Citizens cannot take a number"))
    return None


@hookimpl
def helpdesk_register_pages():
    return [Page("counters", "/", pages.counters, ("GET", "POST"), nav_label=_l("Queue counters")),
            Page("counter", "/counters/<int:counter_id>", pages.counter)]


@hookimpl
def helpdesk_register_settings():
    return forms.KioskSettingsForm


@hookimpl
def helpdesk_register_storage():
    return tables.STORAGE
