"""/admin/plugins shows plugins left out for not fitting the plugin API, and old hook
names that still work, each with its reason in the administrator's language."""

from __future__ import annotations

import pytest

from helpdesk_core import PLUGIN_API_VERSION, hookspecs
from helpdesk_core.plugins import make_plugin_manager
from tests.plugins.api_plugins import LEFT_OUT, api_entry_points  # noqa: F401
from tests.plugins.test_plugin_api_version import _counter, _NewSpecs
from tests.webapp.admin.conftest import build_world, login_as


def test_plugins_page_shows_disabled_and_deprecated_plugins(api_entry_points, make_app,
                                                            monkeypatch):
    app = make_app()  # starts although five plugins do not fit
    from webapp.extensions import db
    with app.app_context():
        world = build_world(db.session, app.extensions["helpdesk"])
    monkeypatch.setattr(hookspecs, "RENAMED_HOOKS", {
        "helpdesk_old_count": ("helpdesk_new_count", PLUGIN_API_VERSION)})
    pm = make_plugin_manager(load_entry_points=False)
    pm.add_hookspecs(_NewSpecs)
    with pytest.warns(DeprecationWarning):
        pm.add_plugin(_counter("helpdesk_old_count"), "counter")
    app.extensions["helpdesk"].deprecations.extend(pm.deprecations)
    client = app.test_client()
    login_as(client, world.admin)  # a Vietnamese-speaking administrator
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert f"API plugin {PLUGIN_API_VERSION}" in page
    table = page.split('id="plugin-api"')[1].split("</table>")[0]
    for name in LEFT_OUT:
        assert f"<td>{name}</td><td><strong>đã tắt</strong></td>" in table
    assert "Plugin too_new cần API plugin &gt;=2.0" in table
    assert "helpdesk_register_kiosks" in table
    assert "<td>counter</td><td>vẫn chạy, sắp ngừng hỗ trợ</td>" in table
    assert "đã đổi tên thành helpdesk_new_count" in table
    failures = page.split('id="plugin-failures"')[1]
    assert "too_new" not in failures  # listed once, above
    loaded = page.split('id="plugins"')[1].split("</table>")[0]
    assert "<td>fits</td>" in loaded and "<td>too_new</td>" not in loaded
