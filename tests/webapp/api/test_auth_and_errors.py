"""Tokens (scope, wards, revocation, rate limits), and errors as problem+json in the
caller's language, never an HTML page and never a 500 for hostile input."""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.models import ApiToken
from helpdesk_core.services import api_tokens

from .conftest import problem_of


def test_no_token_bad_token_and_revoked_token_get_401(app, client, make_token):
    assert problem_of(client.get("/api/v1/tickets")).get("title") == "Cần xác thực"
    bad = client.get("/api/v1/tickets", headers={"Authorization": "Bearer whd_nope"})
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"].startswith("Bearer")
    secret = make_token()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    from webapp.extensions import db
    with app.app_context():
        token = api_tokens.authenticate(db.session, secret)
        assert token.last_used_at is not None  # shown on the administration page
        api_tokens.revoke(db.session, token.id, dt.datetime.now(dt.timezone.utc))
        db.session.commit()
    assert client.get("/api/v1/tickets", headers=headers).status_code == 401


def test_the_secret_is_stored_hashed(app, make_token):
    secret = make_token()
    from webapp.extensions import db
    with app.app_context():
        stored = db.session.query(ApiToken).one()
        assert secret not in (stored.token_hash, stored.prefix)
        assert stored.token_hash == api_tokens.hash_secret(secret)


def test_titles_follow_accept_language(client):
    english = problem_of(client.get("/api/v1/tickets", headers={"Accept-Language": "en-US"}))
    assert english["title"] == "Authentication required"
    assert problem_of(client.get("/api/v1/tickets"))["title"] == "Cần xác thực"


def test_a_read_token_cannot_write(client, world, make_token):
    headers = {"Authorization": f"Bearer {make_token(scope='read')}"}
    assert client.get(f"/api/v1/tickets/{world.ticket_a}", headers=headers).status_code == 200
    refused = client.post(f"/api/v1/tickets/{world.ticket_a}/comments", headers=headers,
                          json={"body": "xin chào"})
    assert problem_of(refused)["status"] == 403


def test_a_token_sees_only_its_wards(client, world, bearer):
    listed = client.get("/api/v1/tickets", headers=bearer).get_json()["items"]
    assert [t["id"] for t in listed] == [world.ticket_a]
    assert problem_of(client.get(f"/api/v1/tickets/{world.ticket_b}", headers=bearer))
    assert client.get(f"/api/v1/tickets?number={world.number_b}",
                      headers=bearer).get_json()["items"] == []
    assert client.get(f"/api/v1/assets/{world.printer_b}", headers=bearer).status_code == 404
    board = client.get("/api/v1/status-board", headers=bearer).get_json()
    assert [b["ward"]["id"] for b in board["wards"]] == [world.ward_a]
    filed = client.post("/api/v1/tickets", headers=bearer, json={
        "ward_id": world.ward_b, "category": "network", "title": "Mất mạng"})
    assert "ward_id" in problem_of(filed)["errors"]


def test_validation_errors_name_the_fields(client, world, bearer):
    body = problem_of(client.post("/api/v1/tickets", headers=bearer,
                                  json={"ward_id": world.ward_a, "category": "printer"}))
    assert body["status"] == 422 and body["errors"]["title"] == ["Vui lòng điền mục này."]
    triage = problem_of(client.post("/api/v1/tickets", headers=bearer, json={
        "ward_id": world.ward_a, "category": "printer", "title": "Máy in",
        "triage": {"symptom": "not-a-symptom"}}))
    assert triage["errors"]["symptom"] == ["Lựa chọn không hợp lệ."]  # WTForms' own message
    english = problem_of(client.post("/api/v1/tickets", headers={**bearer, "Accept-Language": "en"},
                                     json={"ward_id": world.ward_a, "category": "printer",
                                           "title": "Printer", "triage": {"symptom": "nope"}}))
    assert english["errors"]["symptom"] == ["Not a valid choice."]


@pytest.mark.parametrize("path", ["/api/v1/tickets/99999999999999999999999",
                                  "/api/v1/tickets/9223372036854775808/events",
                                  "/api/v1/assets/18446744073709551616",
                                  "/api/v1/nowhere", "/api/v1/tickets/%00"])
def test_unknown_and_huge_ids_are_404(client, bearer, path):
    assert problem_of(client.get(path, headers=bearer))["status"] == 404


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b", "cursor=99999999999999999999999",
                                   "ward_id=99999999999999999999", "number=%00",
                                   "status=%ff%fe", "updated_since=yesterday", "limit=-1"])
