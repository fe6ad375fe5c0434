"""Real peers on loopback for the signing checks: TLS endpoints and a VGCA-like service."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.sync.server import serve


def make_cert(directory, days: float, cn: str = "localhost"):
    """A self-signed EC certificate valid for *days* from now (negative: expired)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.timezone.utc)
    not_after = now + dt.timedelta(days=days)
    not_before = min(now, not_after) - dt.timedelta(days=30)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    stem = directory / cn.replace(" ", "_")
    cert_path, key_path = stem.with_suffix(".crt"), stem.with_suffix(".key")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


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


@pytest.fixture
def silent_listener():
    """A TCP port that accepts connections and never says anything (a hung service)."""
    sock = socket.create_server(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


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
