"""Who may open what: every route of the app times every role, against an explicit table.

A route nobody wrote an expectation for fails the test, so new pages get one.
URL parameters point at real objects of ward A.
"""

from __future__ import annotations

import pytest

from tests.webapp.admin.conftest import login_as
from webapp import api

OK, LOGIN, FORBIDDEN, MISSING = "ok", "login", 403, 404
ROLES = ("anonymous", "staff_a", "staff_b", "student_a", "student_expired", "coordinator",
         "admin")  # admin last: it may delete what the URL points at

PUBLIC = dict.fromkeys(ROLES, OK)
SIGNED_IN = dict(PUBLIC, anonymous=LOGIN)
COORDINATORS = dict(SIGNED_IN, staff_a=FORBIDDEN, staff_b=FORBIDDEN, student_a=FORBIDDEN,
                    student_expired=FORBIDDEN)
ADMINS = dict(COORDINATORS, coordinator=FORBIDDEN)
WARD_A_ONLY = dict(SIGNED_IN, staff_b=MISSING, student_expired=MISSING)
WORKERS = dict(SIGNED_IN, staff_a=FORBIDDEN, staff_b=FORBIDDEN)  # the students' queue
FRONT_DESK = dict(SIGNED_IN, student_a=FORBIDDEN, student_expired=FORBIDDEN,
                  coordinator=FORBIDDEN, admin=FORBIDDEN)
ROSTER_EDIT = dict(WARD_A_ONLY, staff_a=FORBIDDEN, student_a=FORBIDDEN)
NOBODYS = dict.fromkeys(ROLES, MISSING) | {"anonymous": LOGIN}  # an id that does not exist
API = dict.fromkeys(ROLES, 401)  # the REST API: only a token counts, never a web session

