"""Loopback peers with scripted behaviour, for testing health checks against real sockets.

- :class:`HttpServer`: HTTP or HTTPS; each path answers a status and body, slowly,
  never (hangs), with a redirect or behind a login;
- :class:`TcpServer`: accepts and hangs up, stays silent, or answers what it is asked;
- :class:`TlsServer`: completes a TLS handshake with a chosen certificate, then hangs up;
- :func:`make_cert`: self-signed certificates, valid, expiring or expired;
- :func:`closed_port`: a port nothing listens on (connections are refused).

Everything listens on 127.0.0.1, port 0 (the system picks a free one). The fixtures in
:mod:`helpdesk_core.testing.plugin` start them and stop them after each test.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import pathlib
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HANG_SECONDS = 60.0  # a hung answer waits this long at most (or until the server stops)


# --- certificates ---------------------------------------------------------------------

def make_cert(directory: pathlib.Path, days: float, cn: str = "localhost",
              ) -> tuple[pathlib.Path, pathlib.Path]:
    """A self-signed EC certificate valid for *days* from now (negative: expired).

    It names ``localhost`` and ``127.0.0.1``. Returns the paths of the certificate and
    its key (PEM), written into *directory*.
    """
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
    directory = pathlib.Path(directory)
    stem = directory / cn.replace(" ", "_")
    cert_path, key_path = stem.with_suffix(".crt"), stem.with_suffix(".key")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(cert_path: pathlib.Path, key_path: pathlib.Path) -> ssl.SSLContext:
    """A server-side TLS context presenting the given certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


def closed_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port nobody listens on (bound, then released): a dead address, or a
    port for a peer to start on."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- HTTP -----------------------------------------------------------------------------

