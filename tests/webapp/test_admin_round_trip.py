"""Every administration edit form, opened and saved unchanged, changes nothing.

The form is read like a browser reads it (selected options, checked boxes, input
values; a select with nothing selected sends its first option), posted back, and
every table is compared before and after.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from helpdesk_core.models import (Asset, AssetCheck, Base, CalendarDay, SlaPolicy,
                                  StudentAssignment)
from tests.webapp.html_forms import post_form
from webapp.extensions import db

# The admin routes that edit an existing row, and the cases below that cover them.
EDIT_ENDPOINTS = {"admin.ward_edit", "admin.user_edit", "admin.assignment_edit",
                  "admin.asset_edit", "admin.check_edit", "admin.sla_edit"}


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    with app.app_context():
        conn = db.session.connection()
        tables = {t.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(t)))
                  for t in Base.metadata.sorted_tables}
        db.session.rollback()
        return tables


def round_trip(app, client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200, path
    fields = post_form(page.get_data(as_text=True), action=path)
    before = snapshot(app)
    response = client.post(path, data=MultiDict(fields))
    body = response.get_data(as_text=True)
    errors = re.findall(r'class="error[^"]*"[^>]*>([^<]*)', body)
    assert response.status_code == 302, (path, fields, errors)
    after = snapshot(app)
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed, (path, fields, changed)


@pytest.fixture
def admin_client(client, login):
    login("admin")
    return client


@pytest.fixture
def extra_rows(app, world):
    """A calendar day, an SLA policy and a networked asset of ward A."""
    with app.app_context():
        s = db.session
        day = CalendarDay(ward_id=world.ward_a, day=dt.date(2026, 4, 30), is_working=False,
                          note="Nghỉ lễ")
        policy = SlaPolicy(priority=2, category="printer", response_minutes=30,
                           resolution_minutes=240, escalate_on_breach=True)
        router = Asset(ward_id=world.ward_a, category="network", kind="router",
                       name="Router tầng 1", location="Tầng 1", address="127.0.0.1",
                       criticality="high")
        s.add_all([day, policy, router])
        s.commit()
        return {"policy": policy.id, "router": router.id, "day": day.id}


def test_the_cases_cover_every_edit_route(app):
    """A new edit route must join the round trip below."""
    edits = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("admin.") and "POST" in rule.methods
             and "GET" in rule.methods and rule.arguments}
    assert edits == EDIT_ENDPOINTS


def test_ward_form_saves_unchanged(app, world, admin_client):
    round_trip(app, admin_client, f"/admin/wards/{world.ward_a}")


@pytest.mark.parametrize("who", ["staff_a", "student_a", "coordinator", "admin"])
def test_user_form_saves_unchanged(app, world, admin_client, who):
    round_trip(app, admin_client, f"/admin/users/{world.user_ids[who]}")


def test_placement_form_saves_unchanged(app, world, admin_client):
    with app.app_context():
        ids = db.session.scalars(select(StudentAssignment.id)).all()
    for ident in ids:
        round_trip(app, admin_client, f"/admin/assignments/{ident}")


def test_asset_forms_save_unchanged(app, world, extra_rows, admin_client):
    for ident in (world.printer_a, world.printer_b, extra_rows["router"]):
        round_trip(app, admin_client, f"/admin/assets/{ident}")


def test_asset_ward_is_selected(app, world, admin_client):
    body = admin_client.get(f"/admin/assets/{world.printer_a}").get_data(as_text=True)
    assert ("ward", str(world.ward_a)) in post_form(body)


def test_sla_policy_form_saves_unchanged(app, world, extra_rows, admin_client):
    round_trip(app, admin_client, f"/admin/sla/{extra_rows['policy']}")


def test_every_check_type_saves_unchanged(app, world, extra_rows, admin_client, registry):
    """Each plugin's check settings, created through the form, then saved unchanged."""
    router = extra_rows["router"]
    for check_type in registry.check_types:
        new = f"/admin/assets/{router}/checks/new?type={check_type}"
        fields = dict(post_form(admin_client.get(new).get_data(as_text=True)))
        if not fields.get("config-port"):
            fields["config-port"] = "80"
        for required, value in (("config-keyword", "Đăng nhập"), ("config-path", "/status")):
            if required in fields and not fields[required]:
                fields[required] = value  # settings without a default (egov_page's keyword)
        assert admin_client.post(new, data=fields).status_code == 302, check_type
    with app.app_context():
        checks = db.session.scalars(select(AssetCheck.id)
                                    .where(AssetCheck.asset_id == router)).all()
    assert len(checks) == len(registry.check_types)
    for ident in checks:
        round_trip(app, admin_client, f"/admin/checks/{ident}")


def test_calendar_day_form_keeps_the_ward(app, world, admin_client):
    """The calendar adds days (no edit route): its ward select starts on city-wide."""
    fields = post_form(admin_client.get("/admin/calendar").get_data(as_text=True))
    assert ("ward", "") in fields


def test_notification_forms_save_unchanged(app, world, admin_client, registry):
    """The e-mail channel's settings (a secret among them) and a webhook endpoint."""
    from helpdesk_core.models import WebhookEndpoint
    from helpdesk_core.services import channel_settings, webhooks
    with app.app_context():
        key = app.config["SECRET_KEY"]
        channel_settings.save_settings(
            db.session, registry, "email",
            {"host": "smtp.danang.test", "port": 587, "security": "starttls",
             "username": "helpdesk", "password": "mật khẩu", "from_address": "hd@danang.test",
             "from_name": "Hỗ trợ phường", "ca_file": ""}, key)
        endpoint = webhooks.save_endpoint(
            db.session, key, name="Tổng đài 1022", url="https://1022.danang.test/hook",
            secret="s" * 24, kinds=["sla_breach"], all_wards=False, ward_ids=[world.ward_a])
        db.session.commit()
        ident = endpoint.id
    round_trip(app, admin_client, "/admin/notifications/channels/email")
    round_trip(app, admin_client, f"/admin/notifications/webhooks/{ident}")
    with app.app_context():
        assert channel_settings.settings_of(db.session, registry, "email",
                                            key)["password"] == "mật khẩu"
        assert db.session.get(WebhookEndpoint, ident).ward_ids == [world.ward_a]
