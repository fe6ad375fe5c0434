"""Security headers, no caching of personal data, HSTS only for an https deployment."""

from __future__ import annotations

import pytest

from webapp.headers import CONTENT_SECURITY_POLICY

# Pages of every kind a logged-in user meets, the exports included.
LOGGED_IN_PAGES = {
    "staff_a": ["/tickets/new", "/tickets/new/printer", "/tickets/?status=",
                "/tickets/?q=048095001234", "/health/", "/no-such-page"],
    "student_a": ["/tickets/queue", "/tickets/queue/rows"],
    "coordinator": ["/dashboard/", "/dashboard/export/tickets.csv",
                    "/dashboard/export/students.csv", "/dashboard/students"],
    "admin": ["/admin/", "/admin/users", "/admin/assets"],
}


def _assert_secured(response, path):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert csp == CONTENT_SECURITY_POLICY, path
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert headers.get("X-Frame-Options") == "DENY", path
    assert headers.get("X-Content-Type-Options") == "nosniff", path
    assert headers.get("Referrer-Policy") == "same-origin", path
    assert "no-store" in headers.get("Cache-Control", ""), path


@pytest.mark.parametrize("who", sorted(LOGGED_IN_PAGES))
def test_every_page_of_a_logged_in_user_is_secured_and_never_stored(client, login, who):
    login(who)
    for path in LOGGED_IN_PAGES[who]:
        response = client.get(path)
        response.get_data()  # the exports stream: finish each before the next request
        response.close()
        assert response.status_code in (200, 404), (path, response.status_code)
        _assert_secured(response, path)
    ticket_page = client.get("/tickets/") if who != "admin" else None
    if ticket_page is not None:
        _assert_secured(ticket_page, "/tickets/")


def test_a_ticket_page_and_its_attachment_are_never_stored(client, login, world):
    login("staff_a")
    _assert_secured(client.get(f"/tickets/{world.ticket_a}"), "ticket")
    response = client.post(f"/tickets/{world.ticket_a}/comment",
                           data={"body": "Máy in vẫn kẹt, ĐT 0905123456"})
    _assert_secured(response, "comment post")


def test_anonymous_pages_are_secured_too(client, world):
    for path in ["/login", "/tickets/", "/healthz"]:
        _assert_secured(client.get(path), path)


def test_static_files_stay_cacheable(client):
    response = client.get("/static/app.css")
    response.close()
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_hsts_on_a_plain_http_deployment(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_when_the_deployment_is_https(database, tmp_path):
    from webapp import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": database.url,
                      "SECRET_KEY": "x", "PREFERRED_URL_SCHEME": "https",
                      "UPLOAD_FOLDER": str(tmp_path)})
    try:
        # Behind a TLS proxy the app itself sees plain http: the configuration decides.
        response = app.test_client().get("/login")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    finally:
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
