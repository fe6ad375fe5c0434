"""Real peers on loopback for the network checks: HTTP(S) servers, a TCP listener, DNS."""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import urllib.parse

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from tests.health_peers import make_cert

PAGE = "<html><body>Cổng Dịch vụ công Quốc gia</body></html>".encode("utf-8")


class _Handler(http.server.BaseHTTPRequestHandler):
    release: threading.Event  # set on the server class per fixture

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("http://"):  # asked as a proxy: answer for the path
            self.path = urllib.parse.urlsplit(self.path).path
        if self.path == "/ok":
            self._send(200, PAGE)
        elif self.path == "/error":
            self._send(500, b"Internal Server Error")
        elif self.path == "/slow":
            self.server.release.wait(0.05)  # at least 50 ms before the answer
            self._send(200, PAGE)
        elif self.path == "/hang":
            self.server.release.wait(30)  # answers only when the fixture ends
            self._send(200, PAGE)
        elif self.path == "/redirect":
            self._send(302, headers={"Location": "/step"})
        elif self.path == "/step":
            self._send(301, headers={"Location": "/ok"})
        elif self.path == "/private":  # HTTP Basic: ward / secret
            if self.headers.get("Authorization") == "Basic d2FyZDpzZWNyZXQ=":
                self._send(200, PAGE)
            else:
                self._send(401, headers={"WWW-Authenticate": 'Basic realm="ward"'})
        elif self.path == "/loop":
            self._send(302, headers={"Location": "/loop"})
        else:
            self._send(404, b"not found")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _serve(context: ssl.SSLContext | None = None):
    server = _Server(("127.0.0.1", 0), _Handler)
    server.release = threading.Event()
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def _stop(server, thread) -> None:
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def web():
    """An HTTP server: /ok, /error (500), /slow, /hang, /redirect (two hops), /loop."""
    server, thread = _serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _stop(server, thread)


@pytest.fixture
def secure_web(tmp_path):
    """The same server over HTTPS with a self-signed certificate."""
    cert, key = make_cert(tmp_path, 90)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server, thread = _serve(context)
    yield f"https://127.0.0.1:{server.server_address[1]}"
    _stop(server, thread)


class DnsServer:
    """A small authoritative DNS server on UDP: answers from ``records``, else NXDOMAIN."""

    def __init__(self, records: dict[tuple[str, str], list[str]], silent: bool = False) -> None:
        self.records = records
        self.silent = silent
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while self.running:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            rtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append(f"{name} {rtype}")
            if self.silent:
                continue
            response = dns.message.make_response(query)
            answers = self.records.get((name, rtype))
            if answers:
                response.answer.append(dns.rrset.from_text_list(
                    question.name, 300, "IN", rtype, answers))
            elif not any(key[0] == name for key in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def dns_server():
    server = DnsServer({("dichvucong.gov.vn", "A"): ["192.0.2.10", "192.0.2.11"],
                        ("motcua.danang.gov.vn", "AAAA"): ["2001:db8::5"]})
    yield server
    server.stop()


@pytest.fixture
def silent_dns_server():
    server = DnsServer({}, silent=True)
    yield server
    server.stop()
