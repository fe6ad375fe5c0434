"""Digital skills platform (Bình dân học vụ số): an example third-party Ward Helpdesk plugin.

Made with ``helpdesk plugin new learning``, installed as its own package
(``ward-helpdesk-learning``) and found through the ``ward_helpdesk`` entry point group,
exactly like the built-ins. Category, triage form, checklist, coroutine health check.
"""

from helpdesk_core import Category, HealthCheckType, hookimpl, translator

from . import checks, forms, resolutions

HELPDESK_API = ">=1.1,<2"  # the plugin API versions this plugin works with
CATEGORY = "learning"
_l = translator(__name__).lazy_gettext  # this plugin's own catalog, then the core's


@hookimpl
def helpdesk_register_categories():
    return [Category(CATEGORY, _l("Digital skills platform"), icon="🎓", order=100)]


@hookimpl
def helpdesk_triage_form(category):
    return forms.TriageForm if category == CATEGORY else None


@hookimpl
def helpdesk_register_resolution_templates():
    return resolutions.TEMPLATES


@hookimpl
def helpdesk_register_health_checks():
    return [HealthCheckType(f"{CATEGORY}_web", _l("The platform's page answers"),
                            CATEGORY, run_async=checks.check_web,
                            config_form=forms.WebCheckForm)]
