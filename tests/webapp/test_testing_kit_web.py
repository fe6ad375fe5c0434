"""The testing kit's web fixtures: the app's frozen clock, a ward, a client per role."""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.testing import FIXED_NOW


def test_the_app_reads_the_frozen_clock(app, clock):
    from webapp import web
    with app.test_request_context():
        assert web.now() == FIXED_NOW
        clock.advance(days=1)
        assert web.now() == FIXED_NOW + dt.timedelta(days=1)
        assert web.today() == dt.date(2026, 3, 11)


@pytest.mark.parametrize(("role", "page", "allowed"), [
    ("staff", "/tickets/new", 200), ("student", "/tickets/queue", 200),
    ("coordinator", "/admin/", 403), ("admin", "/admin/", 200),
])
def test_logged_in_gives_a_client_per_role(logged_in, accounts, ward, role, page, allowed):
    client = logged_in(role)
    assert client.get(page).status_code == allowed
    assert accounts.logins[role] == f"kit.{role}" and ward.code == "KIT"


def test_anonymous_client_is_sent_to_the_login(client):
    assert client.get("/tickets/new").status_code == 302
