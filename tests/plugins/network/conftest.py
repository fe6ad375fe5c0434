"""Real peers on loopback for the network checks: a scripted portal (the kit's HTTP(S)
servers) and a DNS server."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from helpdesk_core.testing import HttpServer
from helpdesk_core.testing.peers import Route

PAGE = "<html><body>Cổng Dịch vụ công Quốc gia</body></html>".encode("utf-8")
HTML = "text/html; charset=utf-8"


def portal(server: HttpServer) -> HttpServer:
    """/ok, /error (500), /slow (50 ms), /hang, /redirect (two hops), /private (HTTP
    Basic ward/secret), /loop; anything else 404."""
    server.default = Route(404, b"not found", HTML)
    server.answer("/ok", 200, PAGE, content_type=HTML)
    server.answer("/error", 500, b"Internal Server Error", content_type=HTML)
    server.answer("/slow", 200, PAGE, content_type=HTML, delay=0.05)
    server.hang("/hang")
    server.redirect("/redirect", "/step")
    server.redirect("/step", "/ok", 301)
    server.answer("/private", 200, PAGE, content_type=HTML, login=("ward", "secret"))
    server.redirect("/loop", "/loop")
    return server


@pytest.fixture
def web(http_server) -> str:
    """The portal over HTTP: its base URL."""
    return portal(http_server).base_url


@pytest.fixture
def secure_web(https_server) -> HttpServer:
    """The portal over HTTPS with a self-signed certificate (``cert_file``)."""
    return portal(https_server(90))


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
