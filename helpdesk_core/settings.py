"""``plugin_settings(name)``: a plugin reads its settings with one call, anywhere.

The application installs the reader when it starts (the web app's factory does), so
the core needs no global database handle of its own.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

Reader = Callable[[str], Mapping[str, Any]]
_reader: list[Reader] = []


def install_reader(reader: Reader) -> None:
    """Make *reader* answer :func:`plugin_settings` (the app factory calls this)."""
    _reader[:] = [reader]


def plugin_settings(name: str) -> Mapping[str, Any]:
    """The settings of plugin *name*: its settings form's defaults overlaid with what
    administrators saved at ``/admin/plugins/<name>``.

    :raises RuntimeError: no application is running to read them from.
    :raises helpdesk_core.errors.NotFound: the plugin has no settings form.
    """
    if not _reader:
        raise RuntimeError("plugin_settings() needs a running Ward Helpdesk application")
    return _reader[0](name)
