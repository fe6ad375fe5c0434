"""Every built-in health check is a coroutine: the scheduler waits on a hung device
without holding a thread for it."""

from __future__ import annotations

import importlib.metadata
import inspect

from helpdesk_core.plugins import ENTRY_POINT_GROUP


def builtin_plugins() -> set[str]:
    """The entry points this project ships (``plugins.<name>``)."""
    return {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
            if ep.value.startswith("plugins.")}


def test_every_builtin_check_type_runs_as_a_coroutine(registry):
    builtin = builtin_plugins()
    assert {"printer", "network", "signing", "vneid"} <= builtin
    checked = {key: check_type for key, check_type in registry.check_types.items()
               if registry.check_type_plugins[key] in builtin}
    assert {"ipp", "snmp_printer", "escl", "tcp", "http", "dns", "ping", "cert_expiry",
            "sign_service", "portal"} <= set(checked)
    blocking_only = [key for key, check_type in checked.items()
                     if not inspect.iscoroutinefunction(check_type.run_async)]
    assert blocking_only == []
