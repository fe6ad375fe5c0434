"""A VGCA-like signing service on loopback (TLS endpoints come from the kit: ``tls_server``)."""

from __future__ import annotations

import json
import ssl
import threading

import pytest
from websockets.sync.server import serve

from helpdesk_core.testing import make_cert, server_context


class SignService:
    """A WebSocket server over TLS answering like VGCA Sign Service's ``/GetVersion``."""

    def __init__(self, context: ssl.SSLContext, version_reply: dict) -> None:
        self.version_reply = version_reply
        self.requests: list[tuple[str, str]] = []
        self.before_reply = lambda: None  # a test's moment just before the answer goes
        self.server = serve(self._handler, "127.0.0.1", 0, ssl=context)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self, websocket) -> None:
        message = websocket.recv()
        self.requests.append((websocket.request.path, message))
        self.before_reply()
        if websocket.request.path == "/GetVersion" and message == "version":
            websocket.send(json.dumps(self.version_reply, ensure_ascii=False))
        else:
            websocket.send(json.dumps({"Status": 1, "Error": "Unknown request"}))

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def sign_service(tmp_path):
    """``sign_service(reply)``: a running fake service answering *reply* to GetVersion."""
    services = []

    def start(reply: dict) -> SignService:
        context = server_context(*make_cert(tmp_path, 3650, "127.0.0.1"))
        service = SignService(context, reply)
        services.append(service)
        return service

    yield start
    for service in services:
        service.stop()
