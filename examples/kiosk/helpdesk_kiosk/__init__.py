"""Queue-number kiosks (máy bốc số): an example of a third-party Ward Helpdesk plugin.

Installed as its own package (``ward-helpdesk-kiosk``) and found through the
``ward_helpdesk`` entry point group, exactly like the built-ins.
"""

from helpdesk_core import Category, HealthCheckType, Page, PrioritySuggestion, hookimpl
from helpdesk_core import translator

from . import checks, forms, pages, tables
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
                            run=checks.check_paper, config_form=forms.PaperCheckForm,
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
