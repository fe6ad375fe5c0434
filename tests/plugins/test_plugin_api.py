"""Meta-tests that keep the plugin contract honest, and one test per hook.

Each hookspec has a full docstring, appears in docs/plugins.md and has a
``test_hook_<name>`` somewhere in tests/; each built-in loads through the entry point
group. The hook tests register a temporary plugin in a fixture, yield, and unregister.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import pathlib
import re
from typing import Any

import pytest
from wtforms import Form, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired

from helpdesk_core import (ENTRY_POINT_GROUP, Category, Channel, CheckResult, CheckStatus,
                           CheckTarget, HealthCheckType, Message, PrioritySuggestion,
                           ResolutionTemplate, hookimpl, hookspecs)
from helpdesk_core.errors import PluginError
from helpdesk_core.plugins import PluginRegistry
from helpdesk_core.services import tickets
from tests.factories import make_ward

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
BUILTINS = ("printer", "network", "signing", "vneid")


def hookspec_functions() -> list[tuple[str, Any]]:
    return [(name, fn) for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("helpdesk_")]


SPECS = hookspec_functions()
SPEC_IDS = [name for name, _ in SPECS]


def test_there_are_hookspecs():
    assert {"helpdesk_register_categories", "helpdesk_triage_form",
            "helpdesk_on_ticket_event"} <= set(SPEC_IDS)


@pytest.mark.parametrize("name, spec", SPECS, ids=SPEC_IDS)
def test_hookspec_docstring_has_every_part(name, spec):
    doc = inspect.getdoc(spec) or ""
    summary = doc.splitlines()[0] if doc else ""
    assert summary.endswith(".") and len(summary) > 20, f"{name}: one-line summary"
    assert "Called " in doc, f"{name}: say when the hook is called"
    for arg in inspect.signature(spec).parameters:
        assert f":param {arg}:" in doc, f"{name}: document :param {arg}:"
    assert ":return:" in doc, f"{name}: give the return contract"
    example = doc.split("Example::", 1)
    assert len(example) == 2, f"{name}: an Example:: block"
    code = [line for line in example[1].splitlines() if line.strip()]
    assert len(code) >= 3 and "@hookimpl" in code[0] and f"def {name}(" in code[1], name
    opts = getattr(spec, "helpdesk_spec")
    if opts.get("firstresult"):
        assert "Stops at the first non-None result." in doc, name


@pytest.mark.parametrize("name, spec", SPECS, ids=SPEC_IDS)
def test_hookspec_is_typed_and_in_a_family(name, spec):
    signature = inspect.signature(spec)
    assert signature.return_annotation is not inspect.Signature.empty, name
    for param in signature.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{name}({param.name})"
    assert re.match(r"helpdesk_(register|triage|suggest|on)_", name), name
    if name.startswith("helpdesk_register_"):
        assert not signature.parameters, name


@pytest.mark.parametrize("name, spec", SPECS, ids=SPEC_IDS)
def test_hookspec_is_documented_in_docs_plugins_md(name, spec):
    docs = DOCS.read_text(encoding="utf-8")
    section = re.search(rf"^### `{name}\((.*?)\)`$(.*?)(?=^##)", docs + "\n##",
                        re.MULTILINE | re.DOTALL)
    assert section, f"docs/plugins.md has no '### `{name}(...)`' section"
    documented_args = [a.strip() for a in section.group(1).split(",") if a.strip()]
    assert documented_args == list(inspect.signature(spec).parameters), name
    assert "@hookimpl" in section.group(2), f"{name}: the docs section needs an example"


@pytest.mark.parametrize("name, spec", SPECS, ids=SPEC_IDS)
def test_hookspec_has_a_test(name, spec):
    pattern = re.compile(rf"^def test_hook_{name}\b", re.MULTILINE)
    found = [p for p in (ROOT / "tests").rglob("test_*.py")
             if pattern.search(p.read_text(encoding="utf-8"))]
    assert found, f"no test_hook_{name} in tests/"


@pytest.mark.parametrize("name", ["Category", "ResolutionTemplate", "HealthCheckType",
                                  "CheckTarget", "CheckResult", "CheckStatus",
                                  "PrioritySuggestion", "ENTRY_POINT_GROUP",
                                  "HELPDESK_DISABLED_PLUGINS", "HELPDESK_TRACE_HOOKS",
                                  "registry.failures", "PluginError", "translations/",
                                  "hookimpl", "ward_helpdesk"])
def test_docs_cover_the_contract(name):
    assert name in DOCS.read_text(encoding="utf-8")


def test_docs_list_every_field_of_the_contract_objects():
    import dataclasses
    docs = DOCS.read_text(encoding="utf-8")
    for cls in (Category, ResolutionTemplate, HealthCheckType, CheckTarget, CheckResult,
                PrioritySuggestion, Channel, Message):
        for field in dataclasses.fields(cls):
            assert f"`{field.name}`" in docs, f"{cls.__name__}.{field.name}"
    for status in CheckStatus:
        assert f"`{status.value}`" in docs


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_is_discovered_through_the_entry_point_group(name, builtin_pm, registry):
    found = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert ENTRY_POINT_GROUP == "ward_helpdesk"
    assert found[name].value == f"plugins.{name}"
    assert builtin_pm.get_plugin(name) is found[name].load()
    # Entry-point name = category key = package name.
    assert registry.category_plugins[name] == name


# --- one test per hook, through the registry, with a temporary plugin ------------------

class TempTriage(Form):
    kind = SelectField("Kind", choices=[SelectChoice("a", "A"), SelectChoice("b", "B")],
                       validators=[DataRequired()])
    note = StringField("Note")


class TempPlugin:
    """Implements every hook for the category ``temp``."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.events: list[tuple[str, str]] = []

    @hookimpl
    def helpdesk_register_categories(self):
        return [Category("temp", "Temporary", icon="🧪", order=999)]

    @hookimpl
    def helpdesk_register_resolution_templates(self):
        return [ResolutionTemplate("restart", "temp", "Restart it", ("Turn off", "Turn on"))]

    @hookimpl
    def helpdesk_register_health_checks(self):
        return [HealthCheckType("temp_echo", "Echo", "temp",
                                run=lambda t: CheckResult(CheckStatus.OK, f"echo {t.address}",
                                                          {"latency_ms": 1}))]

    @hookimpl
    def helpdesk_triage_form(self, category):
        return TempTriage if category == "temp" else None

    @hookimpl
    def helpdesk_triage_summary(self, category, triage):
        if category != "temp":
            return None
        return [("Kind", triage["kind"].upper()), ("Note", triage.get("note") or "-")]

    @hookimpl
    def helpdesk_suggest_priority(self, category, triage):
        if category == "temp" and triage.get("kind") == "b":
            return PrioritySuggestion(1, "B is urgent")
        return None

    @hookimpl
    def helpdesk_suggest_template(self, category, triage):
        if category != "temp":
            return None
        return "restart" if triage.get("kind") == "b" else triage.get("template")

    @hookimpl
    def helpdesk_on_ticket_event(self, ticket, event):
        self.events.append((ticket.number, event.kind))

    @hookimpl
    def helpdesk_register_channels(self):
        return [Channel("temp_pigeon", "Pigeon", send=self.sent.append,
                        addresses=lambda session, user: [f"loft-{user}"])]


