"""Login rate limits: failures only, per account and (with a higher ceiling) per address,
behind a configured number of trusted proxies."""

from __future__ import annotations

import pytest

from helpdesk_core.models import User
from tests.factories import PASSWORD
from tests.webapp.admin.conftest import build_world
from webapp.extensions import db, limiter


@pytest.fixture
def limited(make_app):
    """``limited(**config)``: an app with rate limiting on, its world and login names."""

    def build(**config):
        app = make_app(RATELIMIT_ENABLED=True, **config)
        with app.app_context():
            limiter.reset()
            world = build_world(db.session, app.extensions["helpdesk"])
            names = {key: db.session.get(User, getattr(world, key)).login
                     for key in ("coordinator", "staff_a", "admin")}
        return app, names
    return build


def _post(client, login: str, password: str, address: str = "198.51.100.7", **headers):
    return client.post("/login", data={"login": login, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_failures_for_made_up_names_do_not_lock_out_an_office(limited):
    app, names = limited()  # the shipped limits
    client = app.test_client()
    for attempt in range(10):
        assert _post(client, f"khong.co{attempt}", "doan-bua").status_code == 200
    assert _post(client, names["coordinator"], PASSWORD).status_code == 302


def test_one_address_still_has_a_ceiling(limited):
    app, names = limited(LOGIN_RATE_LIMIT_ADDRESS="5 per minute",
                         LOGIN_RATE_LIMIT_ACCOUNT="3 per minute")
    client = app.test_client()
    for attempt in range(5):
        assert _post(client, f"khong.co{attempt}", "doan-bua").status_code == 200
    assert _post(client, names["coordinator"], PASSWORD).status_code == 429
    assert _post(client, names["coordinator"], PASSWORD,
                 address="198.51.100.8").status_code == 302


def test_an_account_locks_after_failures_from_many_addresses(limited):
    app, names = limited(LOGIN_RATE_LIMIT_ACCOUNT="3 per minute",
                         LOGIN_RATE_LIMIT_ADDRESS="50 per minute")
    client = app.test_client()
    for attempt in range(3):
        page = _post(client, names["staff_a"], "doan-bua", address=f"203.0.113.{attempt}")
        assert page.status_code == 200
    locked = _post(client, names["staff_a"].upper() + " ", PASSWORD, address="203.0.113.99")
    assert locked.status_code == 429
    assert "Quá nhiều lần thử" in locked.get_data(as_text=True)
    assert _post(client, names["coordinator"], PASSWORD, address="203.0.113.0").status_code == 302


def test_successful_logins_do_not_count(limited):
    app, names = limited(LOGIN_RATE_LIMIT_ACCOUNT="2 per minute",
                         LOGIN_RATE_LIMIT_ADDRESS="2 per minute")
    client = app.test_client()
    for _ in range(11):  # more than any limit here, or than the whole old one (10)
        assert _post(client, names["admin"], PASSWORD).status_code == 302
        client.post("/logout")
    assert _post(client, names["admin"], "doan-bua").status_code == 200


def test_forwarded_for_is_ignored_without_trusted_proxies(limited):
    app, names = limited(LOGIN_RATE_LIMIT_ADDRESS="3 per minute",
                         LOGIN_RATE_LIMIT_ACCOUNT="50 per minute")
    client = app.test_client()
    for attempt in range(3):
        page = _post(client, f"khong.co{attempt}", "doan-bua", address="192.0.2.1",
                     **{"X-Forwarded-For": f"10.0.0.{attempt}"})
        assert page.status_code == 200
    refused = _post(client, names["admin"], PASSWORD, address="192.0.2.1",
                    **{"X-Forwarded-For": "10.0.0.200"})
    assert refused.status_code == 429


def test_forwarded_for_names_the_client_behind_a_trusted_proxy(limited):
    app, names = limited(LOGIN_RATE_LIMIT_ADDRESS="3 per minute",
                         LOGIN_RATE_LIMIT_ACCOUNT="50 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()
    for attempt in range(3):
        page = _post(client, f"khong.co{attempt}", "doan-bua", address="192.0.2.1",
                     **{"X-Forwarded-For": "10.0.0.1"})
        assert page.status_code == 200
    assert _post(client, names["admin"], PASSWORD, address="192.0.2.1",
                 **{"X-Forwarded-For": "10.0.0.1"}).status_code == 429
    # Another office behind the same proxy; a spoofed first hop is not believed.
    assert _post(client, names["admin"], PASSWORD, address="192.0.2.1",
                 **{"X-Forwarded-For": "10.0.0.1, 10.0.0.2"}).status_code == 302
