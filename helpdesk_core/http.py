"""HTTP for coroutine health checks, reading the environment as the built-in ``http`` check.

``await http.get(url, timeout=target.timeout)`` requests *url* with aiohttp on the
running event loop and honours what the process was started with: ``HTTP_PROXY`` /
``HTTPS_PROXY`` / ``NO_PROXY``, a CA bundle in ``REQUESTS_CA_BUNDLE``,
``CURL_CA_BUNDLE`` or ``SSL_CERT_FILE``, and logins in ``NETRC`` or ``~/.netrc``. It
returns an :class:`HttpAnswer` whatever the status code, and raises :class:`HttpError`
(with a short reason to put in a message) when no answer came.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:  # imported where a request is made: web workers never load them
    import netrc

    import aiohttp

from .deadline import answer_deadline, answered_on
from .neterrors import describe_error

MAX_REDIRECTS = 10
MAX_BODY_BYTES = 2 * 1024 * 1024  # enough to find a keyword; a bigger page is cut
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class HttpAnswer:
    """What the server answered (after redirects, when followed)."""

    status: int
    url: str  # the final URL
    headers: dict[str, str]
    body: bytes  # at most ``max_body`` bytes; empty when not read
    charset: str | None
    latency_ms: float  # until the final answer's headers
    redirects: int = 0

    @property
    def text(self) -> str:
        """The body decoded with the answer's charset (UTF-8 if it names none)."""
        return self.body.decode(self.charset or "utf-8", errors="replace")


@dataclass
class HttpError(Exception):
    """No usable answer: ``kind`` says why, ``reason`` says it in a few words."""

    kind: Literal["tls", "timeout", "connect", "protocol"]
    reason: str
    redirects: int = 0
    cause: BaseException | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


class HttpEnvironment(NamedTuple):
    """What the process's environment says about outbound HTTP."""

    proxies: dict[str, str]  # HTTP_PROXY, HTTPS_PROXY, NO_PROXY, as urllib reads them
    ca_bundle: str | None  # REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE or SSL_CERT_FILE
    netrc: netrc.netrc | None  # NETRC or ~/.netrc: logins per host, as curl and requests


_ENVIRONMENT: HttpEnvironment | None = None

# One connector per long-lived event loop that asked for it (:func:`keep_connector`).
_KEPT_CONNECTORS: dict[asyncio.AbstractEventLoop, "aiohttp.TCPConnector"] = {}
# The transports of the request under way in this task (:func:`_new_connector`).
_OPENED: contextvars.ContextVar[list[asyncio.Transport] | None] = contextvars.ContextVar(
    "helpdesk_http_opened", default=None)


def environment() -> HttpEnvironment:
    """The proxies, CA bundle and logins of the environment, as ``requests`` reads them.

    Read once per process, not on every request: the environment of a running service
    does not change, and reading all of it was a fifth of a check's CPU in a sweep of
    1,000 (bench/sweep.py). Tests that change it call :func:`reset_environment`.
    """
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        import netrc
        import urllib.request
        bundle = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
                  or os.environ.get("SSL_CERT_FILE"))
        logins = None
        for path in (os.environ.get("NETRC"), os.path.expanduser("~/.netrc"),
                     os.path.expanduser("~/_netrc")):
            if path and os.path.exists(path):
                try:
                    logins = netrc.netrc(path)
                except (OSError, netrc.NetrcParseError):
                    pass  # as requests: an unreadable file means no logins
                break
        _ENVIRONMENT = HttpEnvironment(urllib.request.getproxies(), bundle or None, logins)
    return _ENVIRONMENT


def reset_environment() -> None:
    """Forget the environment read so far; the next request reads it again."""
    global _ENVIRONMENT
    _ENVIRONMENT = None


@functools.cache
def _connector_class() -> type:
    import aiohttp

    class Connector(aiohttp.TCPConnector):
        """Tells the request under way (:data:`_OPENED`) each connection's transport:
        aiohttp lets go of a connection as soon as a small answer is read, and the
        request must still shut it itself (:func:`_shut`)."""

        async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:
            protocol = await super()._create_connection(req, traces, timeout)
            opened = _OPENED.get()
            if opened is not None and protocol.transport is not None:
                opened.append(protocol.transport)
            return protocol

    return Connector


@functools.cache
def _no_timers() -> aiohttp.ClientTimeout:
    import aiohttp
    return aiohttp.ClientTimeout()


def _new_connector() -> aiohttp.TCPConnector:
    # A fresh connection per request (no keep-alive): checks are about reaching it.
    return _connector_class()(force_close=True, limit=0, happy_eyeballs_delay=None)


async def _shut(transports: list[asyncio.Transport]) -> None:
    """Abort the request's connections, not a TLS goodbye, which waits for the peer; then
    let the loop turn once so their sockets are closed before the request returns: a
    caller's ``asyncio.run()`` would otherwise close the loop with a socket still open
    (a transport collected unclosed)."""
    for transport in transports:
        transport.abort()
    if transports:
        await asyncio.sleep(0)


async def keep_connector() -> None:
    """Share one connector among the running loop's requests until :func:`drop_connector`.

    For a long-lived loop (the scheduler's): building a connector per request was a
    tenth of an HTTP check's CPU in a sweep of 5,000 devices (bench/sweep.py). Each
    request still has a session and cookies of its own, and a fresh connection: the
    connector keeps none (``force_close``). Short-lived loops (``asyncio.run`` of one
    check) do not ask, and build one per request.
    """
    loop = asyncio.get_running_loop()
    if loop not in _KEPT_CONNECTORS:
        _KEPT_CONNECTORS[loop] = _new_connector()


