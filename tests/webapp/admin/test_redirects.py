"""Redirects that take a target from the request (``next``, the Referer) stay on the site."""

from __future__ import annotations

import functools
import unicodedata
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from helpdesk_core.models import Role, User
from helpdesk_core.services import users
from tests.factories import PASSWORD
from webapp.extensions import db
from webapp.web import local_target

HOSTILE = [
    "//evil.example/phish",
    "///evil.example/phish",
    "////evil.example",
    "/\t/evil.example/phish",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example/",
    "http://localhost.evil.example/",
    "http://localhost@evil.example/",
    "https:evil.example",
    "//localhost@evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%09/evil.example",
    "/%0a/x",
    "/%5Cevil.example",
    "/%5c%5cevil.example",
    "/%252F/evil.example",
    "/%25252525252F/evil.example",
    "/\u2028/evil.example",
    "/\u0000/evil.example",
    "/\u200b/evil.example",
    "\uff0f\uff0fevil.example",
    "/\uff0fevil.example",
    "/\uff3cevil.example",
    "evil.example",
    "",
]
SAFE = ["/tickets/", "/tickets/?status=new&page=2", "/tickets/?q=m%C3%A1y+in", "/admin/users/3"]


@functools.cache
def _hash() -> str:
    return users.hash_password(PASSWORD)  # slow by design: once for the whole module


@pytest.fixture
def coordinator(app) -> str:
    with app.app_context():
        db.session.add(User(login="dieuphoi.thu", name="Điều phối", role=Role.COORDINATOR,
                            password_hash=_hash()))
        db.session.commit()
    return "dieuphoi.thu"


def _stays_on_site(location: str) -> bool:
    """Where a browser would go: tabs and newlines dropped, backslashes read as slashes."""
    if "\\" in location or any(unicodedata.category(ch)[0] in "CZ" and ch != " "
                               for ch in location):
        return False
    target = urlsplit(urljoin("http://localhost/login", location))
    return (target.scheme, target.netloc) == ("http", "localhost")


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_sends_elsewhere(client, coordinator, target):
    response = client.post("/login?" + urlencode({"next": target}),
                           data={"login": coordinator, "password": PASSWORD})
    if "\x00" in target:  # a NUL in any query string is refused at the door (input_guard)
        assert response.status_code == 400
        return
    assert response.status_code == 302
    assert _stays_on_site(response.headers["Location"])
    assert response.headers["Location"] == "/"


def test_login_with_a_raw_tab_or_newline_in_next(client, coordinator):
    for query in ("next=/%09/evil.example/phish", "next=/%0a/x", "next=/%0d%0aSet-Cookie:x=1"):
        response = client.post("/login?" + query,
                               data={"login": coordinator, "password": PASSWORD})
        assert response.status_code == 302 and response.headers["Location"] == "/", query
        client.post("/logout")


@pytest.mark.parametrize("target", SAFE)
def test_login_follows_a_page_of_the_site(client, coordinator, target):
    response = client.post("/login?" + urlencode({"next": target}),
                           data={"login": coordinator, "password": PASSWORD})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_never_sends_elsewhere(client, target):
    by_form = client.post("/language/en", data={"next": target})
    assert by_form.status_code == 302 and by_form.headers["Location"] == "/"
    if "\n" not in target and "\r" not in target:  # no header can carry a line break
        by_referrer = client.post("/language/en", headers={"Referer": target})
        assert by_referrer.status_code == 302 and by_referrer.headers["Location"] == "/"


@pytest.mark.parametrize("target", SAFE)
def test_language_switch_returns_to_the_page(client, target):
    assert client.post("/language/vi", data={"next": target}).headers["Location"] == target
    back = client.post("/language/vi", headers={"Referer": "http://localhost" + target})
    assert back.headers["Location"] == target


@pytest.mark.parametrize("target", HOSTILE + ["/\x7f/evil.example", "/\u0085/evil.example"])
def test_local_target_refuses_every_hostile_value(target):
    assert local_target(target) is None


@pytest.mark.parametrize("target", SAFE)
def test_local_target_keeps_pages_of_the_site(target):
    assert local_target(target) == target
