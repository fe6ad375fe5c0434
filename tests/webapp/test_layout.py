"""The base layout's kept parts (webapp/layout.py): one per language and role, and what
each page of that language and role would have rendered itself."""

from __future__ import annotations

import re


def _nav(html: str) -> str:
    return re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S).group(1)


def test_each_role_gets_its_own_menu(app, login, client):
    login("student_a")
    student = _nav(client.get("/tickets/queue").get_data(as_text=True))
    login("coordinator")
    coordinator = _nav(client.get("/tickets/queue").get_data(as_text=True))
    login("staff_a")
    staff = _nav(client.get("/tickets/").get_data(as_text=True))
    assert "/dashboard/" not in student and "/dashboard/" in coordinator
    assert "/tickets/new" in staff and "/tickets/queue" not in staff
    keys = {key for key in app.extensions["layout_parts"] if key[0] == "nav"}
    assert {key[2] for key in keys} == {"student", "coordinator", "staff"}


def test_each_language_gets_its_own_menu(app, login, client):
    login("student_a")
    vietnamese = _nav(client.get("/tickets/queue").get_data(as_text=True))
    client.post("/language/en", data={"next": "/tickets/queue"})
    english = _nav(client.get("/tickets/queue").get_data(as_text=True))
    assert ">Queue</a>" in english and ">Queue</a>" not in vietnamese
    assert {key[1] for key in app.extensions["layout_parts"] if key[0] == "nav"} == {"vi", "en"}


def test_a_kept_part_is_what_the_page_renders_afresh(app, login, client):
    login("coordinator")
    client.get("/tickets/queue")  # the part is kept now
    kept = client.get("/tickets/queue").get_data(as_text=True)
    app.extensions["layout_parts"].clear()
    assert client.get("/tickets/queue").get_data(as_text=True).replace(
        'value="', "").count("<a ") == kept.replace('value="', "").count("<a ")
    assert _nav(client.get("/tickets/queue").get_data(as_text=True)) == _nav(kept)
    head = re.search(r"</title>(.*?)</head>", kept, re.S).group(1)
    assert 'href="/static/app.css"' in head and "/static/pwa.js" in head


def test_nothing_is_kept_while_templates_reload(app, login, client):
    login("student_a")
    app.jinja_env.auto_reload = True
    try:
        app.extensions["layout_parts"].clear()
        assert client.get("/tickets/queue").status_code == 200
        assert not [key for key in app.extensions["layout_parts"] if key[0] != "url"]
    finally:
        app.jinja_env.auto_reload = False


def test_the_layout_links_are_the_routes(app, login, client):
    login("student_a")
    html = client.get("/tickets/queue").get_data(as_text=True)
    with app.test_request_context("/"):
        from flask import url_for
        for url in (url_for("main.home"), url_for("profile.edit"), url_for("auth.logout"),
                    url_for("auth.set_language", locale="en"),
                    url_for("static", filename="app.js")):
            assert f'"{url}"' in html, url
