"""Loading plugins from entry points, and calling them so one failure stays contained.

pluggy stops at the first exception of a hook call; the :class:`PluginRegistry` calls
each implementation in its own guard instead, logs and records what failed, and goes on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import importlib.metadata
import inspect
import logging
import threading
import time
import traceback
from types import ModuleType
from typing import Any, Iterable, Mapping

import pluggy
from wtforms import Form

from . import hookspecs, i18n
from .channels import Channel, valid_channel
from .contracts import (Category, CheckResult, CheckStatus, CheckTarget,
                        HealthCheckType, PrioritySuggestion, ResolutionTemplate,
                        valid_key)
from .errors import PluginError
from .pages import Page, valid_page
from .storage import PluginStorage, valid_storage
from .plugin_api import (STAGE_API, STAGE_DEPRECATED, HelpdeskPluginManager,  # noqa: F401
                         PluginFailure)

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ward_helpdesk"
# A check past its own timeout gets this much longer before the guard gives up on it,
# or half its timeout if that is more: on a scheduler's busy event loop (thousands of
# checks started at once) timers fire late, the check's own timeout as well as the
# guard's, and a check that was ending on its own timeout must not be judged a plugin bug.
HARD_TIMEOUT_GRACE = 0.5


def hard_timeout(timeout: float) -> float:
    """When the guard gives up on a check with *timeout* seconds of its own."""
    return timeout + max(HARD_TIMEOUT_GRACE, timeout / 2)


def make_plugin_manager(blocked: Iterable[str] = (), load_entry_points: bool = True,
                        failures: list[PluginFailure] | None = None,
                        trace: bool = False) -> pluggy.PluginManager:
    """A plugin manager with the specs added and the ``ward_helpdesk`` entry points loaded.

    :param blocked: plugin names (entry-point names) not to load, e.g. from
        ``HELPDESK_DISABLED_PLUGINS``.
    :param load_entry_points: False gives a manager with the specs only (for tests).
    :param failures: a list that receives a :class:`PluginFailure` per plugin that
        failed to import or register (stage ``load``), or does not fit this plugin API
        (stage ``api``: an excluded ``HELPDESK_API`` range, a hook that does not exist);
        the others still load.
    :param trace: log every hook call (debugging a plugin).
    """
    pm = HelpdeskPluginManager()
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    if load_entry_points:
        # The same order on every start, whatever the installer did: hooks are called
        # last registered first, so registering in reverse name order asks the plugins
        # in name order.
        found = sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                       key=lambda ep: ep.name, reverse=True)
        for entry_point in found:
            if pm.is_blocked(entry_point.name) or pm.has_plugin(entry_point.name):
                continue
            try:
                pm.add_plugin(entry_point.load(), entry_point.name)
            except Exception as exc:  # a broken plugin must not stop the others
                log.exception("plugin %s failed to load", entry_point.name)
                pm.failures.append(PluginFailure(entry_point.name, "load", repr(exc),
                                                 traceback.format_exc()))
    if failures is not None:
        failures.extend(pm.failures)
    pm.check_pending()  # only plugins registered by hand can still fail it
    if trace:
        pm.trace.root.setwriter(log.debug)
        pm.enable_tracing()
    return pm


class PluginRegistry:
    """What the loaded plugins provide, validated once, and guarded calls into them.

    Services take a registry rather than the raw plugin manager. Build it with
    :func:`load_registry` (entry points) or ``PluginRegistry(pm)`` in tests.
    """

    def __init__(self, pm: pluggy.PluginManager,
                 failures: list[PluginFailure] | None = None, trace: bool = False) -> None:
        self.pm = pm
        self.trace = trace  # log every guarded call (pluggy's own tracing never sees them)
        self.failures: list[PluginFailure] = list(failures or [])
        # Implementations under a renamed hook's old name (they still work, for now).
        self.deprecations: list[PluginFailure] = list(getattr(pm, "deprecations", []))
        self.categories: dict[str, Category] = {}
        self.category_plugins: dict[str, str] = {}
        self.templates: dict[tuple[str, str], ResolutionTemplate] = {}
        self.template_plugins: dict[tuple[str, str], str] = {}
        self.check_types: dict[str, HealthCheckType] = {}
        self.check_type_plugins: dict[str, str] = {}
        self.pages: dict[str, list[Page]] = {}  # plugin name -> its pages
        self.settings_forms: dict[str, type[Form]] = {}  # plugin name -> settings form
        self.storages: dict[str, PluginStorage] = {}  # plugin name -> its tables
        self.channels: dict[str, Channel] = {}  # channel key -> channel
        self.channel_plugins: dict[str, str] = {}
        self._collect()
        self._collect_extensions()

    # -- registration -------------------------------------------------------------

    def _registrations(self, hook_name: str) -> Iterable[tuple[str, Any]]:
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            try:
                items = impl.function()
            except Exception as exc:
                raise PluginError("Plugin %(plugin)s failed in %(hook)s: %(error)s",
                                  plugin=name, hook=hook_name, error=repr(exc)) from exc
            for item in items or ():
                yield name, item

    def _collect(self) -> None:
        for plugin, category in self._registrations("helpdesk_register_categories"):
            if (not isinstance(category, Category) or not valid_key(category.key)
                    or category.priority_hint not in (1, 2, 3, 4)):
                raise PluginError("Plugin %(plugin)s registered an invalid category: %(item)r",
                                  plugin=plugin, item=category)
            if category.key in self.categories:
                raise PluginError("Plugins %(first)s and %(second)s both register category %(key)s",
                                  first=self.category_plugins[category.key], second=plugin,
                                  key=category.key)
            self.categories[category.key] = category
            self.category_plugins[category.key] = plugin
        for plugin, template in self._registrations("helpdesk_register_resolution_templates"):
            ident = (getattr(template, "category", None), getattr(template, "key", None))
            if (not isinstance(template, ResolutionTemplate) or not valid_key(template.key)
                    or not template.steps):
                raise PluginError("Plugin %(plugin)s registered an invalid resolution template: %(item)r",
                                  plugin=plugin, item=template)
            if ident in self.templates:
                first = self.template_plugins[ident]
                if first == plugin:
                    raise PluginError("Plugin %(plugin)s registers resolution template %(key)s twice",
                                      plugin=plugin, key="/".join(ident))
                raise PluginError("Plugins %(first)s and %(second)s both register resolution template %(key)s",
                                  first=first, second=plugin, key="/".join(ident))
            self.templates[ident] = template
            self.template_plugins[ident] = plugin
        for plugin, check_type in self._registrations("helpdesk_register_health_checks"):
            if not isinstance(check_type, HealthCheckType) or not valid_key(check_type.key) \
                    or not _runnable(check_type):
                raise PluginError("Plugin %(plugin)s registered an invalid health check: %(item)r",
                                  plugin=plugin, item=check_type)
            if check_type.key in self.check_types:
                raise PluginError("Plugins %(first)s and %(second)s both register health check %(key)s",
                                  first=self.check_type_plugins[check_type.key], second=plugin,
                                  key=check_type.key)
            self.check_types[check_type.key] = check_type
            self.check_type_plugins[check_type.key] = plugin

    def _each_plugin(self, hook_name: str) -> Iterable[tuple[str, Any]]:
        """``(plugin, answer)`` for hooks each plugin answers once about itself."""
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            try:
                answer = impl.function()
            except Exception as exc:
                raise PluginError("Plugin %(plugin)s failed in %(hook)s: %(error)s",
                                  plugin=name, hook=hook_name, error=repr(exc)) from exc
            if answer is not None:
                yield name, answer

    def _collect_extensions(self) -> None:
        for plugin, page in self._registrations("helpdesk_register_pages"):
            if not valid_key(plugin) or not valid_page(page) or page.key in {
                    p.key for p in self.pages.get(plugin, ())}:
                raise PluginError("Plugin %(plugin)s registered an invalid page: %(item)r",
                                  plugin=plugin, item=page)
            self.pages.setdefault(plugin, []).append(page)
        for plugin, form_class in self._each_plugin("helpdesk_register_settings"):
            if not (isinstance(form_class, type) and issubclass(form_class, Form)):
                raise PluginError("Plugin %(plugin)s returned an invalid settings form: %(item)r",
                                  plugin=plugin, item=form_class)
            self.settings_forms[plugin] = form_class
        for plugin, storage in self._each_plugin("helpdesk_register_storage"):
            if not valid_key(plugin) or not valid_storage(plugin, storage):
                raise PluginError("Plugin %(plugin)s returned an invalid storage: %(item)r",
                                  plugin=plugin, item=storage)
            self.storages[plugin] = storage
        for plugin, channel in self._registrations("helpdesk_register_channels"):
            if not valid_channel(channel):
                raise PluginError("Plugin %(plugin)s registered an invalid channel: %(item)r",
                                  plugin=plugin, item=channel)
            if channel.key in self.channels:
                raise PluginError("Plugins %(first)s and %(second)s both register channel %(key)s",
                                  first=self.channel_plugins[channel.key], second=plugin,
                                  key=channel.key)
            self.channels[channel.key] = channel
            self.channel_plugins[channel.key] = plugin

    # -- guarded calls ------------------------------------------------------------

    def _record(self, plugin: str, stage: str, exc: BaseException) -> None:
        log.error("plugin %s raised in %s: %r", plugin, stage, exc,
                  exc_info=(type(exc), exc, exc.__traceback__))
        self.failures.append(PluginFailure(plugin, stage, repr(exc), traceback.format_exc()))
        del self.failures[:-200]  # keep the most recent; this list is for people to read

    def call_each(self, hook_name: str, firstresult: bool = False, **kwargs: Any) -> Any:
        """Call every implementation of *hook_name*, each inside its own guard.

        With ``firstresult`` return the first non-None result, else the list of results.
        An implementation that raises is recorded and skipped.
        """
        hook = getattr(self.pm.hook, hook_name)
        results = []
        for impl in reversed(hook.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            try:
                result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                self._record(name, hook_name, exc)
                continue
            if self.trace:
                log.debug("hook %s: plugin %s returned %r", hook_name, name, result)
            if result is None:
                continue
            if firstresult:
                return result
            results.append(result)
        return None if firstresult else results

    def record_failure(self, plugin: str, stage: str, exc: BaseException) -> None:
        """Log and list *exc*, raised by *plugin* at *stage*, for administrators (the
        web layer's guard around plugin pages uses it)."""
        self._record(plugin, stage, exc)

    def plugin_names(self) -> list[str]:
        """Names of the loaded plugins, sorted (blocked ones are listed by pluggy as None)."""
        return sorted(name for name, plugin in self.pm.list_name_plugin() if plugin is not None)

    def hooks_of(self, plugin_name: str) -> list[str]:
        """Names of the hooks *plugin_name* implements."""
        plugin = self.pm.get_plugin(plugin_name)
        return sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ())

    def sorted_categories(self) -> list[Category]:
        return sorted(self.categories.values(), key=lambda c: (c.order, c.key))

    def templates_for(self, category: str) -> list[ResolutionTemplate]:
        return [t for (cat, _), t in self.templates.items() if cat == category]

    def triage_form(self, category: str) -> type[Form] | None:
        return self.call_each("helpdesk_triage_form", firstresult=True, category=category)

    def triage_summary(self, category: str, triage: Mapping[str, Any]) -> list[tuple[str, str]]:
        rows = self.call_each("helpdesk_triage_summary", firstresult=True,
                              category=category, triage=triage)
        if rows is None:
            rows = self._summary_from_form(category, triage)
        return rows

    def _summary_from_form(self, category: str, triage: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Rows labelled by the category's triage form (choice values shown by their label);
        keys the form does not know keep their raw name. Empty answers are left out."""
        form_class = self.triage_form(category)
        fields: dict[str, Any] = {}
        if form_class is not None:
            try:
                fields = dict(form_class(meta={"csrf": False})._fields)
            except Exception as exc:  # a broken plugin form must not break the ticket page
                self._record(self.category_plugins.get(category, "?"), "triage_summary", exc)
        rows = []
        for key, value in triage.items():
            if value in (None, "", [], False):
                continue
            field = fields.get(key)
            label, shown = (str(field.label.text) if field is not None else key), value
            choices = getattr(field, "choices", None) if field is not None else None
            if choices:
                labels = {str(getattr(c, "value", c[0] if isinstance(c, tuple) else c)):
                          str(getattr(c, "label", c[1] if isinstance(c, tuple) else c))
                          for c in choices}
                values = value if isinstance(value, list) else [value]
                shown = ", ".join(labels.get(str(v), str(v)) for v in values)
            elif value is True:
                shown = i18n.gettext("Yes")
            rows.append((label, str(shown)))
        return rows

    def suggest_priority(self, category: str, triage: Mapping[str, Any]) -> PrioritySuggestion | None:
        suggestion = self.call_each("helpdesk_suggest_priority", firstresult=True,
                                    category=category, triage=triage)
        if isinstance(suggestion, PrioritySuggestion) and 1 <= suggestion.priority <= 4:
            return suggestion
        return None

    def suggest_template(self, category: str, triage: Mapping[str, Any]) -> ResolutionTemplate | None:
        """The category's template a plugin suggests for these answers, if any."""
        key = self.call_each("helpdesk_suggest_template", firstresult=True,
                             category=category, triage=triage)
        return self.templates.get((category, key)) if isinstance(key, str) else None

    def notify_ticket_event(self, ticket: Any, event: Any) -> None:
        self.call_each("helpdesk_on_ticket_event", ticket=ticket, event=event)

    def run_check(self, check_key: str, target: CheckTarget) -> tuple[CheckResult, float]:
        """Run one health check in a guard with a hard timeout.

        :return: the result and the wall time in milliseconds. A check that raises, hangs
            past ``target.timeout`` or returns garbage becomes an ``error`` result.
        """
        check_type = self.check_types.get(check_key)
        started = time.monotonic()
        if check_type is None:
            return self._unknown_check(check_key), 0.0
        # One daemon thread per run, not a one-worker ThreadPoolExecutor: every executor's
        # submit() takes a process-wide lock while its thread starts, which serialised a
        # sweep of 1,000 checks (bench/sweep.py); and a hung check must not keep the
        # process from exiting. The thread gets this context (messages in the caller's locale).
        answer: list[Any] = []
        context = contextvars.copy_context()
        run = check_type.run
        if run is None:  # a coroutine-only check: its own event loop in the thread
            def run(target: CheckTarget) -> Any:
                return asyncio.run(check_type.run_async(target))

        def work() -> None:
            try:
                answer.append(context.run(run, target))
            except BaseException as exc:  # handed to the caller below
                answer.append(exc)

        worker = threading.Thread(target=work, name=f"check-{check_key}", daemon=True)
        worker.start()
        worker.join(hard_timeout(target.timeout))
        return self._judge(check_key, target, answer), (time.monotonic() - started) * 1000.0

    async def run_check_async(self, check_key: str, target: CheckTarget,
                              executor: concurrent.futures.Executor | None = None,
                              ) -> tuple[CheckResult, float]:
        """:meth:`run_check` for an event loop (the scheduler's), with the same guard.

        A check with ``run_async`` runs as a task of this loop, cancelled at the hard
        timeout; one with only a blocking ``run`` goes through :meth:`run_check` in
        *executor* (a bounded thread pool; None: the loop's default one).
        """
        check_type = self.check_types.get(check_key)
        started = time.monotonic()
        if check_type is None:
            return self._unknown_check(check_key), 0.0
        if check_type.run_async is None:
            loop = asyncio.get_running_loop()
            context = contextvars.copy_context()
            return await loop.run_in_executor(executor, context.run, self.run_check,
                                              check_key, target)
        answer: list[Any] = []
        task = asyncio.ensure_future(check_type.run_async(target))
        try:
            await asyncio.wait({task}, timeout=hard_timeout(target.timeout))
        finally:
            if not task.done():  # it ignored target.timeout (judged below), or we are cancelled
                task.cancel()
        if task.done() and not task.cancelled():
            error = task.exception()
            answer.append(error if error is not None else task.result())
        return self._judge(check_key, target, answer), (time.monotonic() - started) * 1000.0

    @staticmethod
    def _unknown_check(check_key: str) -> CheckResult:
        return CheckResult(CheckStatus.ERROR,
                           i18n.gettext("Unknown health check type %(key)s", key=check_key))

    def _judge(self, check_key: str, target: CheckTarget, answer: list[Any]) -> CheckResult:
        """The result of a guarded run: *answer* holds what the check returned or raised,
        or nothing if it was still running at the hard timeout."""
        try:
            if not answer:  # still running: it ignored target.timeout
                raise concurrent.futures.TimeoutError()
            result = answer[0]
            if isinstance(result, BaseException):
                # Even SystemExit from a plugin must not stop the scheduler.
                raise result if isinstance(result, Exception) else RuntimeError(repr(result))
            if not isinstance(result, CheckResult):
                raise TypeError(f"{check_key} returned {type(result).__name__}, not CheckResult")
        except concurrent.futures.TimeoutError:
            # The check ignored target.timeout: a plugin bug worth showing to administrators.
            self._record(self.check_type_plugins.get(check_key, "?"), f"check:{check_key}",
                         TimeoutError(f"{check_key} still running after {target.timeout:g} s"))
            result = CheckResult(CheckStatus.ERROR,
                                 i18n.gettext("The check did not finish within %(seconds)s s",
                                              seconds=f"{target.timeout:g}"))
        except Exception as exc:
            self._record(self.check_type_plugins.get(check_key, "?"), f"check:{check_key}", exc)
            result = CheckResult(CheckStatus.ERROR,
                                 i18n.gettext("The check failed: %(error)s", error=repr(exc)))
        return result


def _runnable(check_type: HealthCheckType) -> bool:
    """A check type needs a blocking ``run``, a coroutine function ``run_async``, or both;
    whichever it gives must be of that kind."""
    run, run_async = check_type.run, check_type.run_async
    if run is None and run_async is None:
        return False
    return ((run is None or callable(run))
            and (run_async is None or inspect.iscoroutinefunction(run_async)))


def load_registry(blocked: Iterable[str] = (), trace: bool = False) -> PluginRegistry:
    """Load the entry-point plugins and build their registry (what the app and CLI use)."""
    failures: list[PluginFailure] = []
    pm = make_plugin_manager(blocked=blocked, failures=failures, trace=trace)
    return PluginRegistry(pm, failures, trace=trace)


def loaded_modules(registry: PluginRegistry) -> dict[str, ModuleType | object]:
    """Plugin name to plugin object, for listings."""
    return dict(registry.pm.list_name_plugin())
