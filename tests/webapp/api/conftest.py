"""Fixtures of the REST API tests: tokens of integrations on the ``world`` wards."""

from __future__ import annotations

from typing import Callable

import pytest

from helpdesk_core.services import api_tokens
from tests.conftest import FIXED_NOW


@pytest.fixture
def make_token(app, world) -> Callable[..., str]:
    """``make_token(scope="write", wards=("a",))``: a new token's secret."""
    from webapp.extensions import db

    def make(scope: str = "write", wards: tuple[str, ...] = ("a",), all_wards: bool = False,
             name: str = "Tổng đài 1022") -> str:
        ids = [{"a": world.ward_a, "b": world.ward_b}[w] for w in wards]
        with app.app_context():
            _, secret = api_tokens.create_token(db.session, name=name, scope=scope,
                                                ward_ids=ids, all_wards=all_wards,
                                                created_by=None, now=FIXED_NOW)
            db.session.commit()
        return secret
    return make


@pytest.fixture
def bearer(make_token) -> dict[str, str]:
    """Headers of a write token of ward A."""
    return {"Authorization": f"Bearer {make_token()}"}


def problem_of(response) -> dict:
    """The problem document of an error response (and that it is one)."""
    assert response.content_type == "application/problem+json", response.data[:300]
    body = response.get_json(force=True)
    assert body["status"] == response.status_code
    assert body["title"]
    return body
