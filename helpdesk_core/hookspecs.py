"""Hook specifications: the whole plugin API of Ward Helpdesk.

A plugin is a module (or object) with functions named exactly like these specs and
decorated with ``helpdesk_core.hookimpl``. An implementation may accept only the
arguments it needs. See docs/plugins.md for a walkthrough.
"""

from __future__ import annotations

from typing import Any, Mapping

import pluggy
from wtforms import Form

from .channels import Channel
from .contracts import (Category, HealthCheckType, PrioritySuggestion,
                        ResolutionTemplate)
from .i18n import N_
from .pages import Page
from .storage import PluginStorage

PROJECT_NAME = "helpdesk"

# The version of this plugin API, "major.minor". A plugin declares the versions it works
# with as a module attribute, ``HELPDESK_API = ">=1.0,<2"`` (a PEP 440 specifier set);
# one whose range excludes this version is not loaded. The minor number grows when
# something is added or a hook is renamed (the old name still works, see below); the
# major number when a hook is removed or changes what it takes or returns.
# 1.0: the hooks as first published. 1.1: translator(__name__) (each plugin's own
# catalog), Category.priority_hint used, renamed hooks and HELPDESK_API.
# 1.2: pages (helpdesk_register_pages), settings (helpdesk_register_settings) and storage
# (helpdesk_register_storage).
# 1.3: notification channels (helpdesk_register_channels).
# 1.4: Channel.addresses_many (several users' addresses in one read).
# 1.5: deadline.answer_deadline (a check's wait that a busy event loop does not cut short).
PLUGIN_API_VERSION = "1.5"

# Hooks renamed in this minor version: old name -> (new name, version that renamed it).
# An implementation under the old name is routed to the new spec with a
# DeprecationWarning, for one minor version: at the next minor, delete the entry, and
# plugins still using the old name are then disabled as implementing an unknown hook
# (tests/plugins/test_plugin_api_version.py fails on a stale entry).
RENAMED_HOOKS: dict[str, tuple[str, str]] = {}

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

# What a plugin adds by implementing each hook, said for administrators (plugins page).
HOOK_DESCRIPTIONS = {
    "helpdesk_register_categories": N_("Adds request categories"),
    "helpdesk_register_resolution_templates": N_("Adds checklists for common problems"),
    "helpdesk_register_health_checks": N_("Adds device health checks"),
    "helpdesk_triage_form": N_("Asks its own questions when a request is filed"),
    "helpdesk_triage_summary": N_("Shows those answers on the ticket page"),
    "helpdesk_suggest_priority": N_("Suggests a priority from the answers"),
    "helpdesk_suggest_template": N_("Suggests a checklist from the answers"),
    "helpdesk_on_ticket_event": N_("Reacts when a ticket changes"),
    "helpdesk_register_pages": N_("Adds pages of its own"),
    "helpdesk_register_settings": N_("Has settings that administrators can change"),
    "helpdesk_register_storage": N_("Keeps data in tables of its own"),
    "helpdesk_register_channels": N_("Sends notifications through a channel of its own"),
}


# --- Registration: called once at startup; results are validated and cached. -------


@hookspec
def helpdesk_register_categories() -> list[Category]:
    """Return the ticket categories this plugin provides.

    Called once when the plugins load. Keys must be unique across all plugins; a
    duplicate stops startup with an error naming both plugins.

    :return: a list of :class:`~helpdesk_core.Category`.

    Example::

        @hookimpl
        def helpdesk_register_categories():
            return [Category("kiosk", _l("Queue kiosk"), icon="🎫")]
    """


@hookspec
def helpdesk_register_resolution_templates() -> list[ResolutionTemplate]:
    """Return checklists for common problems of your categories.

    Called once when the plugins load. ``(category, key)`` must be unique.

    :return: a list of :class:`~helpdesk_core.ResolutionTemplate`.

    Example::

        @hookimpl
        def helpdesk_register_resolution_templates():
            return [ResolutionTemplate("no_paper", "kiosk", _l("No ticket"), (_l("Reload paper"),))]
    """


