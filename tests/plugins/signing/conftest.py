"""Real peers on loopback for the signing checks: TLS endpoints and a VGCA-like service."""

from __future__ import annotations

import json
import socket
import ssl
import threading

import pytest
from websockets.sync.server import serve

from tests.health_peers import make_cert


def server_context(cert_path, key_path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


class TlsEndpoint:
    """A TLS server on 127.0.0.1:0 that completes handshakes and hangs up."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0  # counted at accept: the client sees no certificate before
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while self.running:
            try:
                conn, _peer = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            conn.settimeout(2)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)  # until the client closes
            except (OSError, ssl.SSLError):
                conn.close()

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def tls_endpoint(tmp_path):
    """``tls_endpoint(days, cn)``: a TLS server presenting a certificate valid *days* more."""
    endpoints = []

    def start(days: float, cn: str = "localhost") -> TlsEndpoint:
        endpoint = TlsEndpoint(server_context(*make_cert(tmp_path, days, cn)))
        endpoints.append(endpoint)
        return endpoint

    yield start
    for endpoint in endpoints:
        endpoint.stop()


class SignService:
    """A WebSocket server over TLS answering like VGCA Sign Service's ``/GetVersion``."""

    def __init__(self, context: ssl.SSLContext, version_reply: dict) -> None:
        self.version_reply = version_reply
        self.requests: list[tuple[str, str]] = []
        self.server = serve(self._handler, "127.0.0.1", 0, ssl=context)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self, websocket) -> None:
        message = websocket.recv()
        self.requests.append((websocket.request.path, message))
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
