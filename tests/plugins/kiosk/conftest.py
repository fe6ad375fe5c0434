"""Fixtures of the queue-kiosk plugin: the kit's TCP server answering like a thermal printer."""

from __future__ import annotations

import pytest

from helpdesk_core.testing import TcpServer

ESCPOS_PAPER_STATUS = b"\x10\x04\x04"  # DLE EOT 4: "how is the paper?"


@pytest.fixture
def escpos_printer(tcp_server):
    """``escpos_printer(0x12)``: the kit's TCP server answering DLE EOT 4 like a thermal
    ticket printer with that status byte (None: stays silent, b"": hangs up at once)."""

    def start(status: int | None | bytes) -> TcpServer:
        if status == b"":
            return tcp_server()
        return tcp_server(lambda request: bytes([status]) if request == ESCPOS_PAPER_STATUS
                          and isinstance(status, int) else None, read=3)

    return start
