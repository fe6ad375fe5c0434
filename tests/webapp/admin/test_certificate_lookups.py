"""The public certificate check is rate-limited per address (numbers cannot be guessed,
and a limit keeps anyone from trying many)."""

from __future__ import annotations


def test_lookups_are_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, CERTIFICATE_LOOKUP_LIMIT="3 per minute")
    client = app.test_client()
    answers = [client.get(f"/verify/CN-2026-AAAA-BBBB-CCC{n}").status_code for n in range(3)]
    assert answers == [404, 404, 404]  # unknown numbers, answered
    assert client.get("/verify/CN-2026-AAAA-BBBB-CCC9").status_code == 429
    other = app.test_client()
    assert other.get("/verify/CN-2026-AAAA-BBBB-CCC9",
                     environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
