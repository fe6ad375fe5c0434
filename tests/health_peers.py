"""Real protocol peers on loopback for the health-check tests, and their fixtures.

Import the fixtures into a test module (``from tests.health_peers import http_peer``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class HttpPeer:
    """An HTTP server whose paths can be told to answer OK, fail (500), or hang.

    ``set(path, mode)``; unknown paths answer OK. Counts requests per path and the
    highest number of requests served at the same time per path.
    """

    def __init__(self) -> None:
        self.modes: dict[str, str] = {}
        self.delay: dict[str, float] = {}
        self.hits: dict[str, int] = {}
        self.active: dict[str, int] = {}
        self.max_active: dict[str, int] = {}
        self.release = threading.Event()
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                with peer.lock:
                    peer.hits[path] = peer.hits.get(path, 0) + 1
                    peer.active[path] = peer.active.get(path, 0) + 1
                    peer.max_active[path] = max(peer.max_active.get(path, 0), peer.active[path])
                try:
                    mode = peer.modes.get(path, "ok")
                    if peer.delay.get(path):
                        peer.release.wait(peer.delay[path])
                    if mode == "hang":
                        peer.release.wait(60)
                    status = 500 if mode == "fail" else 200
                    body = b"Service unavailable" if status == 500 else b"OK healthy"
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout)
                finally:
                    with peer.lock:
                        peer.active[path] -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def set(self, path: str, mode: str) -> None:
        self.modes[path] = mode

    def pending(self, path: str) -> int:
        with self.lock:
            return self.active.get(path, 0)

    def start(self) -> "HttpPeer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class TcpPeer:
    """A TCP listener that accepts and closes connections; ``close()`` makes the port
    refuse them."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def wait_accepted(self, count: int, timeout: float = 5.0) -> int:
        """How many connections were accepted, once *count* are (or *timeout* passes).

        The client side of a connect returns before this thread's accept() does.
        """
        deadline = time.monotonic() + timeout
        while self.accepted < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.accepted

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


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


def closed_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port nobody listens on (bound, then released): a dead address, or a
    port for a peer to start on."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http_peer():
    peer = HttpPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def tcp_peer():
    peer = TcpPeer()
    yield peer
    peer.close()
