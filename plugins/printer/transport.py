"""Small helpers the device checks share: addresses, deadlines, bounded HTTP reads."""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InsecureRequestWarning

MAX_BODY = 1024 * 1024  # a status answer is a few kB; anything bigger is not a printer
CHUNK = 16 * 1024

# catch_warnings() swaps a process-wide list; serialise our own use of it so two
# unverified requests in parallel cannot leave a stray filter behind.
_insecure_lock = threading.Lock()


class DeadlineExceeded(Exception):
    """The device kept the connection open past the check's time budget."""


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


def read_limited(response: requests.Response, deadline: float) -> bytes:
    """Read a streamed body, giving up at *deadline* (monotonic) or past :data:`MAX_BODY`.

    The read timeout of requests bounds each ``recv``, not the whole body: a device that
    trickles bytes would keep us forever. A timer shuts the socket down at the deadline,
    which unblocks the read.
    """
    fired = threading.Event()

    def abort() -> None:
        fired.set()
        try:
            response.raw.shutdown()
        except Exception:  # already finished or released: nothing to unblock
            pass

    timer = threading.Timer(max(deadline - time.monotonic(), 0.0), abort)
    timer.daemon = True
    timer.start()
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY:
                raise BodyTooLarge(size)
    except (requests.RequestException, OSError) as exc:
        if fired.is_set():
            raise DeadlineExceeded() from exc
        raise
    finally:
        timer.cancel()
    if fired.is_set():
        raise DeadlineExceeded()
    return b"".join(chunks)


def request(method: str, endpoint: Endpoint, deadline: float, *, data: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """One HTTP request that ends by *deadline*: returns status, content type and body.

    TLS certificates are not verified: printers and scanners ship self-signed ones, and
    the check is about the device being up, not about its identity.
    """
    remaining = max(deadline - time.monotonic(), 0.05)
    kwargs = dict(data=data, headers=headers or {}, timeout=(remaining, remaining),
                  stream=True, allow_redirects=False)
    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment must not sit in between
        if endpoint.scheme == "https":
            if not _insecure_lock.acquire(timeout=remaining):
                raise DeadlineExceeded()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", InsecureRequestWarning)
                    response = session.request(method, endpoint.url, verify=False, **kwargs)
                    with response:
                        body = read_limited(response, deadline)
            finally:
                _insecure_lock.release()
        else:
            response = session.request(method, endpoint.url, **kwargs)
            with response:
                body = read_limited(response, deadline)
    return response.status_code, response.headers.get("Content-Type", ""), body


def elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)