async def drop_connector() -> None:
    """Close the running loop's kept connector, if it has one."""
    connector = _KEPT_CONNECTORS.pop(asyncio.get_running_loop(), None)
    if connector is not None:
        await connector.close()


def _login_for(url: str, logins: netrc.netrc | None) -> dict[str, str] | None:
    """The netrc login for the URL's host as headers, unless the URL carries its own."""
    parts = urlsplit(url)
    if logins is None or parts.username is not None:
        return None
    entry = logins.authenticators(parts.hostname or "")
    if not entry:
        return None
    login, account, password = entry
    import aiohttp
    return {"Authorization": aiohttp.encode_basic_auth(login or account or "", password or "")}


def _proxy_for(url: str, proxies: dict[str, str]) -> str | None:
    if not proxies:
        return None
    import urllib.request
    parts = urlsplit(url)
    if urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


@functools.lru_cache(maxsize=8)
def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    """A verifying TLS context trusting *ca_bundle* (building one reads the file: once)."""
    return ssl.create_default_context(cafile=ca_bundle)


async def _read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, at most *limit* bytes."""
    chunks, size = [], 0
    while size < limit:
        chunk = await response.content.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit]


async def get(url: str, *, timeout: float, verify_tls: bool = True,
              follow_redirects: bool = True, read_body: bool = True,
              max_body: int = MAX_BODY_BYTES,
              headers: dict[str, str] | None = None, use_proxy: bool = True) -> HttpAnswer:
    """GET *url* within *timeout* seconds in all, on a fresh connection.

    A URL without a scheme gets ``http://``. Redirects are followed (at most
    ``MAX_REDIRECTS``) unless *follow_redirects* is off; the body is read (at most
    *max_body* bytes) unless *read_body* is off. *use_proxy* off ignores the
    environment's proxies (a device on the office network is asked directly).
    """
    return await request("GET", url, timeout=timeout, verify_tls=verify_tls,
                         follow_redirects=follow_redirects, read_body=read_body,
                         max_body=max_body, headers=headers, use_proxy=use_proxy)


async def request(method: str, url: str, *, timeout: float, data: bytes | None = None,
                  verify_tls: bool = True, follow_redirects: bool = True,
                  read_body: bool = True, max_body: int = MAX_BODY_BYTES,
                  headers: dict[str, str] | None = None,
                  use_proxy: bool = True) -> HttpAnswer:
    """:func:`get` with any *method* and a request body *data* (e.g. an IPP POST).

    :raises HttpError: the certificate is not valid (``tls``), no answer in time
        (``timeout``), no connection (``connect``), or a broken answer or URL
        (``protocol``).
    """
    import aiohttp  # the scheduler's and the CLI's, not the web's

    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    proxies, ca_bundle, logins = environment()
    if not use_proxy:
        proxies = {}
    tls: ssl.SSLContext | bool = True  # aiohttp's own verifying context
    if not verify_tls:
        tls = False
    elif ca_bundle:
        tls = _tls_context(ca_bundle)
    started = time.monotonic()
    redirects = 0
    opened: list[asyncio.Transport] = []
    token = _OPENED.set(opened)
    try:
        # The request's deadline, unless its answer is there and the loop late to read it.
        async with answer_deadline(max(float(timeout), 0.1), answered_on(opened)):
            kept = _KEPT_CONNECTORS.get(asyncio.get_running_loop())
            # aiohttp's own timers (5 minutes in all by default) off: the deadline above
            # is the request's, and each timer cost a check CPU.
            async with aiohttp.ClientSession(connector=kept or _new_connector(),
                                             connector_owner=kept is None,
                                             timeout=_no_timers(), trust_env=False) as session:
                try:
                    current = url
                    while True:
                        response = await session.request(
                            method, current, data=data, allow_redirects=False, ssl=tls,
                            proxy=_proxy_for(current, proxies),
                            headers={**(_login_for(current, logins) or {}), **(headers or {})})
                        if (follow_redirects and response.status in REDIRECT_STATUSES
                                and "location" in response.headers
                                and redirects < MAX_REDIRECTS):
                            redirects += 1
                            current = urljoin(current, response.headers["location"])
                            response.release()
                            continue
                        break
                    latency = round((time.monotonic() - started) * 1000, 2)
                    try:
                        body = await _read_body(response, max_body) if read_body else b""
                    finally:  # cut off at the deadline too: the connection goes with it
                        response.close()
                finally:
                    await _shut(opened)
    except aiohttp.ClientSSLError as exc:
        raise HttpError("tls", describe_error(exc), redirects, exc) from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise HttpError("timeout", f"{float(timeout):g} s", redirects, exc) from exc
    except aiohttp.ClientConnectorError as exc:
        raise HttpError("connect", describe_error(exc), redirects, exc) from exc
    except (aiohttp.ClientError, ValueError) as exc:  # a broken answer, a malformed URL
        raise HttpError("protocol", describe_error(exc), redirects, exc) from exc
    finally:
        _OPENED.reset(token)
    return HttpAnswer(response.status, str(response.url), dict(response.headers), body,
                      response.charset, latency, redirects)

