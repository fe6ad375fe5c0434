"""The objects plugins hand to the core: categories, templates, health checks, results.

They are plain frozen dataclasses so plugins stay independent of the database and the web.
Text fields accept a ``str`` or a lazy string from :func:`helpdesk_core.i18n.lazy_gettext`.
"""

from __future__ import annotations

import enum
import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

from wtforms import Form

Text = Any  # str, or a lazy string translated when shown

_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def valid_key(key: str) -> bool:
    """Keys are short lowercase slugs: they appear in URLs, entry points and the database."""
    return bool(_KEY.match(key or ""))


@dataclass(frozen=True)
class Category:
    """A kind of problem a ticket can be about (printer, network, ...).

    :param key: slug stored on tickets, e.g. ``"printer"``.
    :param label: short name shown on the front-desk button.
    :param icon: an emoji shown on the button; readable on every phone without assets.
    :param description: one line under the label, what belongs here.
    :param priority_hint: 1-4, the priority of a ticket of this category when its
        triage suggests none (``helpdesk_suggest_priority`` returns None for it): the
        usual case, the answers that need no special urgency. Impact and urgency ticked
        at the desk can still make the ticket more urgent. 4 (the default) leaves it to
        the impact x urgency matrix alone.
    :param order: position among the front-desk buttons (lower first).
    """

    key: str
    label: Text
    icon: str = "🛠️"
    description: Text = ""
    priority_hint: int = 4
    order: int = 100


@dataclass(frozen=True)
class ResolutionTemplate:
    """A named checklist of steps for a common problem of a category.

    :param key: slug, unique within the category.
    :param category: the category key it belongs to.
    :param title: what problem the checklist solves.
    :param steps: the steps in order; a student ticks them on the ticket.
    """

    key: str
    category: str
    title: Text
    steps: tuple[Text, ...]


class CheckStatus(str, enum.Enum):
    """Outcome of one health check. ``error`` means the check itself broke, not the target."""

    OK = "ok"
    WARNING = "warning"
    FAILURE = "failure"
    ERROR = "error"

    @property
    def is_bad(self) -> bool:
        return self in (CheckStatus.FAILURE, CheckStatus.ERROR)


@dataclass(frozen=True)
class CheckResult:
    """What a health check observed.

    :param status: ok, warning, failure (the target is unwell) or error (the check broke).
    :param message: one human sentence, shown on the status board and in ticket history.
    :param values: measurements, e.g. ``{"latency_ms": 12.5, "toner_percent": 4}``.
    """

    status: CheckStatus
    message: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def latency_ms(self) -> float | None:
        value = self.values.get("latency_ms")
        return float(value) if isinstance(value, (int, float)) else None


@dataclass(frozen=True)
class CheckTarget:
    """One thing to check: the asset's address and the check's validated configuration.

    :param address: host, ``host:port`` or URL, as stored on the asset.
    :param config: the data of the check type's configuration form.
    :param timeout: seconds the check may take in all; the runner enforces it as well.
    :param name: the asset's name, for messages.
    """

    address: str
    config: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 5.0
    name: str = ""


@dataclass(frozen=True)
class HealthCheckType:
    """A kind of health check a plugin provides.

    :param key: slug stored on asset checks, e.g. ``"ipp"``; unique across plugins.
    :param label: shown when an administrator picks a check for an asset.
    :param category: tickets raised by this check go to this category.
    :param run: ``run(target) -> CheckResult``, a blocking function; raise or return, the
        core guards it (a thread of its own, a hard timeout).
    :param config_form: WTForms form for the check's settings (``None``: no settings).
    :param default_interval: seconds between runs when the asset check does not say.
    :param run_async: ``async run_async(target) -> CheckResult``, the same check as a
        coroutine for the scheduler's event loop: it must not block (no blocking sockets,
        files or ``time.sleep``). A network check that can be written this way should be:
        the scheduler then runs a thousand of them at once for little CPU, and a hung
        device costs no thread. Give ``run``, ``run_async`` or both; with only
        ``run_async``, ``helpdesk check`` and the web's "check now" run it on an event
        loop of their own.
    """

    key: str
    label: Text
    category: str
    run: Callable[[CheckTarget], CheckResult] | None = None
    config_form: type[Form] | None = None
    default_interval: int = 300
    run_async: Callable[[CheckTarget], Awaitable[CheckResult]] | None = None


@dataclass(frozen=True)
class PrioritySuggestion:
    """A plugin's opinion on a ticket's priority (1 highest - 4 lowest), with why."""

    priority: int
    reason: Text = ""


def run_later(path: str) -> Callable[[CheckTarget], Awaitable[CheckResult]]:
    """A ``run_async`` whose code loads on its first run: ``"package.module:function"``.

    Web workers load every plugin (for its forms, labels and categories) but never run a
    check; a check module imported by the plugin's ``__init__`` would bring its network
    libraries (SNMP, DNS, WebSocket clients...) into every one of them. With this, only the
    scheduler and ``helpdesk check`` import them, when a check of the type first runs.
    """
    module_name, _, name = path.partition(":")
    loaded: list[Callable[[CheckTarget], Awaitable[CheckResult]]] = []

    async def run(target: CheckTarget) -> CheckResult:
        if not loaded:  # looked up once: a sweep runs thousands of checks
            loaded.append(getattr(importlib.import_module(module_name), name))
        return await loaded[0](target)
    run.__qualname__ = run.__name__ = f"run_later({path})"
    return run
