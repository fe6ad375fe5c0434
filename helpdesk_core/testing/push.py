"""A loopback Web Push service, for testing a push sender end to end.

:class:`PushService` plays the part of FCM or Mozilla's autopush: it hands out
subscriptions as a browser would get them (:meth:`PushService.subscribe` makes the
browser's own P-256 key pair and auth secret, bound to the application server's VAPID
public key), and on each POST it checks what a real push service checks, then
decrypts the payload with the browser's private key (RFC 8291, ``aes128gcm``) and
records it in :attr:`PushService.deliveries`:

- the VAPID ``Authorization: vapid t=<JWT>, k=<key>`` header (RFC 8292): an ES256
  signature by ``k``, ``k`` the key the subscription was made for, ``aud`` this
  service's origin, ``exp`` in the future and at most 24 hours ahead, a ``sub``;
- a ``TTL`` header, ``Content-Encoding: aes128gcm``, an ``Urgency`` among RFC 8030's.

A request that fails a check gets 400/401/403 and is kept in :attr:`rejected` with
the reason. Script failures with :meth:`PushService.answer` (410 Gone, 404, 429 with
``Retry-After``, 500) or :meth:`PushService.hang`. The ``push_service`` fixture of the
testing kit starts one and stops it after the test.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

URGENCIES = ("very-low", "low", "normal", "high")
MAX_EXP_SECONDS = 24 * 3600  # RFC 8292 §2: no more than 24 hours ahead


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class BrowserSubscription:
    """What a browser keeps for one subscription: the private key and auth secret the
    push payloads are encrypted to, and the ``toJSON()`` a page sends its server."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    application_server_key: str | None

    @property
    def p256dh(self) -> str:
        return _b64url(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def info(self) -> dict[str, Any]:
        """``PushSubscription.toJSON()``: endpoint, expirationTime, keys."""
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": self.p256dh, "auth": _b64url(self.auth)}}

    @property
    def json(self) -> str:
        return json.dumps(self.info)


@dataclass
class Delivery:
    """A push the service accepted, decrypted."""

    subscription_id: str
    payload: bytes
    ttl: int
    urgency: str
    topic: str | None
    claims: dict[str, Any]
    headers: dict[str, str]

    @property
    def data(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload.decode("utf-8"))


@dataclass
class Rejection:
    subscription_id: str
    status: int
    reason: str


@dataclass
class _Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None  # None: until told otherwise


class PushService:
    """A loopback push service on 127.0.0.1 (see the module's docstring)."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, BrowserSubscription] = {}
        self.deliveries: list[Delivery] = []
        self.rejected: list[Rejection] = []
        self.scripted: dict[str | None, _Scripted] = {}  # None: every subscription
        self.hung: set[str] = set()
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        """What the VAPID ``aud`` claim must be."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self) -> "PushService":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    # -- what a browser does ---------------------------------------------------------

    def subscribe(self, application_server_key: str | None = None) -> BrowserSubscription:
        """A new subscription as ``PushManager.subscribe({applicationServerKey})`` gives
        it: pushes signed by another VAPID key are refused (403), as by real services."""
        ident = uuid.uuid4().hex
        sub = BrowserSubscription(ident, f"{self.origin}/push/{ident}",
                                  ec.generate_private_key(ec.SECP256R1()), os.urandom(16),
                                  application_server_key)
        with self.lock:
            self.subscriptions[ident] = sub
        return sub

    def unsubscribe(self, sub: BrowserSubscription) -> None:
        """The browser dropped it: pushes to it get 410 Gone from now on."""
        with self.lock:
            self.subscriptions.pop(sub.id, None)

    # -- scripting -------------------------------------------------------------------

    def answer(self, status: int, sub: BrowserSubscription | None = None, *,
               headers: dict[str, str] | None = None, times: int | None = None) -> None:
        """Answer *status* (with *headers*) to pushes for *sub* (or any), *times* times
        (or until :meth:`reset`), after the checks pass."""
        with self.lock:
            self.scripted[sub.id if sub else None] = _Scripted(status, dict(headers or {}), times)

    def hang(self, sub: BrowserSubscription) -> None:
        """Never answer pushes for *sub* (until the service stops)."""
        with self.lock:
            self.hung.add(sub.id)

    def reset(self) -> None:
        with self.lock:
            self.scripted.clear()
            self.hung.clear()

    def for_subscription(self, sub: BrowserSubscription) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.subscription_id == sub.id]

    # -- the checks ------------------------------------------------------------------

    def _scripted_for(self, ident: str) -> _Scripted | None:
        with self.lock:
            for key in (ident, None):
                entry = self.scripted.get(key)
                if entry is None:
                    continue
                if entry.times is not None:
                    entry.times -= 1
                    if entry.times <= 0:
                        del self.scripted[key]
                return entry
        return None

    def _check_vapid(self, header: str, sub: BrowserSubscription) -> dict[str, Any]:
        """The claims of a valid VAPID header; ValueError (reason) otherwise."""
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError("not a vapid Authorization header")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = parts.get("t", ""), parts.get("k", "")
        if sub.application_server_key and key != sub.application_server_key:
            raise ValueError("signed by another key than the subscription's")
        head_b64, claims_b64, sig_b64 = token.split(".")
        head = json.loads(_unb64url(head_b64))
        if head.get("alg") != "ES256":
            raise ValueError("JWT alg is not ES256")
        signature = _unb64url(sig_b64)
        if len(signature) != 64:
            raise ValueError("JWT signature is not 64 bytes")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64url(key))
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                   int.from_bytes(signature[32:], "big"))
        try:
            public.verify(der, f"{head_b64}.{claims_b64}".encode("ascii"),
                          ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ValueError("JWT signature does not verify") from None
        claims = json.loads(_unb64url(claims_b64))
        if claims.get("aud") != self.origin:
            raise ValueError(f"aud {claims.get('aud')!r} is not {self.origin}")
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= now or exp > now + MAX_EXP_SECONDS:
            raise ValueError("exp missing, past, or more than 24 hours ahead")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("sub is not a mailto: or https: contact")
        return claims

    def _receive(self, ident: str, headers: dict[str, str], body: bytes,
                 ) -> tuple[int, dict[str, str], str]:
        sub = self.subscriptions.get(ident)
        if sub is None:
            return 410, {}, "subscription expired or unsubscribed"
        try:
            claims = self._check_vapid(headers.get("authorization", ""), sub)
        except (ValueError, KeyError, TypeError) as exc:
            status = 403 if "another key" in str(exc) else 401
            self.rejected.append(Rejection(ident, status, str(exc)))
            return status, {}, str(exc)
        problems = []
        if not headers.get("ttl", "").isdigit():
            problems.append("TTL header missing")
        urgency = headers.get("urgency", "normal")
        if urgency not in URGENCIES:
            problems.append("Urgency not one of RFC 8030's")
        if body and headers.get("content-encoding") != "aes128gcm":
            problems.append("Content-Encoding is not aes128gcm")
        payload = b""
        if not problems and body:
            try:
                payload = http_ece.decrypt(body, private_key=sub.private_key,
                                           auth_secret=sub.auth, version="aes128gcm")
            except Exception as exc:  # any decryption failure is the sender's fault
                problems.append(f"payload does not decrypt: {exc!r}")
        if problems:
            self.rejected.append(Rejection(ident, 400, "; ".join(problems)))
            return 400, {}, "; ".join(problems)
        scripted = self._scripted_for(ident)
        if scripted is not None and scripted.status >= 300:
            return scripted.status, scripted.headers, "scripted"
        with self.lock:
            self.deliveries.append(Delivery(ident, payload, int(headers["ttl"]), urgency,
                                            headers.get("topic"), claims, dict(headers)))
        return 201, {"Location": f"{self.origin}/message/{uuid.uuid4().hex}"}, ""


def _handler_for(service: PushService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet tests
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            ident = self.path.rsplit("/", 1)[-1]
            if not self.path.startswith("/push/"):
                status, headers, text = 404, {}, "no such path"
            elif ident in service.hung:
                service.release.wait(60)
                return
            else:
                status, headers, text = service._receive(
                    ident, {k.lower(): v for k, v in self.headers.items()}, body)
            data = text.encode("utf-8")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