# Exact endpoint first, then the longest matching prefix ("blueprint.").
EXPECTATIONS: dict[str, dict[str, object]] = {
    "static": PUBLIC,
    "main.healthz": PUBLIC,
    "main.home": SIGNED_IN,
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.set_language": PUBLIC,
    "tickets.index": SIGNED_IN,
    "tickets.show": WARD_A_ONLY,
    "tickets.filed": WARD_A_ONLY,
    # POSTs on ward A's ticket: refused actions come back as a message, never a leak.
    "tickets.act": WARD_A_ONLY,
    "tickets.comment": WARD_A_ONLY,
    "tickets.choose_template": WARD_A_ONLY,
    "tickets.tick": WARD_A_ONLY,
    "tickets.attach": WARD_A_ONLY,
    "tickets.attachment": NOBODYS,
    "tickets.queue": WORKERS,
    "tickets.queue_rows": WORKERS,
    "tickets.new": FRONT_DESK,
    "tickets.file": FRONT_DESK,
    "health.": SIGNED_IN,
    "dashboard.": COORDINATORS,
    # All wards and the monthly report; no report is stored for the month asked.
    "city.": COORDINATORS,
    "city.download_report": dict(COORDINATORS, coordinator=MISSING, admin=MISSING),
    "access_log.": COORDINATORS,
    "profile.edit": SIGNED_IN,
    # Push subscriptions of one's own browsers (JSON without a body: a 400 message).
    "profile.push_subscribe": SIGNED_IN,
    "profile.push_unsubscribe": SIGNED_IN,
    "profile.push_remove": SIGNED_IN,
    # The installable web app's files: browsers fetch them without an account.
    "pwa.": PUBLIC,
    "profile.notifications": SIGNED_IN,
    "admin.": ADMINS,
    # A scanned sticker of ward A's device: a message (naming nothing) outside ward A.
    "stickers.scan": dict(SIGNED_IN, staff_b=FORBIDDEN, student_expired=FORBIDDEN),
    "stickers.sheet": ADMINS,
    "bulk.": ADMINS,
    # A one-time link's page is public; the token of the test is nobody's.
    "password_link.set_password": dict.fromkeys(ROLES, MISSING),
    "api_tokens.index": ADMINS,
    "api_tokens.revoke": dict(ADMINS, admin=MISSING),  # token 999999 does not exist
    # Notifications: channel "email" exists; outbox row and endpoint 999999 do not.
    "notify_admin.": ADMINS,
    "notify_admin.retry": dict(ADMINS, admin=MISSING),
    "notify_admin.webhook_edit": dict(ADMINS, admin=MISSING),
    "notify_admin.webhook_delete": dict(ADMINS, admin=MISSING),
    "notify_admin.webhook_test": dict(ADMINS, admin=MISSING),
    "api-tickets.": API,
    "api-catalog.": API,
    "api-docs.openapi_json": PUBLIC,
    "api_docs_ui.page": PUBLIC,
    "api_docs_ui.asset": dict.fromkeys(ROLES, MISSING),  # "network" is no Swagger UI file
    # The built-in kiosk plugin's pages: every signed-in role; counter 999999 is nobody's.
    "plugin_kiosk.counters": SIGNED_IN,
    "plugin_kiosk.counter": NOBODYS,
    # The duty roster: ward A's for those who work for it; coordinators edit; students ask
    # for swaps. Shift, change and skill 999999 are nobody's.
    "roster.index": SIGNED_IN,
    "roster.ward": WARD_A_ONLY,
    "roster.add_shift": ROSTER_EDIT,
    "roster.remove_shift": dict(ROSTER_EDIT, coordinator=MISSING, admin=MISSING),
    "roster.change": dict(WARD_A_ONLY, staff_a=FORBIDDEN),
    "roster.decide": dict(ROSTER_EDIT, coordinator=MISSING, admin=MISSING),
    "skills.index": WORKERS,
    "skills.confirm": dict(COORDINATORS, coordinator=MISSING, admin=MISSING),
    "counter.log": dict(WORKERS, coordinator=FORBIDDEN, admin=FORBIDDEN),
    # The Zalo plugin's opt-in page: everyone links their own Zalo id.
    "plugin_zalo.link": SIGNED_IN,
    # City-wide incidents: coordinators' pages (everyone else sees only the banner);
    # incident 999999 does not exist.
    "incidents.": COORDINATORS,
    "incidents.show": dict(COORDINATORS, coordinator=MISSING, admin=MISSING),
    "incidents.close": dict(COORDINATORS, coordinator=MISSING, admin=MISSING),
    # Ward A's ticket linked to an open incident by hand, or taken out (none is open
    # here: a message, back to the ticket).
    "incidents.link_ticket": COORDINATORS,
    "incidents.unlink_ticket": COORDINATORS,
    # The students' programme: coordinators manage; universities' coordinators (a role
    # of their own, tested in test_programme_web) read results; ward staff evaluate.
    "programme.": COORDINATORS,
    "programme.evaluations_list": dict(SIGNED_IN, student_a=FORBIDDEN, student_expired=FORBIDDEN,
                                       coordinator=FORBIDDEN, admin=FORBIDDEN),
    "programme.evaluate": dict(SIGNED_IN, staff_b=MISSING, student_a=FORBIDDEN,
                               student_expired=FORBIDDEN, coordinator=FORBIDDEN,
                               admin=FORBIDDEN),
    "programme.my_certificates": dict(SIGNED_IN, staff_a=FORBIDDEN, staff_b=FORBIDDEN,
                                      coordinator=FORBIDDEN, admin=FORBIDDEN),
    # Number CN-2026-AAAA-BBBB-CCCC is nobody's.
    "programme.certificate": dict(NOBODYS, staff_a=FORBIDDEN, staff_b=FORBIDDEN),
    "verify.verify": dict.fromkeys(ROLES, MISSING),
    "verify.verify_form": PUBLIC,
}


def expectation_for(endpoint: str) -> dict[str, object] | None:
    if endpoint in EXPECTATIONS:
        return EXPECTATIONS[endpoint]
    prefixes = [p for p in EXPECTATIONS if p.endswith(".") and endpoint.startswith(p)]
    return EXPECTATIONS[max(prefixes, key=len)] if prefixes else None


