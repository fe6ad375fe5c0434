"""Plugin pages (helpdesk_register_pages): mounted under /p/<plugin>/ behind the login,
the roles and the wards in scope, in the app's layout, CSRF on POST, each in a guard."""

from __future__ import annotations

import re

import pytest

from helpdesk_core.errors import PluginError
from helpdesk_core.pages import Page, PageRequest, Render
from helpdesk_core.plugins import PluginRegistry

from .pagetest_site import installed


@pytest.fixture
def pagetest(tmp_path):
    yield from installed(tmp_path / "site")


@pytest.fixture
def app(pagetest, app):  # the kit's app, built while the test plugin is installed
    return app


def text(response) -> str:
    return response.get_data(as_text=True)


def test_hook_helpdesk_register_pages(app):
    registry = app.extensions["helpdesk"]
    pages = {p.key: p for p in registry.pages["pagetest"]}
    assert pages["ward"].path == "/wards/<int:ward_id>"
    rules = {r.rule: r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/p/")}
    assert rules["/p/pagetest/"] == "plugin_pagetest.home"
    assert rules["/p/pagetest/wards/<int:ward_id>"] == "plugin_pagetest.ward"


def test_anonymous_is_sent_to_the_login(client):
    response = client.get("/p/pagetest/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_page_in_the_layout_with_the_user_and_the_wards_in_scope(login, world, client):
    login("staff_a")
    html = text(client.get("/p/pagetest/"))
    assert 'id="pagetest">Xin chào, ' + world.logins["staff_a"] in html
    assert re.search(r'id="wards">[A-Z0-9]+</p>', html)  # ward A only
    assert 'id="everywhere">False' in html
    assert 'class="topbar"' in html  # base.html: the app's layout and menu
    login("coordinator")
    html = text(client.get("/p/pagetest/"))
    assert 'id="everywhere">True' in html and html.count(",") >= 1


def test_outside_the_wards_in_scope_is_not_found(login, world, client):
    login("staff_a")
    assert client.get(f"/p/pagetest/wards/{world.ward_a}").status_code == 200
    assert client.get(f"/p/pagetest/wards/{world.ward_b}").status_code == 404
    login("student_expired")  # no placement today: no ward at all
    assert client.get(f"/p/pagetest/wards/{world.ward_a}").status_code == 404
    login("admin")
    assert client.get(f"/p/pagetest/wards/{world.ward_b}").status_code == 200


def test_roles_the_page_does_not_name_get_403(login, client):
    login("coordinator")
    assert client.get("/p/pagetest/admins").status_code == 403
    login("admin")
    assert client.get("/p/pagetest/admins").status_code == 200


def test_nav_links_for_the_roles_the_plugin_chose(login, client):
    login("staff_a")
    html = text(client.get("/", follow_redirects=True))
    assert 'href="/p/pagetest/">Pagetest</a>' in html and "Pagetest admin" not in html
    login("admin")
    html = text(client.get("/", follow_redirects=True))
    assert 'href="/p/pagetest/admins">Pagetest admin</a>' in html


@pytest.mark.parametrize("path, stage", [("/p/pagetest/boom", "page:boom"),
                                         ("/p/pagetest/garbage", "page:garbage"),
                                         ("/p/pagetest/outside", "page:outside"),
                                         ("/p/pagetest/away?to=//elsewhere.example", "page:away"),
                                         ("/p/pagetest/away?to=/%09/elsewhere.example", "page:away"),
                                         ("/p/pagetest/away?to=/%5Celsewhere.example", "page:away")])
def test_a_broken_page_is_a_500_for_that_page_only_and_recorded(app, login, client, path, stage):
    registry = app.extensions["helpdesk"]
    login("staff_a")
    response = client.get(path)
    assert response.status_code == 500
    assert 'class="topbar"' in text(response)  # the app's error page, no traceback
    assert "Traceback" not in text(response)
    [failure] = [f for f in registry.failures if f.stage == stage]
    assert failure.plugin == "pagetest"
    assert client.get("/p/pagetest/").status_code == 200  # the other pages still work
    assert client.get("/", follow_redirects=True).status_code == 200
    login("admin")
    assert stage in text(client.get("/admin/plugins"))


def test_redirect_stays_on_this_site(login, client):
    login("staff_a")
    assert client.get("/p/pagetest/away").headers["Location"] == "/p/pagetest/"
    assert client.get("/p/pagetest/away?to=/tickets").headers["Location"] == "/tickets"


@pytest.mark.parametrize("path", ["/p/pagetest/wards/abc", "/p/pagetest/wards/-1",
                                  "/p/pagetest/wards/99999999999999999999999",
                                  "/p/pagetest/wards/1/../../admin", "/p/pagetest/nope",
                                  "/p/nobody/", "/p/pagetest/%00", "/p/pagetest/?%ff=%fe"])
def test_hostile_addresses_are_404_or_the_page(login, client, path):
    login("staff_a")
    assert client.get(path).status_code in (200, 404)


def test_post_form_validates_with_the_errors_back(login, client):
    login("staff_a")
    response = client.post("/p/pagetest/notes", data={"note": "x" * 41})
    assert response.status_code == 422 and "x" * 41 in text(response)
    response = client.post("/p/pagetest/notes", data={"note": "ổn"})
    assert response.status_code == 302 and response.headers["Location"] == "/p/pagetest/"
    assert client.post("/p/pagetest/").status_code == 405  # GET-only page


def test_post_needs_the_csrf_token(app, login, client):
    login("staff_a")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/p/pagetest/notes", data={"note": "ổn"}).status_code == 400
    html = text(client.get("/p/pagetest/notes"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/p/pagetest/notes", data={"note": "ổn", "csrf_token": token})
    assert response.status_code == 302


def _registry_with(pm, pages) -> PluginRegistry:
    class Bad:
        from helpdesk_core import hookimpl

        @hookimpl
        def helpdesk_register_pages(self):
            return pages

    pm.register(Bad(), name="bad")
    return PluginRegistry(pm)


@pytest.mark.parametrize("pages", [
    [Page("x", "../admin", lambda r: None)],
    [Page("x", "/a/<path:rest>", lambda r: None)],
    [Page("x", "/", lambda r: None, methods=("DELETE",))],
    [Page("x", "/", lambda r: None, roles=("root",))],
    [Page("X Y", "/", lambda r: None)],
    [Page("x", "/", "not callable")],
    [Page("x", "/", lambda r: None), Page("x", "/other", lambda r: None)],
    ["not a page"],
])
def test_an_invalid_page_stops_startup_naming_the_plugin(pm, pages):
    with pytest.raises(PluginError) as error:
        _registry_with(pm, pages)
    assert "bad" in str(error.value)


def test_page_request_checks_the_ward():
    request = PageRequest(plugin="p", user=None, ward_ids=frozenset({1}), wards=[],
                          session=None, method="GET", args={}, form={}, settings={},
                          now=None, registry=None)
    assert request.in_scope(1) and not request.in_scope(2) and not request.in_scope(None)
    request.check_ward(1)
    from helpdesk_core.errors import NotFound
    with pytest.raises(NotFound):
        request.check_ward(2)
    assert Render("p/x.html").status == 200
