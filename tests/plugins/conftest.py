"""Loopback peers every plugin's checks are tested against."""

from __future__ import annotations

import socket

import pytest

from tests import health_peers


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port nothing listens on."""
    return health_peers.closed_port()


@pytest.fixture
def silent_listener():
    """A TCP port that accepts connections and never says anything (a hung service)."""
    sock = socket.create_server(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()