@dataclass
class Request:
    """What a client sent, for scripted bodies and for assertions."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Body = Union[bytes, str, Callable[[Request], Union[bytes, str]]]


@dataclass
class Route:
    """How one path answers."""

    status: int = 200
    body: Body = b"OK healthy"
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # never answer (until the server stops)
    login: tuple[str, str] | None = None  # HTTP Basic credentials required


class HttpServer:
    """A loopback HTTP server (HTTPS with *tls*) answering each path as scripted.

    ``answer(path, status, body)``, ``slow(path, seconds)``, ``hang(path)``,
    ``redirect(path, location)``; other paths answer ``default`` (200 "OK healthy").
    It also answers requests sent to it as a proxy (absolute URLs), by their path.
    ``hits`` counts requests per path, ``max_active`` the most served at once per path,
    ``requests`` keeps every request.
    """

    def __init__(self, tls: ssl.SSLContext | None = None,
                 cert_file: pathlib.Path | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.default = Route()
        self.delay: dict[str, float] = {}  # extra wait per path, on top of the route's
        self.hits: dict[str, int] = {}
        self.active: dict[str, int] = {}
        self.max_active: dict[str, int] = {}
        self.requests: list[Request] = []
        self.release = threading.Event()  # set: hung and slow answers go at once
        self.lock = threading.Lock()
        self.cert_file = cert_file  # the self-signed certificate of an HTTPS server
        self.scheme = "https" if tls else "http"
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # scripting
    def answer(self, path: str, status: int = 200, body: Body = b"OK healthy", *,
               content_type: str = "text/plain; charset=utf-8",
               headers: dict[str, str] | None = None, delay: float = 0.0,
               login: tuple[str, str] | None = None) -> "HttpServer":
        """Answer *path* with *status* and *body* (bytes, text, or a function of the
        :class:`Request`); *login* requires HTTP Basic credentials (else 401)."""
        self.routes[path] = Route(status, body, content_type, dict(headers or {}), delay,
                                  False, login)
        return self

    def slow(self, path: str, seconds: float, status: int = 200,
             body: Body = b"OK healthy") -> "HttpServer":
        """Answer *path* after *seconds*."""
        return self.answer(path, status, body, delay=seconds)

    def hang(self, path: str) -> "HttpServer":
        """Accept requests for *path* and never answer (until the server stops)."""
        self.routes[path] = Route(hang=True)
        return self

    def redirect(self, path: str, location: str, status: int = 302) -> "HttpServer":
        """Answer *path* with a redirect to *location*."""
        return self.answer(path, status, b"", headers={"Location": location})

    def set(self, path: str, mode: str) -> None:
        """Shorthand: *mode* ``ok`` (200), ``fail`` (500) or ``hang``."""
        if mode == "hang":
            self.hang(path)
        else:
            self.answer(path, 500 if mode == "fail" else 200,
                        b"Service unavailable" if mode == "fail" else b"OK healthy")

    # addresses
    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.address}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def pending(self, path: str) -> int:
        """Requests for *path* being served right now."""
        with self.lock:
            return self.active.get(path, 0)

    # life
    def start(self) -> "HttpServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def _route(self, path: str) -> Route:
        return self.routes.get(path, self.default)


def _handler_for(peer: HttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):  # keep test output quiet
            pass

        def _serve(self) -> None:
            path = self.path
            if "://" in path:  # asked as a proxy: answer for the path
                path = urllib.parse.urlsplit(path).path or "/"
            path = path.split("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(self.command, path, dict(self.headers.items()),
                              self.rfile.read(length) if length else b"")
            with peer.lock:
                peer.requests.append(request)
                peer.hits[path] = peer.hits.get(path, 0) + 1
                peer.active[path] = peer.active.get(path, 0) + 1
                peer.max_active[path] = max(peer.max_active.get(path, 0), peer.active[path])
            try:
                self._answer(peer._route(path), request)
            except OSError:
                pass  # the client gave up (timeout)
            finally:
                with peer.lock:
                    peer.active[path] -= 1

        def _answer(self, route: Route, request: Request) -> None:
            wait = route.delay + peer.delay.get(request.path, 0.0)
            if route.hang:
                wait = HANG_SECONDS
            if wait:
                peer.release.wait(wait)
            if route.login and self.headers.get("Authorization") != _basic(*route.login):
                status, body, headers = 401, b"", {"WWW-Authenticate": 'Basic realm="test"'}
            else:
                body = route.body(request) if callable(route.body) else route.body
                status, headers = route.status, route.headers
            body = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _serve

    return Handler


def _basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


# --- TCP ------------------------------------------------------------------------------

Reply = Union[bytes, Callable[[bytes], Union[bytes, None]], None]


class TcpServer:
    """A loopback TCP server that does one scripted thing with each connection.

    - ``reply=None, silent=False`` (default): accept and hang up at once;
    - ``silent=True``: accept and say nothing until the server stops (a hung service);
    - ``reply=b"..."`` or ``reply=function(request) -> bytes | None``: read *read* bytes
      (fewer if the client stops sending), send the reply (None: say nothing), then wait
      for the client to hang up.

    ``close()`` stops it: the port then refuses connections. ``accepted`` counts
    connections, ``requests`` keeps what was read.
    """

    def __init__(self, reply: Reply = None, *, read: int = 1, silent: bool = False) -> None:
        self.reply = reply
        self.read = read
        self.silent = silent
        self.accepted = 0
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._connections: list[socket.socket] = []
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            if self.silent:
                self._connections.append(conn)
                continue
            if self.reply is None:
                conn.close()
                continue
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            request = b""
            try:
                while len(request) < self.read:
                    chunk = conn.recv(self.read - len(request))
                    if not chunk:
                        break
                    request += chunk
                self.requests.append(request)
                answer = self.reply(request) if callable(self.reply) else self.reply
                if answer is None:
                    self._stop.wait(HANG_SECONDS)
                    return
                conn.sendall(answer)
                conn.recv(1)  # wait for the client to hang up
            except OSError:
                pass

    def wait_accepted(self, count: int, timeout: float = 5.0) -> int:
        """How many connections were accepted, once *count* are (or *timeout* passes).

        The client side of a connect returns before this thread's accept() does.
        """
        deadline = time.monotonic() + timeout
        while self.accepted < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.accepted

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
        for conn in self._connections:
            conn.close()


class TlsServer:
    """A loopback TLS server that completes handshakes with *context*'s certificate and
    waits for the client to hang up. ``connections`` counts accepted connections."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0  # counted at accept: the client sees no certificate before
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(2)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)  # until the client closes
            except (OSError, ssl.SSLError):
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
