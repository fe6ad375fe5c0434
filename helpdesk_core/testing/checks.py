"""Run a health check in a test exactly as the helpdesk runs it: through the guard."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

from ..contracts import CheckResult, CheckTarget, HealthCheckType
from ..hookspecs import hookimpl
from ..plugins import PluginRegistry, make_plugin_manager


class _OneCheck:
    """A plugin registering a single health check type (the check under test)."""

    def __init__(self, check_type: HealthCheckType) -> None:
        self.check_type = check_type

    @hookimpl
    def helpdesk_register_health_checks(self) -> list[HealthCheckType]:
        return [self.check_type]


def registry_for(check_type: HealthCheckType) -> PluginRegistry:
    """A registry holding only *check_type*, for checks not (yet) behind an entry point."""
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(_OneCheck(check_type), name=f"test-{check_type.key}")
    return PluginRegistry(pm)


def run_check(check: HealthCheckType | str, address: str = "", *,
              config: Mapping[str, Any] | None = None, timeout: float = 2.0, name: str = "",
              registry: PluginRegistry | None = None, blocking: bool = False) -> CheckResult:
    """Run one health check through :class:`PluginRegistry`'s guard and return its result.

    :param check: a :class:`HealthCheckType`, or the key of one in *registry*.
    :param address: the asset's address (host, ``host:port`` or URL).
    :param config: the check's settings (what its ``config_form`` would give).
    :param timeout: seconds the check may take; the guard gives up half a second later.
    :param registry: where to find *check* by key (e.g. the ``registry`` fixture).
    :param blocking: False (default) runs it as the scheduler does: ``run_async`` as a
        task of an event loop (``registry.run_check_async``), a blocking ``run`` in a
        worker thread. True runs it as ``helpdesk check`` does (``registry.run_check``).
    :return: the :class:`CheckResult`. A check that raises, hangs past *timeout* or
        returns something else gives an ``error`` result, as in production.
    """
    if isinstance(check, HealthCheckType):
        registry, key = registry_for(check), check.key
    elif registry is None:
        raise TypeError("run_check(key, ...) needs registry=; or pass the HealthCheckType")
    else:
        key = check
    target = CheckTarget(address, dict(config or {}), timeout=timeout, name=name)
    if blocking:
        return registry.run_check(key, target)[0]
    return asyncio.run(registry.run_check_async(key, target))[0]
