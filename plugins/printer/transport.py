"""Small helpers the device checks share: addresses, and HTTP to a device (coroutines)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from helpdesk_core import http

MAX_BODY = 1024 * 1024  # a status answer is a few kB; anything bigger is not a printer


class BodyTooLarge(Exception):
    """The device sent more than :data:`MAX_BODY` bytes."""


@dataclass(frozen=True)
class Endpoint:
    """Where to send a request: scheme (http/https), host, port and path."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def parse_address(address: str, *, default_port: int | dict[str, int], default_path: str,
                  tls: bool = False, schemes: dict[str, str] | None = None) -> Endpoint:
    """Read ``host``, ``host:port`` or a URL into an :class:`Endpoint`.

    :param default_port: the port when the address has none, or a mapping from the
        address's scheme (``ipp``, ``http``...) to its default port.
    :param default_path: the path when the address has none.
    :param tls: use https when the address has no scheme.
    :param schemes: URL scheme -> transport scheme, e.g. ``{"ipp": "http", "ipps": "https"}``;
        ``http`` and ``https`` are always understood.
    :raises ValueError: no host in the address, an unknown scheme or a bad port.
    """
    address = (address or "").strip()
    mapping = {"http": "http", "https": "https", **(schemes or {})}
    if "://" not in address:
        address = f"{'https' if tls else 'http'}://{address}"
    parts = urlsplit(address)
    given = parts.scheme.lower()
    scheme = mapping.get(given)
    if scheme is None:
        raise ValueError(f"unknown scheme {parts.scheme!r}")
    host = parts.hostname
    if not host:
        raise ValueError("no host")
    port = parts.port  # raises ValueError for a port out of range or not a number
    if port is None:
        port = default_port.get(given, 80 if scheme == "http" else 443) \
            if isinstance(default_port, dict) else default_port
    path = parts.path.rstrip("/") or default_path
    if parts.query:
        path = f"{path}?{parts.query}"
    return Endpoint(scheme, host, port, path)


async def post(endpoint: Endpoint, timeout: float, data: bytes,
               headers: dict[str, str]) -> tuple[int, str, bytes]:
    """POST *data* within *timeout* seconds: status, content type and body.

    TLS certificates are not verified: printers and scanners ship self-signed ones, and
    the check is about the device being up, not about its identity. No proxy: the device
    is on the office network.

    :raises http.HttpError: no answer in time or no connection.
    :raises BodyTooLarge: more than :data:`MAX_BODY` bytes came.
    """
    return _answer(await http.request("POST", endpoint.url, timeout=timeout, data=data,
                                      headers=headers, **_DEVICE))


async def get(endpoint: Endpoint, timeout: float,
              headers: dict[str, str]) -> tuple[int, str, bytes]:
    """:func:`post` for a GET."""
    return _answer(await http.get(endpoint.url, timeout=timeout, headers=headers, **_DEVICE))


# How devices are asked: certificates unverified, no redirects, no proxy, a bounded body.
_DEVICE = dict(verify_tls=False, follow_redirects=False, use_proxy=False,
               max_body=MAX_BODY + 1)


def _answer(answer: "http.HttpAnswer") -> tuple[int, str, bytes]:
    if len(answer.body) > MAX_BODY:
        raise BodyTooLarge(len(answer.body))
    return answer.status, answer.headers.get("Content-Type", ""), answer.body


def elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)