def test_hostile_queries_are_rejected_not_crashed(client, bearer, query):
    response = client.get(f"/api/v1/tickets?{query}", headers=bearer)
    assert response.status_code in (200, 422), response.data[:300]
    if response.status_code == 422:
        problem_of(response)


@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe\x00", b'{"title": "\\u0000"}',
                                  b'{"ward_id": 99999999999999999999999, "title": "x"}',
                                  b'{"ward_id": 1, "category": "printer", "title": "a\\u0000"}',
                                  b'{"ward_id": 1, "category": "printer", "title": "\\ud800"}',
                                  b'{"ward_id": 1, "category": "printer", "title": "x", '
                                  b'"triage": {"symptom": {"a": 1}}}',
                                  b"[]", b"null"])
def test_hostile_bodies_are_rejected_not_crashed(client, bearer, data):
    response = client.post("/api/v1/tickets", headers={**bearer,
                                                        "Content-Type": "application/json"},
                           data=data)
    assert problem_of(response)["status"] in (400, 415, 422)


def test_wrong_method_is_a_problem_with_allow(client, bearer):
    response = client.delete("/api/v1/tickets", headers=bearer)
    assert problem_of(response)["status"] == 405 and "GET" in response.headers["Allow"]


def test_rate_limit_is_per_token(app, database, tmp_path, make_token):
    from helpdesk_core.testing.web import app_config
    from webapp import create_app
    from webapp.extensions import db, limiter
    limited = create_app({**app_config(database.url, str(tmp_path / "up")),
                          "RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "3 per minute"})
    client = limited.test_client()
    try:
        with limited.app_context():
            limiter.reset()
        first = {"Authorization": f"Bearer {make_token(name='App')}"}
        other = {"Authorization": f"Bearer {make_token(name='Giám sát')}"}
        codes = [client.get("/api/v1/wards", headers=first).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        limited_response = client.get("/api/v1/wards", headers=first)
        assert problem_of(limited_response)["status"] == 429
        assert "Retry-After" in limited_response.headers
        assert client.get("/api/v1/wards", headers=other).status_code == 200
    finally:
        with limited.app_context():
            limiter.reset()
            db.session.remove()
            db.engine.dispose()


def test_csrf_spares_the_api_but_guards_the_web(app, client, world, bearer, login):
    app.config["WTF_CSRF_ENABLED"] = True
    commented = client.post(f"/api/v1/tickets/{world.ticket_a}/comments", headers=bearer,
                            json={"body": "Đã gọi cho phường."})
    assert commented.status_code == 201
    login_page = client.post("/login", data={"login": world.logins["staff_a"],
                                             "password": "x"})
    assert login_page.status_code == 400  # the web form without its CSRF token


def test_cursor_pages_through_every_ticket(app, client, world, bearer, registry):
    from tests.factories import make_ticket
    from webapp.extensions import db
    from helpdesk_core.models import Ward
    from tests.conftest import FIXED_NOW
    with app.app_context():
        ward = db.session.get(Ward, world.ward_a)
        for i in range(4):
            make_ticket(db.session, registry, ward, FIXED_NOW, title=f"Sự cố {i}")
        db.session.commit()
    seen, cursor = [], None
    while True:
        url = "/api/v1/tickets?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bearer).get_json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)


def test_documentation_is_served_by_the_app(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"].startswith("3.1")
    assert "bearerAuth" in spec.get_json()["components"]["securitySchemes"]
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200 and b"https://" not in page.data
    bundle = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    bundle.close()
    assert bundle.status_code == 200


def test_query_filters_read_their_text(client, world, make_token):
    headers = {"Authorization": f"Bearer {make_token(wards=('a', 'b'))}"}
    listed = client.get(f"/api/v1/tickets?ward_id={world.ward_b}&limit=5", headers=headers)
    assert [t["id"] for t in listed.get_json()["items"]] == [world.ticket_b]
    assets = client.get(f"/api/v1/assets?ward_id={world.ward_a}", headers=headers).get_json()
    assert [a["id"] for a in assets["items"]] == [world.printer_a]
    board = client.get(f"/api/v1/status-board?ward_id={world.ward_a}", headers=headers)
    assert [b["ward"]["id"] for b in board.get_json()["wards"]] == [world.ward_a]
    results = client.get(f"/api/v1/assets/{world.printer_a}/results?limit=3", headers=headers)
    assert len(results.get_json()["items"]) == 3


@pytest.mark.parametrize("path", ["/api/v1/tickets?cursor=2147483648",
                                  "/api/v1/tickets?cursor=999999999999",
                                  "/api/v1/assets?cursor=999999999999"])
def test_cursors_beyond_every_id_are_no_error(client, bearer, path):
    assert client.get(path, headers=bearer).status_code == 200
