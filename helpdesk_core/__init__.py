"""Ward Helpdesk core: tickets, assets, SLAs, the service layer and the plugin API.

Plugins import what they need from here and nothing deeper::

    from helpdesk_core import hookimpl, Category, HealthCheckType, CheckResult, CheckStatus
"""

from .contracts import (Category, CheckResult, CheckStatus, CheckTarget, HealthCheckType,
                        PrioritySuggestion, ResolutionTemplate)
from .hookspecs import hookimpl
from .i18n import gettext, lazy_gettext, ngettext
from .neterrors import describe_error
from .plugins import ENTRY_POINT_GROUP, PluginRegistry, load_registry, make_plugin_manager
from .privacy import mask_personal_data

__all__ = [
    "Category", "CheckResult", "CheckStatus", "CheckTarget", "HealthCheckType",
    "PrioritySuggestion", "ResolutionTemplate", "hookimpl", "gettext", "lazy_gettext",
    "ngettext", "ENTRY_POINT_GROUP", "PluginRegistry", "load_registry",
    "make_plugin_manager", "mask_personal_data", "describe_error",
]