@hookspec
def helpdesk_register_health_checks() -> list[HealthCheckType]:
    """Return the health-check types this plugin can run against assets.

    Called once when the plugins load. Keys must be unique across all plugins. The
    core runs each check with a timeout inside a guard, so a check that raises or hangs
    becomes an ``error`` result, never a crash of the scheduler.

    A check is a blocking function (``run``: the core gives it a thread) or a coroutine
    (``run_async``: it runs on the scheduler's event loop and must never block it), or
    both. Network checks are best written as coroutines: a thousand run at once for
    little CPU and a hung device costs no thread. For web requests use
    :mod:`helpdesk_core.http` (``await http.get(url, timeout=target.timeout)``): it
    honours the proxies, CA bundle and netrc of the environment, as the ``http`` check.

    :return: a list of :class:`~helpdesk_core.HealthCheckType`.

    Example::

        @hookimpl
        def helpdesk_register_health_checks():
            return [HealthCheckType("kiosk_http", _l("Kiosk app"), "kiosk", run=check_kiosk),
                    HealthCheckType("kiosk_api", _l("Kiosk API"), "kiosk",
                                    run_async=check_kiosk_api)]  # async def check_kiosk_api
    """


@hookspec
def helpdesk_register_pages() -> list[Page]:
    """Return the pages this plugin serves under ``/p/<plugin>/``.

    Called once when the plugins load. Each page is mounted behind the login, for the
    roles it names (others get 403), with CSRF checked on every POST. Its view gets a
    :class:`~helpdesk_core.pages.PageRequest` (the user, ``ward_ids`` in scope, the
    session, the input, the plugin's settings) and returns
    :class:`~helpdesk_core.pages.Render` (a template of the plugin's ``templates/``
    folder that extends ``base.html``) or :class:`~helpdesk_core.pages.Redirect`. A view
    that raises gives a 500 page for that page only, recorded for administrators.
    Keys must be unique within the plugin; an invalid page stops startup naming the plugin.

    :return: a list of :class:`~helpdesk_core.pages.Page`.

    Example::

        @hookimpl
        def helpdesk_register_pages():
            return [Page("counters", "/", views.counters, ("GET", "POST"), nav_label=_l("Counters"))]
    """


@hookspec
def helpdesk_register_settings() -> type[Form] | None:
    """Return the form of this plugin's settings, or None if it has none.

    Called once when the plugins load. Administrators edit the settings at
    ``/admin/plugins/<plugin>``; the form validates them (invalid input comes back with
    the errors) and they are stored in the database. Field defaults are the values
    before anyone saves. A ``PasswordField`` is a secret: never shown back, and left
    unchanged when sent empty. Read the settings with ``request.settings`` in a page, or
    ``helpdesk_core.plugin_settings("<plugin>")`` anywhere else.

    :return: a ``wtforms.Form`` subclass, or None.

    Example::

        @hookimpl
        def helpdesk_register_settings():
            return KioskSettingsForm  # class KioskSettingsForm(Form): hotline = StringField(...)
    """


@hookspec
def helpdesk_register_storage() -> PluginStorage | None:
    """Return where this plugin's own tables and their migrations are, or None.

    Called once when the plugins load, and by ``helpdesk db upgrade``, which upgrades
    the core and then each loaded plugin's Alembic branch (labelled with the plugin's
    name, recorded in its own ``alembic_version_<plugin>`` table). A plugin switched off
    or removed is skipped; its tables stay. Table names start with ``<plugin>_``.

    :return: a :class:`~helpdesk_core.storage.PluginStorage`, or None.

    Example::

        @hookimpl
        def helpdesk_register_storage():
            return PluginStorage(os.path.join(os.path.dirname(__file__), "migrations"), metadata)
    """


