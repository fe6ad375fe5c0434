"""Plugins that do or do not fit the plugin API, loaded through fake entry points."""

from __future__ import annotations

import importlib.metadata

import pytest

from helpdesk_core import ENTRY_POINT_GROUP, Category, hookimpl


class _Plugin:
    """A plugin that registers one category named after it."""

    def __init__(self, key: str, api: object = None) -> None:
        self.key = key
        if api is not None:
            self.HELPDESK_API = api

    @hookimpl
    def helpdesk_register_categories(self):
        return [Category(self.key, self.key.title())]


class _UnknownHook(_Plugin):
    @hookimpl
    def helpdesk_register_kiosks(self):  # no such hook: renamed or removed
        return []


FITS = _Plugin("fits", api=">=1.0,<2")
UNDECLARED = _Plugin("undeclared")
TOO_NEW = _Plugin("too_new", api=">=2.0")
TOO_OLD = _Plugin("too_old", api="<1.1")
GARBLED = _Plugin("garbled", api="version one")
NOT_A_STRING = _Plugin("not_a_string", api=(1, 0))
UNKNOWN_HOOK = _UnknownHook("unknown_hook", api=">=1.0,<2")

EXTRA = {"fits": "FITS", "undeclared": "UNDECLARED", "too_new": "TOO_NEW",
         "too_old": "TOO_OLD", "garbled": "GARBLED", "not_a_string": "NOT_A_STRING",
         "unknown_hook": "UNKNOWN_HOOK"}
LEFT_OUT = {"too_new", "too_old", "garbled", "not_a_string", "unknown_hook"}


@pytest.fixture
def api_entry_points(monkeypatch):
    """The built-ins' entry points plus one per plugin above."""
    original = importlib.metadata.entry_points
    extra = [importlib.metadata.EntryPoint(name, f"{__name__}:{attr}", ENTRY_POINT_GROUP)
             for name, attr in EXTRA.items()]

    def entry_points(**params):
        found = original(**params)
        return list(found) + extra if params.get("group") == ENTRY_POINT_GROUP else found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return EXTRA