def parameters(world) -> dict[str, object]:
    return {"ticket_id": world.ticket_a, "ward_id": world.ward_a, "user_id": world.staff_a,
            "asset_id": world.asset_a, "check_id": world.check_a, "day_id": world.day_a,
            "assignment_id": world.assignment_a, "policy_id": world.policy,
            "name": "network", "locale": "vi", "filename": "app.css", "action": "claim",
            "category": "network", "step": 0, "attachment_id": 999_999,
            "kind": "wards", "fmt": "csv", "token": "x" * 43,
            "token_id": 999_999, "counter_id": 999_999,
            "shift_id": 999_999, "change_id": 999_999, "skill_id": 999_999,
            "incident_id": 999_999, "month": "2026-03", "batch_id": world.batch,
            "university_id": world.university, "student_id": world.student_a,
            "number": "CN-2026-AAAA-BBBB-CCCC", "channel": "email",
            "notification_id": 999_999, "endpoint_id": 999_999}


def _outcome(response) -> object:
    if response.status_code in (301, 302, 303) and "/login?next=" in response.headers["Location"]:
        return LOGIN
    if response.status_code in (FORBIDDEN, MISSING):
        return response.status_code
    if response.status_code in (401, 405) or response.status_code >= 500:
        return response.status_code
    return OK


def test_every_route_has_the_expected_answer_for_every_role(app, world):
    users = {"anonymous": None, "staff_a": world.staff_a, "staff_b": world.staff_b,
             "student_a": world.student_a, "student_expired": world.student_expired,
             "coordinator": world.coordinator, "admin": world.admin}
    values = parameters(world)
    api.build(app)  # the REST API's routes, otherwise added on the first call to /api/
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    assert any(r.endpoint.startswith("api-tickets.") for r in rules)
    missing = [r.endpoint for r in rules if expectation_for(r.endpoint) is None]
    assert not missing, f"add these endpoints to EXPECTATIONS: {sorted(set(missing))}"
    unknown = {arg for r in rules for arg in r.arguments if arg not in values}
    assert not unknown, f"no test object for URL parameters {unknown}"
    failures = []
    leaks = []
    for rule in rules:
        expected = expectation_for(rule.endpoint)
        method = "GET" if "GET" in rule.methods else "POST"
        for role in ROLES:
            client = app.test_client()
            login_as(client, users[role])
            with app.test_request_context():
                from flask import url_for
                url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
            response = client.open(url, method=method)
            got = _outcome(response)
            if got != expected[role]:
                failures.append(f"{method} {url} as {role}: expected {expected[role]}, "
                                f"got {got} ({response.status_code})")
            # Downloads (XLSX, PDF) are bytes: read what text they hold all the same.
            body = (response.get_data().decode("utf-8", "replace")
                    if not rule.endpoint == "static" else "")
            response.close()
            if role in ("anonymous", "staff_b", "student_expired") and (
                    world.ticket_a_number in body or "Máy in quầy 1" in body
                    or "Phường Hải Châu Thử" in body):
                leaks.append(f"{url} as {role} shows ward A")
            if role in ("staff_a", "student_a") and (
                    world.ticket_b_number in body or "Phường Sơn Trà Thử" in body):
                leaks.append(f"{url} as {role} shows ward B")
    assert not failures, "\n".join(failures)
    assert not leaks, "\n".join(leaks)


def test_the_table_expects_something_for_each_role():
    for name, table in EXPECTATIONS.items():
        assert set(table) == set(ROLES), name


@pytest.mark.parametrize("role, target", [("coordinator", "/dashboard/"),
                                          ("admin", "/dashboard/"),
                                          ("staff_a", "/tickets/new"), ("student_a", "/tickets/queue")])
def test_home_sends_each_role_to_its_start_page(app, world, role, target):
    client = app.test_client()
    login_as(client, getattr(world, role))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith(target)


def test_forbidden_pages_show_no_figures(app, world):
    client = app.test_client()
    login_as(client, world.staff_b)
    page = client.get("/dashboard/")
    body = page.get_data(as_text=True)
    assert page.status_code == 403 and "Không được phép" in body
    assert 'id="ward-load"' not in body and world.ward_a_code not in body
    export = client.get("/dashboard/export/tickets.csv")
    assert export.status_code == 403 and world.ticket_a_number not in export.get_data(as_text=True)