@hookspec
def helpdesk_register_channels() -> list[Channel]:
    """Return the notification channels this plugin delivers through.

    Called once when the plugins load. Keys must be unique across all plugins. The
    outbox writes a row per message and address in the transaction of the event and
    the scheduler calls ``channel.send`` for it, retrying with backoff; see
    :class:`~helpdesk_core.channels.Channel` for what a channel gives and
    :class:`~helpdesk_core.channels.Message` for what it receives (already translated
    and masked).

    :return: a list of :class:`~helpdesk_core.channels.Channel`.

    Example::

        @hookimpl
        def helpdesk_register_channels():
            return [Channel("sms", _l("SMS"), send=send_sms, addresses=phone_of)]
    """


# --- Triage: what a student needs to know before coming to the desk. -----------------


@hookspec(firstresult=True)
def helpdesk_triage_form(category: str) -> type[Form] | None:
    """Return the triage form class for *category*, or None if not yours.

    Called each time a ticket of that category is filed or its triage data validated.
    The form is a plain ``wtforms.Form``; the web layer adds CSRF and translations. Its
    validated ``form.data`` is stored on the ticket. Never ask for passwords, PINs, OTPs
    or full citizen ID numbers.

    Stops at the first non-None result.

    :param category: the category key of the ticket.
    :return: a ``wtforms.Form`` subclass, or None.

    Example::

        @hookimpl
        def helpdesk_triage_form(category):
            return KioskTriageForm if category == "kiosk" else None
    """


@hookspec(firstresult=True)
def helpdesk_triage_summary(category: str, triage: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    """Render stored triage data of *category* as readable ``(label, value)`` rows.

    Called when a ticket page shows its triage data; return None if not yours, and the
    core falls back to the labels of the category's triage form (choices by their label).

    Stops at the first non-None result.

    :param category: the category key of the ticket.
    :param triage: the stored, validated triage data.
    :return: a list of ``(label, value)`` pairs in the current locale, or None.

    Example::

        @hookimpl
        def helpdesk_triage_summary(category, triage):
            return [(_("Unit"), triage["unit"])] if category == "kiosk" else None
    """


@hookspec(firstresult=True)
def helpdesk_suggest_priority(category: str, triage: Mapping[str, Any]) -> PrioritySuggestion | None:
    """Suggest a priority from the triage answers of *category*, or None.

    Called when a ticket is filed. The core takes the more urgent of this suggestion
    and the impact/urgency matrix; with no suggestion (None), of the category's
    ``priority_hint`` and the matrix. Staff may still override with a reason.

    Stops at the first non-None result.

    :param category: the category key of the ticket.
    :param triage: the validated triage data.
    :return: a :class:`~helpdesk_core.PrioritySuggestion`, or None.

    Example::

        @hookimpl
        def helpdesk_suggest_priority(category, triage):
            return PrioritySuggestion(1, _l("All counters stopped")) if triage.get("all_counters") else None
    """


@hookspec(firstresult=True)
def helpdesk_suggest_template(category: str, triage: Mapping[str, Any]) -> str | None:
    """Name the resolution template that fits the triage answers of *category*, or None.

    Called when a ticket page offers its checklists: the suggested one is pre-selected.
    A key that is not a template of the category is ignored.

    Stops at the first non-None result.

    :param category: the category key of the ticket.
    :param triage: the stored, validated triage data.
    :return: the key of one of the category's resolution templates, or None.

    Example::

        @hookimpl
        def helpdesk_suggest_template(category, triage):
            return "restart" if category == "kiosk" and triage.get("frozen") else None
    """


# --- Reactions: called after the database change is committed. ---------------------


@hookspec
def helpdesk_on_ticket_event(ticket: Any, event: Any) -> None:
    """React to something that happened to a ticket (filed, status changed, comment...).

    Called after the change is committed, once per implementation, each in its own
    guard: an exception is logged and recorded, and the other plugins still run. Do not
    modify the ticket here; call the service layer if you must change something.

    :param ticket: the :class:`~helpdesk_core.models.Ticket` (read it, don't change it).
    :param event: the :class:`~helpdesk_core.models.TicketEvent` just recorded.
    :return: nothing.

    Example::

        @hookimpl
        def helpdesk_on_ticket_event(ticket, event):
            if event.kind == "filed": send_sms(ticket.number)
    """
