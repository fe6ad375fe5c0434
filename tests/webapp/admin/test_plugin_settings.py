"""Plugin settings (helpdesk_register_settings): typed and validated by the plugin's form,
edited by administrators at /admin/plugins/<name>, stored in plugin_setting, secrets
never shown back, read by the plugin with one call."""

from __future__ import annotations

import re

import pytest
from wtforms import Form, StringField

from helpdesk_core import hookimpl, plugin_settings
from helpdesk_core.errors import NotFound, PluginError, ValidationFailed
from helpdesk_core.models import PluginSetting
from helpdesk_core.plugins import PluginRegistry
from helpdesk_core.services import plugin_settings as service

from ..pagetest_site import installed

SECRET = "s3cret-token-value"


@pytest.fixture
def pagetest(tmp_path):
    yield from installed(tmp_path / "site")


@pytest.fixture
def app(pagetest, app):
    return app


def text(response) -> str:
    return response.get_data(as_text=True)


def stored(app) -> dict | None:
    from webapp.extensions import db
    with app.app_context():
        row = db.session.get(PluginSetting, "pagetest")
        return dict(row.settings) if row is not None else None


VALID = {"greeting": "Chào buổi sáng", "per_page": "25", "loud": "y", "api_key": SECRET}


def test_hook_helpdesk_register_settings(app, logged_in):
    registry = app.extensions["helpdesk"]
    assert registry.settings_forms["pagetest"].__name__ == "PagetestSettings"
    admin = logged_in("admin")
    html = text(admin.get("/admin/plugins"))
    assert 'href="/admin/plugins/pagetest"' in html  # the plugin list links its settings
    html = text(admin.get("/admin/plugins/pagetest"))
    assert 'value="Xin chào"' in html and 'value="10"' in html  # the form's defaults
    response = admin.post("/admin/plugins/pagetest/settings", data=VALID)
    assert response.status_code == 302
    assert stored(app) == {"greeting": "Chào buổi sáng", "per_page": 25, "loud": True,
                           "api_key": SECRET}
    # The plugin reads them: on its pages, and anywhere with plugin_settings().
    staff = logged_in("staff")
    html = text(staff.get("/p/pagetest/"))
    assert "Chào buổi sáng" in html and 'id="elsewhere">25<' in html
    with app.app_context():
        assert plugin_settings("pagetest")["api_key"] == SECRET
    assert plugin_settings("pagetest")["per_page"] == 25  # outside a request too


def test_a_secret_is_never_shown_and_kept_when_left_empty(app, logged_in):
    admin = logged_in("admin")
    admin.post("/admin/plugins/pagetest/settings", data=VALID)
    html = text(admin.get("/admin/plugins/pagetest"))
    assert SECRET not in html
    assert re.search(r'<input[^>]*name="api_key"[^>]*type="password"[^>]*value=""', html) \
        or re.search(r'<input[^>]*id="api_key"[^>]*name="api_key"[^>]*type="password"', html)
    response = admin.post("/admin/plugins/pagetest/settings",
                          data=dict(VALID, greeting="Chào", api_key=""))
    assert response.status_code == 302
    assert stored(app)["api_key"] == SECRET and stored(app)["greeting"] == "Chào"


@pytest.mark.parametrize("changes, field", [
    ({"per_page": "0"}, "per_page"), ({"per_page": "many"}, "per_page"),
    ({"greeting": ""}, "greeting"), ({"greeting": "x" * 31}, "greeting"),
    ({"api_key": "k" * 65}, "api_key"),
])
def test_invalid_settings_are_refused_with_the_form_back(app, logged_in, changes, field):
    admin = logged_in("admin")
    response = admin.post("/admin/plugins/pagetest/settings", data=dict(VALID, **changes))
    assert response.status_code == 200
    html = text(response)
    assert f'id="{field}-err"' in html
    if field == "greeting" and changes["greeting"]:
        assert changes["greeting"] in html  # what was typed is kept
    assert SECRET not in html and "k" * 65 not in html  # secrets are never sent back
    assert stored(app) is None  # nothing saved


def test_only_administrators_edit_settings(app, logged_in, client):
    for role in ("staff", "student", "coordinator"):
        assert logged_in(role).get("/admin/plugins/pagetest").status_code == 403
        assert logged_in(role).post("/admin/plugins/pagetest/settings",
                                    data=VALID).status_code == 403
    assert client.get("/admin/plugins/pagetest").status_code == 302  # to the login
    assert stored(app) is None


@pytest.mark.parametrize("name", ["nobody", "x" * 300, "%00", "pagetest%2F..", "None"])
def test_settings_of_a_plugin_not_loaded_are_not_found(logged_in, name):
    admin = logged_in("admin")
    assert admin.get(f"/admin/plugins/{name}").status_code == 404
    assert admin.post(f"/admin/plugins/{name}/settings", data=VALID).status_code == 404


def test_a_plugin_without_settings_says_so(app, logged_in):
    admin = logged_in("admin")
    for response in (admin.get("/admin/plugins/printer"),
                     admin.post("/admin/plugins/printer/settings", data=VALID)):
        assert response.status_code == 200
        assert 'id="no-settings"' in text(response)
        assert 'action="/admin/plugins/printer/settings"' not in text(response)
    from webapp.extensions import db
    with app.app_context():
        assert db.session.get(PluginSetting, "printer") is None


def test_settings_form_needs_the_csrf_token(app, logged_in):
    admin = logged_in("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin.post("/admin/plugins/pagetest/settings", data=VALID).status_code == 400
    html = text(admin.get("/admin/plugins/pagetest"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = admin.post("/admin/plugins/pagetest/settings", data=dict(VALID, csrf_token=token))
    assert response.status_code == 302 and stored(app)["per_page"] == 25


# --- the service, without the web ----------------------------------------------------

class Small(Form):
    colour = StringField("Colour", default="blue")


class WithSettings:
    @hookimpl
    def helpdesk_register_settings(self):
        return Small


def test_service_reads_defaults_validates_and_keeps_unknown_fields_out(db_session, pm):
    pm.register(WithSettings(), name="small")
    registry = PluginRegistry(pm)
    assert service.settings_of(db_session, registry, "small") == {"colour": "blue"}
    service.save_settings(db_session, registry, "small", {"colour": "red", "extra": 1})
    assert service.settings_of(db_session, registry, "small") == {"colour": "red"}
    with pytest.raises(NotFound):
        service.settings_of(db_session, registry, "nobody")


def test_an_invalid_settings_form_stops_startup_naming_the_plugin(pm):
    class Bad:
        @hookimpl
        def helpdesk_register_settings(self):
            return {"colour": "blue"}

    pm.register(Bad(), name="badsettings")
    with pytest.raises(PluginError) as error:
        PluginRegistry(pm)
    assert "badsettings" in str(error.value)


def test_service_refuses_invalid_data(db_session, pm):
    class Strict(Form):
        from wtforms.validators import DataRequired
        colour = StringField("Colour", validators=[DataRequired()])

    class Plugin:
        @hookimpl
        def helpdesk_register_settings(self):
            return Strict

    pm.register(Plugin(), name="strict")
    with pytest.raises(ValidationFailed) as error:
        service.save_settings(db_session, PluginRegistry(pm), "strict", {"colour": ""})
    assert "colour" in error.value.field_errors


def test_plugin_settings_needs_a_running_app(monkeypatch):
    from helpdesk_core import settings
    monkeypatch.setattr(settings, "_reader", [])
    with pytest.raises(RuntimeError):
        plugin_settings("pagetest")
