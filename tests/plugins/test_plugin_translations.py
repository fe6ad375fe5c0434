"""Each plugin translates its strings with its own catalog, then the core's: two plugins
that translate the same message id differently each see their own, in any load order,
and neither changes the core's or the web layer's strings."""

from __future__ import annotations

import pathlib

import pytest

from helpdesk_core import CheckTarget, i18n
from helpdesk_core.plugins import PluginRegistry, make_plugin_manager
from tests.plugins.translation_plugins import CORE_IDS, VIETNAMESE, make_plugin

ORDERS = [("alpha", "beta"), ("beta", "alpha")]


@pytest.fixture(params=ORDERS, ids=["alpha-first", "beta-first"])
def two_plugins(request, tmp_path, monkeypatch) -> PluginRegistry:
    """Both plugins, defined and registered in the order of the parameter."""
    import webapp  # what create_app adds to the core's catalog
    i18n.add_translation_directory(str(pathlib.Path(webapp.__file__).parent / "translations"))
    core_before = {locale: i18n.translations(locale) for locale in i18n.SUPPORTED_LOCALES}
    pm = make_plugin_manager(load_entry_points=False)
    for name in request.param:
        pm.register(make_plugin(tmp_path, name, monkeypatch), name=name)
    yield PluginRegistry(pm)
    assert {locale: i18n.translations(locale) for locale in i18n.SUPPORTED_LOCALES} == core_before


def expected(name: str, msgid: str) -> str:
    return VIETNAMESE[name][msgid]


@pytest.mark.parametrize("name", ["alpha", "beta"])
def test_each_plugin_sees_its_own_translations(two_plugins, name):
    registry = two_plugins
    with i18n.use_locale("vi"):
        category = registry.categories[name]
        assert str(category.label) == expected(name, "What is wrong?")
        assert str(category.description) == expected(name, "Broken")
        template = registry.templates[(name, "paper")]
        assert [str(s) for s in template.steps] == [expected(name, "Reload the paper")]
        assert str(registry.check_types[f"{name}_paper"].label) == expected(name, "Paper out")
        form = registry.triage_form(name)(meta={"csrf": False})
        assert str(form.what.label.text) == expected(name, "What is wrong?")
        assert [str(c.label) for c in form.what.choices] == [expected(name, "Broken")]
        assert registry.triage_summary(name, {"what": "broken"}) == [
            (expected(name, "What is wrong?"), expected(name, "Broken"))]
        result, _ms = registry.run_check(f"{name}_paper", CheckTarget("127.0.0.1"))
        assert result.message == expected(name, "Paper out")
    with i18n.use_locale("en"):
        assert str(registry.categories[name].label) == "What is wrong?"


def test_plugins_do_not_change_the_core_or_web_strings(two_plugins):
    with i18n.use_locale("vi"):
        assert i18n.gettext("Yes") == "Có"
        assert i18n.gettext("Please log in to continue.") == "Vui lòng đăng nhập để tiếp tục."
        for msgid in CORE_IDS:
            assert i18n.gettext(msgid) not in {VIETNAMESE[n][msgid] for n in VIETNAMESE}
    assert not any(name in d for d in i18n.translation_directories()
                   for name in ("alpha", "beta"))


def test_a_plugin_falls_back_to_the_core_catalog(two_plugins):
    """An id the plugin does not translate (WTForms' and the core's own) is the core's."""
    alpha = i18n.translator("alpha")
    with i18n.use_locale("vi"):
        assert alpha.gettext("Not sure / none") == i18n.gettext("Not sure / none") != "Not sure / none"
        assert alpha.gettext("Yes") == "Vâng (alpha)"
    with i18n.use_locale("en"):
        assert alpha.gettext("What is wrong?") == "What is wrong?"


def test_every_module_of_a_plugin_shares_its_translator(two_plugins, monkeypatch):
    import sys
    from types import ModuleType
    sub = ModuleType("alpha.forms")
    monkeypatch.setitem(sys.modules, "alpha.forms", sub)  # no __file__: its package's folder
    assert i18n.translator("alpha.forms") is i18n.translator("alpha")
    assert i18n.translator("alpha") is not i18n.translator("beta")
