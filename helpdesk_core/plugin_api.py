"""Which plugins this core can load: the plugin API version each declares, renamed hooks,
hooks that do not exist. A plugin that does not fit is left out on its own, with a
reason administrators can read; the others load and the app starts.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import hookspecs, i18n

log = logging.getLogger("helpdesk_core.plugins")

# Stages of a PluginFailure that this module records.
STAGE_API = "api"                # not loaded: does not fit this plugin API
STAGE_DEPRECATED = "deprecated"  # loaded, but uses a renamed hook's old name


@dataclass
class PluginFailure:
    """A plugin that failed to load or raised inside a hook; shown to administrators.

    ``error`` is a string, or a lazy string translated when shown (the core's messages).
    """

    plugin: str
    stage: str  # "load", "api", "deprecated" or the hook name
    error: Any
    detail: str = ""
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


def api_version() -> Version:
    return Version(hookspecs.PLUGIN_API_VERSION)


def active_renames() -> dict[str, tuple[str, str]]:
    """Entries of :data:`~helpdesk_core.hookspecs.RENAMED_HOOKS` still honoured: those
    renamed in the current minor version (one minor version of grace)."""
    current = api_version().release[:2]
    return {old: (new, since) for old, (new, since) in hookspecs.RENAMED_HOOKS.items()
            if Version(since).release[:2] == current}


def api_problem(plugin: object, name: str) -> Any | None:
    """Why *plugin* cannot load with this plugin API (a lazy message), or None.

    A plugin without ``HELPDESK_API`` is assumed to fit (plugins older than versioning).
    """
    declared = getattr(plugin, "HELPDESK_API", None)
    if declared is None:
        return None
    try:
        wanted = SpecifierSet(declared) if isinstance(declared, str) else None
    except InvalidSpecifier:
        wanted = None
    if wanted is None:
        return i18n.lazy_gettext(
            'Plugin %(plugin)s declares HELPDESK_API = %(declared)s, which is not a version '
            'range such as ">=1.0,<2". It is not loaded.', plugin=name, declared=repr(declared))
    if not wanted.contains(api_version(), prereleases=True):
        return i18n.lazy_gettext(
            "Plugin %(plugin)s needs plugin API %(wanted)s, but this Ward Helpdesk provides "
            "%(version)s. It is not loaded: install a version of the plugin made for it.",
            plugin=name, wanted=str(wanted), version=hookspecs.PLUGIN_API_VERSION)
    return None


class HelpdeskPluginManager(pluggy.PluginManager):
    """A pluggy manager that leaves out plugins that do not fit the API, one by one.

    ``failures`` receives a :class:`PluginFailure` (stage ``api``) per plugin left out;
    ``deprecations`` one (stage ``deprecated``) per implementation under a renamed
    hook's old name, which is routed to the new spec.
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.failures: list[PluginFailure] = []
        self.deprecations: list[PluginFailure] = []
        self._renamed: list[tuple[str, str, str]] = []

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        renamed = active_renames().get(name) if opts is not None else None
        if renamed is not None and not opts.get("specname"):
            opts = dict(opts, specname=renamed[0])  # a copy: the marker is the function's
            self._renamed.append((name, *renamed))
        return opts

    def register(self, plugin: object, name: str | None = None) -> str | None:
        self._renamed = []
        registered = super().register(plugin, name)
        renamed, self._renamed = self._renamed, []
        if registered is not None:
            for old, new, since in renamed:
                self._deprecate(registered, old, new, since)
        return registered

    def add_plugin(self, plugin: object, name: str) -> bool:
        """Register *plugin* as *name* if it fits this plugin API; else record why in
        :attr:`failures`, leave it out and return False (so does a blocked name)."""
        problem = api_problem(plugin, name)
        if problem is None:
            try:
                if self.register(plugin, name=name) is None:
                    return False  # blocked
            except pluggy.PluginValidationError as exc:  # e.g. arguments the spec lacks
                problem = i18n.lazy_gettext(
                    "Plugin %(plugin)s does not fit plugin API %(version)s: %(error)s. "
                    "It is not loaded.", plugin=name, version=hookspecs.PLUGIN_API_VERSION,
                    error=str(exc))
            else:
                problem = self._unknown_hooks(plugin, name)
                if problem is not None:
                    self.unregister(plugin)
        if problem is not None:
            log.error("plugin %s left out: %s", name, _english(problem))
            self.failures.append(PluginFailure(name, STAGE_API, problem))
            return False
        return True

    def _unknown_hooks(self, plugin: object, name: str) -> Any | None:
        """A message naming the hook implementations of *plugin* that match no spec."""
        unknown = sorted(
            caller.name for caller in self.get_hookcallers(plugin) or ()
            if not caller.has_spec() and any(
                impl.plugin is plugin and not impl.optionalhook
                for impl in caller.get_hookimpls()))
        if not unknown:
            return None
        return i18n.lazy_gettext(
            "Plugin %(plugin)s implements hooks that plugin API %(version)s does not have: "
            "%(hooks)s (renamed or removed). It is not loaded: update the plugin.",
            plugin=name, version=hookspecs.PLUGIN_API_VERSION, hooks=", ".join(unknown))

    def _deprecate(self, plugin: str, old: str, new: str, since: str) -> None:
        message = i18n.lazy_gettext(
            "Plugin %(plugin)s implements %(old)s, renamed %(new)s in plugin API %(since)s. "
            "The old name stops working in the next minor version: rename the function.",
            plugin=plugin, old=old, new=new, since=since)
        log.warning("%s", _english(message))
        warnings.warn(_english(message), DeprecationWarning, stacklevel=3)
        self.deprecations.append(PluginFailure(plugin, STAGE_DEPRECATED, message))


def _english(message: Any) -> str:
    """A lazy message in English, for logs and warnings."""
    with i18n.use_locale("en"):
        return str(message)
