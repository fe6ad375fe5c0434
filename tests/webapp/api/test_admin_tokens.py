"""/admin/api-tokens: an administrator makes a token (shown once), sees its last use,
revokes it; nobody else reaches the page."""

from __future__ import annotations

import re


def test_make_use_and_revoke_a_token(client, world, login):
    login("admin")
    assert client.get("/admin/api-tokens/").status_code == 200
    made = client.post("/admin/api-tokens/", data={
        "name": "Tổng đài 1022", "scope": "write", "wards": [str(world.ward_a)]})
    assert made.status_code == 200
    secret = re.search(r'<code id="new-token">(whd_[^<]+)</code>', made.get_data(as_text=True))
    assert secret, "the new token is shown on the answering page"
    secret = secret.group(1)
    headers = {"Authorization": f"Bearer {secret}"}

    again = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert secret not in again and "Tổng đài 1022" in again and "Chưa bao giờ" in again

    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    listed = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert "Chưa bao giờ" not in listed  # the last use is shown
    token_id = re.search(r"/admin/api-tokens/(\d+)/revoke", listed).group(1)
    assert client.post(f"/admin/api-tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/tickets", headers=headers).status_code == 401


def test_a_token_needs_a_name_and_wards(client, world, login):
    login("admin")
    refused = client.post("/admin/api-tokens/", data={"name": "App", "scope": "read"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "whd_" not in page and 'value="App"' in page  # nothing typed is lost


def test_only_administrators(client, world, login):
    for who in ("coordinator", "staff_a"):
        login(who)
        assert client.get("/admin/api-tokens/").status_code == 403
        assert client.post("/admin/api-tokens/", data={"name": "x", "scope": "read",
                                                       "all_wards": "y"}).status_code == 403