@pytest.fixture
def temp_plugin(builtin_pm):
    plugin = TempPlugin()
    builtin_pm.register(plugin, name="temp")
    yield plugin
    builtin_pm.unregister(plugin)


@pytest.fixture
def temp_registry(builtin_pm, temp_plugin) -> PluginRegistry:
    return PluginRegistry(builtin_pm)


def test_temporary_plugin_is_gone_afterwards(builtin_pm, registry):
    assert builtin_pm.get_plugin("temp") is None and "temp" not in registry.categories


def test_hook_helpdesk_register_categories(temp_registry):
    assert temp_registry.categories["temp"].label == "Temporary"
    assert temp_registry.category_plugins["temp"] == "temp"
    # order=999: after every built-in button but "Khác" (other, 1000), which stays last
    assert [c.key for c in temp_registry.sorted_categories()][-2:] == ["temp", "other"]
    assert set(BUILTINS) <= set(temp_registry.categories)


def test_hook_helpdesk_register_resolution_templates(temp_registry):
    [template] = temp_registry.templates_for("temp")
    assert template.steps == ("Turn off", "Turn on")
    assert temp_registry.templates[("temp", "restart")] is template


def test_hook_helpdesk_register_channels(temp_registry, temp_plugin):
    channel = temp_registry.channels["temp_pigeon"]
    assert temp_registry.channel_plugins["temp_pigeon"] == "temp"
    assert channel.addresses(None, 7) == ["loft-7"]
    channel.send(Message("n1-temp_pigeon", "test", "loft-7", "Hi", "Body"))
    assert [m.key for m in temp_plugin.sent] == ["n1-temp_pigeon"]


