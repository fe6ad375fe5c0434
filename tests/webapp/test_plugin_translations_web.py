"""The front desk shows each plugin's labels from that plugin's own catalog."""

from __future__ import annotations

import pytest

from helpdesk_core.plugins import PluginRegistry, make_plugin_manager
from tests.plugins.translation_plugins import VIETNAMESE, make_plugin


@pytest.mark.parametrize("order", [("alpha", "beta"), ("beta", "alpha")])
def test_triage_page_shows_the_plugins_own_labels(app, client, login, tmp_path, monkeypatch,
                                                  order):
    pm = make_plugin_manager(load_entry_points=False)
    for name in order:
        pm.register(make_plugin(tmp_path, name, monkeypatch), name=name)
    app.extensions["helpdesk"] = PluginRegistry(pm)
    login("staff_a")  # a Vietnamese-speaking member of staff
    for name, other in (("alpha", "beta"), ("beta", "alpha")):
        page = client.get(f"/tickets/new/{name}").get_data(as_text=True)
        assert VIETNAMESE[name]["What is wrong?"] in page
        assert VIETNAMESE[name]["Broken"] in page
        assert VIETNAMESE[other]["Broken"] not in page
