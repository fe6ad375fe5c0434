"""Hook specifications: the whole plugin API of Ward Helpdesk.

A plugin is a module (or object) with functions named exactly like these specs and
decorated with ``helpdesk_core.hookimpl``. An implementation may accept only the
arguments it needs. See docs/plugins.md for a walkthrough.
"""

from __future__ import annotations

from typing import Any, Mapping

import pluggy
from wtforms import Form

from .contracts import (Category, HealthCheckType, PrioritySuggestion,
                        ResolutionTemplate)

PROJECT_NAME = "helpdesk"

# The version of this plugin API, "major.minor". A plugin declares the versions it works
# with as a module attribute, ``HELPDESK_API = ">=1.0,<2"`` (a PEP 440 specifier set);
# one whose range excludes this version is not loaded. The minor number grows when
# something is added or a hook is renamed (the old name still works, see below); the
# major number when a hook is removed or changes what it takes or returns.
# 1.0: the hooks as first published. 1.1: translator(__name__) (each plugin's own
# catalog), Category.priority_hint used, renamed hooks and HELPDESK_API.
PLUGIN_API_VERSION = "1.1"

# Hooks renamed in this minor version: old name -> (new name, version that renamed it).
# An implementation under the old name is routed to the new spec with a
# DeprecationWarning, for one minor version: at the next minor, delete the entry, and
# plugins still using the old name are then disabled as implementing an unknown hook
# (tests/plugins/test_plugin_api_version.py fails on a stale entry).
RENAMED_HOOKS: dict[str, tuple[str, str]] = {}

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


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
