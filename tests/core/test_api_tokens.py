"""Integration tokens in the core: made with a secret shown once, found by it, revoked;
what the system does through one names it in the ticket's history."""

from __future__ import annotations

import pytest

from helpdesk_core.errors import ValidationFailed
from helpdesk_core.models import ApiScope
from helpdesk_core.services import api_tokens, tickets
from tests.factories import make_ticket, make_ward


def test_a_token_is_found_by_its_secret_until_revoked(db_session, now):
    ward = make_ward(db_session)
    token, secret = api_tokens.create_token(db_session, name="Tổng đài 1022",
                                            scope=ApiScope.WRITE, ward_ids=[ward.id],
                                            all_wards=False, created_by=None, now=now)
    db_session.commit()
    assert secret.startswith("whd_") and token.token_hash != secret
    assert api_tokens.authenticate(db_session, secret) is token
    assert api_tokens.authenticate(db_session, secret + "x") is None
    assert api_tokens.ward_scope(token) == frozenset({ward.id})
    api_tokens.revoke(db_session, token.id, now)
    db_session.commit()
    assert api_tokens.authenticate(db_session, secret) is None


def test_a_token_needs_a_name_a_scope_and_known_wards(db_session, now):
    with pytest.raises(ValidationFailed) as caught:
        api_tokens.create_token(db_session, name=" ", scope="admin", ward_ids=[999],
                                all_wards=False, created_by=None, now=now)
    assert set(caught.value.field_errors) == {"name", "scope", "wards"}


def test_events_recorded_through_a_token_name_it(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = make_ticket(db_session, registry, ward, now)
    token, _ = api_tokens.create_token(db_session, name="Giám sát", scope=ApiScope.WRITE,
                                       ward_ids=[], all_wards=True, created_by=None, now=now)
    with api_tokens.acting_as(db_session, token):
        event = tickets.comment(db_session, registry, ticket, None, "Đã kiểm tra từ xa.", now)
    later = tickets.comment(db_session, registry, ticket, None, "Không qua API.", now)
    tickets.commit(db_session)
    assert event.data["via"] == {"api_token": token.id, "integration": "Giám sát"}
    assert "via" not in later.data
