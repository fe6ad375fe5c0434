"""Ward Helpdesk core: tickets, assets, SLAs, the service layer and the plugin API.

Plugins import what they need from here and nothing deeper::

    from helpdesk_core import hookimpl, Category, HealthCheckType, CheckResult, CheckStatus

Plugins translate their strings with their own catalog::

    from helpdesk_core import translator
    _ = translator(__name__).gettext
    _l = translator(__name__).lazy_gettext

Pages, settings and tables of a plugin: :class:`Page`, ``plugin_settings(name)``,
:class:`PluginStorage`, and ``plugin_session()`` for code that runs outside a page
(a channel's ``send``); see docs/plugins.md. The Web Push subscriptions the web app
stores are read through ``web_push`` (:mod:`helpdesk_core.services.push`).

Coroutine health checks request web pages with :mod:`helpdesk_core.http`
(``from helpdesk_core import http``), which honours the environment's proxies, CA
bundle and netrc; a check with sockets of its own bounds its wait with
:func:`helpdesk_core.deadline.answer_deadline`. Tests use the kit in :mod:`helpdesk_core.testing` (a pytest plugin).
"""

from . import deadline, http
from .channels import AddressGone, Channel, DeliveryError, Message
from .contracts import (Category, CheckResult, CheckStatus, CheckTarget, HealthCheckType,
                        PrioritySuggestion, ResolutionTemplate, run_later)
from .hookspecs import PLUGIN_API_VERSION, hookimpl
from .i18n import Translator, gettext, lazy_gettext, ngettext, translator
from .neterrors import describe_error
from .plugins import ENTRY_POINT_GROUP, PluginRegistry, load_registry, make_plugin_manager
from .pages import Page, PageRequest, Redirect, Render
from .plugin_db import plugin_session
from .privacy import mask_personal_data
from .settings import plugin_settings
from .services import push as web_push
from .storage import PluginStorage

__all__ = [
    "Category", "CheckResult", "CheckStatus", "CheckTarget", "HealthCheckType",
    "PrioritySuggestion", "ResolutionTemplate", "run_later", "PLUGIN_API_VERSION", "hookimpl", "gettext",
    "lazy_gettext", "ngettext", "Translator", "translator", "ENTRY_POINT_GROUP",
    "PluginRegistry", "load_registry", "make_plugin_manager", "mask_personal_data", "http", "deadline",
    "describe_error", "Page", "PageRequest", "Redirect", "Render", "PluginStorage",
    "plugin_settings", "Channel", "Message", "DeliveryError", "AddressGone",
    "plugin_session", "web_push",
]