@pytest.mark.parametrize("bad", [
    "not a channel", Channel("Bad Key", "x", send=print), Channel("ok_key", "x", send=None)])
def test_an_invalid_channel_stops_startup(builtin_pm, bad):
    class Broken:
        @hookimpl
        def helpdesk_register_channels(self):
            return [bad]
    builtin_pm.register(Broken(), name="broken")
    try:
        with pytest.raises(PluginError, match="invalid channel"):
            PluginRegistry(builtin_pm)
    finally:
        builtin_pm.unregister(name="broken")


def test_two_plugins_cannot_register_one_channel_key(builtin_pm, temp_plugin):
    class Twin:
        @hookimpl
        def helpdesk_register_channels(self):
            return [Channel("temp_pigeon", "Other pigeon", send=print)]
    builtin_pm.register(Twin(), name="twin")
    try:
        with pytest.raises(PluginError, match="both register channel temp_pigeon"):
            PluginRegistry(builtin_pm)
    finally:
        builtin_pm.unregister(name="twin")


def test_hook_helpdesk_register_health_checks(temp_registry):
    assert temp_registry.check_type_plugins["temp_echo"] == "temp"
    result, _ms = temp_registry.run_check("temp_echo", CheckTarget("10.0.0.9"))
    assert result.status is CheckStatus.OK and result.message == "echo 10.0.0.9"


def test_hook_helpdesk_triage_form(temp_registry):
    assert temp_registry.triage_form("temp") is TempTriage
    assert temp_registry.triage_form("printer") is not TempTriage
    assert tickets.validate_triage(temp_registry, "temp", {"kind": "a", "note": " x "}) == \
        {"kind": "a", "note": "x"}


def test_hook_helpdesk_triage_summary(temp_registry):
    assert temp_registry.triage_summary("temp", {"kind": "a", "note": ""}) == \
        [("Kind", "A"), ("Note", "-")]
    # Without an implementation or a form for the category, the raw answers are shown
    # (empty ones left out).
    assert temp_registry.triage_summary("nobody", {"x": 1, "y": None}) == [("x", "1")]


class NonsensePriority:
    @hookimpl
    def helpdesk_suggest_priority(self, category, triage):
        return PrioritySuggestion(7, "out of range") if category == "temp" else None


@pytest.fixture
def nonsense_priority(builtin_pm):
    plugin = NonsensePriority()
    builtin_pm.register(plugin, name="nonsense")
    yield plugin
    builtin_pm.unregister(plugin)


def test_hook_helpdesk_suggest_priority(temp_registry):
    assert temp_registry.suggest_priority("temp", {"kind": "b"}).priority == 1
    assert temp_registry.suggest_priority("temp", {"kind": "a"}) is None
    assert temp_registry.suggest_priority("printer", {}) is None


def test_out_of_range_priority_suggestion_is_ignored(temp_registry, nonsense_priority):
    # The later plugin answers first (pluggy order); its 7 is not a priority.
    assert temp_registry.suggest_priority("temp", {"kind": "b"}) is None


def test_hook_helpdesk_suggest_template(temp_registry):
    assert temp_registry.suggest_template("temp", {"kind": "b"}).key == "restart"
    assert temp_registry.suggest_template("temp", {"kind": "a"}) is None
    # A key that is no template of the category is ignored.
    assert temp_registry.suggest_template("temp", {"template": "paper_jam"}) is None
    assert temp_registry.suggest_template("printer", {"symptom": "offline"}).key == "offline"


def test_hook_helpdesk_on_ticket_event(db_session, temp_registry, temp_plugin, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, temp_registry, ward=ward, category="temp",
                                 title="Thử", triage={"kind": "b"}, now=now)
    assert ticket.priority == 1 and ticket.priority_reason == "B is urgent"
    assert temp_plugin.events == []  # nothing before the commit
    tickets.commit(db_session)
    assert temp_plugin.events == [(ticket.number, "filed")]
    tickets.comment(db_session, temp_registry, ticket, None, "Ghi chú", now)
    tickets.rollback(db_session)
    tickets.commit(db_session)
    assert temp_plugin.events == [(ticket.number, "filed")]  # rolled back: not told
