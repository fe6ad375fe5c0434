"""Notifications in the web app: channel settings (secrets encrypted, never shown back),
a test message to the administrator's own address delivered to a real SMTP server, the
outbox with filters and retry, webhook endpoints, and each user's choices on /profile/."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk_core.models import (ChannelSetting, Notification, NotificationPreference,
                                  NotificationStatus as NS, User, WebhookEndpoint)

from webapp import notify

from plugins.notify import mail


@pytest.fixture(autouse=True)
def no_kept_connections(smtp_server):  # torn down before the servers stop
    yield
    mail._pool.close_all()


def text(response) -> str:
    return response.get_data(as_text=True)


def db():
    from webapp.extensions import db as database
    return database


def test_email_settings_are_encrypted_and_a_test_reaches_the_admin(app, logged_in, accounts,
                                                                   smtp_server):
    server = smtp_server()
    admin = logged_in("admin")
    assert admin.post("/profile/", data={"email": "quantri@danang.test", "phone": ""}
                      ).status_code == 302
    page = text(admin.get("/admin/notifications/channels/email"))
    assert 'name="host"' in page and 'name="password"' in page
    response = admin.post("/admin/notifications/channels/email", data={
        "host": "127.0.0.1", "port": str(server.port), "security": "none",
        "username": "", "password": "mật-khẩu-smtp", "from_address": "helpdesk@danang.test",
        "from_name": "Trợ giúp phường", "ca_file": ""})
    assert response.status_code == 302
    with app.app_context():
        stored = db().session.get(ChannelSetting, "email").settings
    assert stored["password"].startswith("enc:") and "mật-khẩu" not in repr(stored)
    page = text(admin.get("/admin/notifications/channels/email"))
    assert "mật-khẩu-smtp" not in page and "127.0.0.1" in page  # the secret is never shown
    assert admin.post("/admin/notifications/channels/email/test").status_code == 302
    report = notify.drain(app)
    assert report.sent == 1, report.errors
    [got] = server.messages
    assert got.rcpt_tos == ["quantri@danang.test"]
    page = text(admin.get("/admin/notifications/outbox?kind=test&status=sent"))
    assert page.count("<tr>") == 2  # the header and the one test


def test_a_dead_letter_shows_its_error_and_can_be_retried(app, logged_in, accounts, clock):
    admin = logged_in("admin")
    with app.app_context():
        from helpdesk_core.services import outbox
        user = db().session.get(User, accounts.ids["coordinator"])
        row = outbox.send_test(db().session, app.extensions["helpdesk"], "email", "x@y.vn",
                               clock(), user_id=user.id)
        row.status, row.attempts, row.last_error = NS.DEAD, 8, "SMTP 550: Mailbox unavailable"
        db().session.commit()
        row_id = row.id
    page = text(admin.get("/admin/notifications/outbox?status=dead&channel=email"))
    assert "SMTP 550: Mailbox unavailable" in page and f"/outbox/{row_id}/retry" in page
    assert text(admin.get("/admin/notifications/outbox?status=sent")).count(
        "SMTP 550") == 0  # the filter filters
    assert admin.post(f"/admin/notifications/outbox/{row_id}/retry").status_code == 302
    with app.app_context():
        again = db().session.get(Notification, row_id)
        assert (again.status, again.attempts) == (NS.QUEUED, 0)
    assert admin.post(f"/admin/notifications/outbox/{row_id}/retry").status_code == 302


def test_webhook_endpoints_are_added_without_showing_the_secret(app, logged_in, accounts,
                                                                ward, http_server):
    admin = logged_in("admin")
    secret = "a-long-shared-secret-1022"
    bad = admin.post("/admin/notifications/webhooks", data={
        "name": "Tổng đài 1022", "url": "ftp://x", "secret": "short", "kinds": []})
    assert bad.status_code == 400
    page = text(bad)
    assert "Tổng đài 1022" in page  # nothing typed is lost
    response = admin.post("/admin/notifications/webhooks", data={
        "name": "Tổng đài 1022", "url": http_server.url("/hook"), "secret": secret,
        "kinds": ["sla_breach", "escalated"], "wards": [str(ward.id)], "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        endpoint = db().session.scalars(select(WebhookEndpoint)).one()
        assert endpoint.ward_ids == [ward.id] and not endpoint.all_wards
        assert secret not in endpoint.secret
        endpoint_id = endpoint.id
    page = text(admin.get(f"/admin/notifications/webhooks/{endpoint_id}"))
    assert secret not in page and "Tổng đài 1022" in page
    assert admin.post(f"/admin/notifications/webhooks/{endpoint_id}/test").status_code == 302
    assert notify.drain(app).sent == 1
    assert http_server.requests[0].headers["X-Helpdesk-Event"] == "test"
    assert admin.post(f"/admin/notifications/webhooks/{endpoint_id}/delete").status_code == 302
    with app.app_context():
        assert db().session.scalars(select(WebhookEndpoint)).all() == []


def test_each_user_chooses_what_they_get(app, logged_in, accounts):
    student = logged_in("student")
    page = text(student.get("/profile/"))
    assert 'name="notify-email-ticket_new"' in page and "checked" in page  # defaults: on
    response = student.post("/profile/notifications", data={
        "notify-email-ticket_urgent": "1", "notify-email-sla_breach": "1"})
    assert response.status_code == 302
    with app.app_context():
        prefs = {(p.channel, p.kind): p.enabled for p in db().session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id == accounts.ids["student"]))}
    assert prefs[("email", "ticket_urgent")] and prefs[("email", "sla_breach")]
    assert not prefs[("email", "ticket_new")]
    page = text(student.get("/profile/"))
    assert 'name="notify-email-ticket_new" value="1" aria' in page  # unchecked now
    assert 'name="notify-email-ticket_urgent" value="1" checked' in page


def test_only_administrators_see_the_outbox(logged_in):
    for role in ("staff", "student", "coordinator"):
        assert logged_in(role).get("/admin/notifications/outbox").status_code == 403
