"""Shared fixtures. Every database test runs on SQLite and on PostgreSQL.

The fixtures themselves come from the testing kit that ships with the package
(``helpdesk_core.testing``, loaded by pytest through the ``pytest11`` entry point):
``database`` (both engines here: ``helpdesk_databases`` in pyproject.toml),
``db_session``, ``session_factory``, ``postgres_database``, ``pm``, ``builtin_pm``,
``registry``, ``now``, ``clock``, ``app``, ``client``, ``runner``, the loopback peers
(``http_server``, ``https_server``, ``tcp_server``, ``tls_server``, ``closed_port``,
``silent_port``). Each test session creates its own PostgreSQL database and drops it at
the end; every test starts from empty tables.
"""

from __future__ import annotations

import pytest
import responses

from helpdesk_core.testing import FIXED_NOW, missing  # noqa: F401 (imported from here)
from helpdesk_core.testing.databases import in_ci, pg_admin_url

PG_ADMIN_URL = pg_admin_url()
IN_CI = in_ci()


@pytest.fixture
def http():
    """Outbound HTTP through requests: anything not stubbed fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
