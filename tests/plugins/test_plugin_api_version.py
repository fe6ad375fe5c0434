"""The plugin API version: a plugin that does not fit it is left out on its own, with a
clear message; a renamed hook's old name still works, with a warning, for one minor
version."""

from __future__ import annotations

import importlib
import re
from types import ModuleType

import pytest
from packaging.version import Version

import helpdesk_core
from helpdesk_core import hookimpl, hookspecs, i18n
from helpdesk_core.plugin_api import STAGE_API, STAGE_DEPRECATED, active_renames
from helpdesk_core.plugins import PluginRegistry, load_registry, make_plugin_manager
from tests.plugins.api_plugins import LEFT_OUT, api_entry_points  # noqa: F401

BUILTINS = {"printer", "network", "signing", "vneid", "kiosk", "egov", "other", "webpush",
            "zalo", "notify"}


def test_the_api_version_is_published_as_major_minor():
    assert re.fullmatch(r"\d+\.\d+", helpdesk_core.PLUGIN_API_VERSION)
    assert helpdesk_core.PLUGIN_API_VERSION == hookspecs.PLUGIN_API_VERSION


def test_builtins_declare_a_range_that_fits():
    from packaging.specifiers import SpecifierSet
    for name in BUILTINS:
        declared = importlib.import_module(f"plugins.{name}").HELPDESK_API
        assert Version(helpdesk_core.PLUGIN_API_VERSION) in SpecifierSet(declared), name


def test_plugins_that_do_not_fit_are_left_out_one_by_one(api_entry_points):
    failures: list = []
    pm = make_plugin_manager(failures=failures)  # no exception: the others load
    loaded = {name for name, plugin in pm.list_name_plugin() if plugin is not None}
    assert loaded == BUILTINS | {"fits", "undeclared"}
    assert {f.plugin for f in failures} == LEFT_OUT
    assert all(f.stage == STAGE_API for f in failures)
    registry = PluginRegistry(pm, failures)
    assert {"fits", "undeclared"} <= set(registry.categories)
    assert not LEFT_OUT & set(registry.categories)
    assert not hasattr(pm.hook, "helpdesk_register_kiosks") or \
        not pm.hook.helpdesk_register_kiosks.get_hookimpls()


def test_the_reasons_are_clear_and_translated(api_entry_points):
    registry = load_registry()
    reasons = {f.plugin: f.error for f in registry.failures}
    with i18n.use_locale("en"):
        assert str(reasons["too_new"]) == (
            "Plugin too_new needs plugin API >=2.0, but this Ward Helpdesk provides "
            f"{helpdesk_core.PLUGIN_API_VERSION}. It is not loaded: install a version of "
            "the plugin made for it.")
        assert "<1.1" in str(reasons["too_old"])
        assert "'version one'" in str(reasons["garbled"]) and ">=1.0,<2" in str(reasons["garbled"])
        assert "(1, 0)" in str(reasons["not_a_string"])
        assert "helpdesk_register_kiosks" in str(reasons["unknown_hook"])
    with i18n.use_locale("vi"):
        assert str(reasons["too_new"]).startswith("Plugin too_new cần API plugin >=2.0")
        assert "helpdesk_register_kiosks" in str(reasons["unknown_hook"])


# --- renamed hooks ---------------------------------------------------------------------

class _NewSpecs:
    """A hook of a future API version: helpdesk_old_count was renamed to this."""

    @hookspecs.hookspec
    def helpdesk_new_count(self, category: str) -> int:
        """Count things of *category*."""


def _counter(hook_name: str) -> ModuleType:
    module = ModuleType("counter")

    def impl(category):
        return len(category)
    impl.__name__ = hook_name
    setattr(module, hook_name, hookimpl(impl))
    return module


@pytest.fixture
def renamed(monkeypatch):
    """helpdesk_old_count renamed helpdesk_new_count in the current minor version."""
    monkeypatch.setattr(hookspecs, "RENAMED_HOOKS", {
        "helpdesk_old_count": ("helpdesk_new_count", hookspecs.PLUGIN_API_VERSION)})
    pm = make_plugin_manager(load_entry_points=False)
    pm.add_hookspecs(_NewSpecs)
    return pm


def test_a_renamed_hook_still_works_under_its_old_name_with_a_warning(renamed, caplog):
    with pytest.warns(DeprecationWarning, match="helpdesk_old_count, renamed helpdesk_new_count"):
        assert renamed.add_plugin(_counter("helpdesk_old_count"), "counter")
    assert renamed.hook.helpdesk_new_count(category="kiosk") == [5]
    assert "helpdesk_old_count, renamed helpdesk_new_count" in caplog.text
    registry = PluginRegistry(renamed)
    assert [d.plugin for d in registry.deprecations] == ["counter"]
    assert registry.deprecations[0].stage == STAGE_DEPRECATED
    assert not registry.failures
    renamed.check_pending()  # nothing left without a spec


def test_the_new_name_gives_no_warning(renamed):
    assert renamed.add_plugin(_counter("helpdesk_new_count"), "counter")  # warnings are errors
    assert renamed.hook.helpdesk_new_count(category="ab") == [2]
    assert not renamed.deprecations


def test_the_old_name_stops_working_after_one_minor_version(monkeypatch):
    current = Version(hookspecs.PLUGIN_API_VERSION)
    monkeypatch.setattr(hookspecs, "RENAMED_HOOKS", {
        "helpdesk_old_count": ("helpdesk_new_count", f"{current.major}.{current.minor - 1}")})
    pm = make_plugin_manager(load_entry_points=False)
    pm.add_hookspecs(_NewSpecs)
    assert not active_renames()
    assert not pm.add_plugin(_counter("helpdesk_old_count"), "counter")
    assert "helpdesk_old_count" in str(pm.failures[0].error)
    assert pm.get_plugin("counter") is None


def test_the_table_of_renamed_hooks_has_no_stale_entries():
    """Entries older than the current minor version no longer work: delete them."""
    for old, (new, since) in hookspecs.RENAMED_HOOKS.items():
        assert old in active_renames(), f"{old} -> {new} (since {since}) is stale"
        assert hasattr(hookspecs, new), new


def test_helpdesk_plugins_lists_what_was_left_out(api_entry_points, database, tmp_path):
    from webapp import create_app
    from webapp.extensions import db
    app = create_app({"TESTING": True, "DATABASE_URL": database.url, "SECRET_KEY": "t",
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    try:
        result = app.test_cli_runner().invoke(args=["plugins"])
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "fits: helpdesk_register_categories" in result.stdout
    assert result.stdout.splitlines()[0] == f"API plugin {helpdesk_core.PLUGIN_API_VERSION}"
    for name in LEFT_OUT:
        assert f"DISABLED {name}:" in result.stderr
    assert "needs plugin API >=2.0" in result.stderr or "cần API plugin >=2.0" in result.stderr
