"""Signing health checks: certificate expiry, and the local VGCA Sign Service.

Both read certificates without verifying them on purpose: an expired or self-signed
certificate is exactly what they must be able to look at.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import math
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidURI, WebSocketException

from helpdesk_core import (CheckResult, CheckStatus, CheckTarget, deadline, describe_error,
                           translator)

_ = translator(__name__).gettext

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
SIGN_SERVICE = "wss://127.0.0.1:8987"


class _Deadline:
    """The time left of a check's budget, for each blocking step."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + max(float(seconds), 0.1)

    def left(self) -> float:
        return max(self.ends - time.monotonic(), 0.05)


def _no_verify_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _error_text(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    address = address.strip()
    if "://" in address:
        parts = urlsplit(address)
        return parts.hostname or "", parts.port or default_port
    if address.startswith("[") and "]" in address:
        host, _sep, rest = address[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port.isdigit() else default_port
    if address.count(":") > 1:
        return address, default_port
    host, _sep, port = address.rpartition(":")
    if host and port.isdigit():
        return host, int(port)
    return address, default_port


# --- certificate expiry ---------------------------------------------------------------

def _load_file(path: str) -> x509.Certificate:
    with open(path, "rb") as handle:
        data = handle.read()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)[0]  # the first one is the leaf
    return x509.load_der_x509_certificate(data)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _fetch_peer(host: str, port: int, budget: _Deadline) -> x509.Certificate:
    async with asyncio.timeout(budget.left()):
        _reader, writer = await asyncio.open_connection(
            host, port, ssl=_no_verify_context(),
            server_hostname=None if _is_ip(host) else host)
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.transport.abort()  # no TLS goodbye: the certificate was all we wanted
    return x509.load_der_x509_certificate(der)


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def _local_date(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y")


async def check_cert_expiry(target: CheckTarget) -> CheckResult:
    """How long a certificate stays valid: from a file, or from a TLS endpoint (a coroutine).

    Config: ``cert_file`` (PEM or DER path; empty: the asset's address as ``host:port``,
    port 443 by default; an address starting with ``/`` is a file too), ``warn_days``
    (default 30). Values: ``days_left``, ``not_after`` (ISO, UTC), ``subject_cn``,
    ``issuer_cn``, ``source``.
    """
    config = target.config
    warn_days = config.get("warn_days")
    warn_days = 30 if warn_days in (None, "") else int(warn_days)
    path = (config.get("cert_file") or "").strip()
    address = (target.address or "").strip()
    if not path and address.startswith(("/", "file://")):
        path = address.removeprefix("file://")
    budget = _Deadline(target.timeout)
    try:
        if path:
            source = path
            cert = _load_file(path)
        else:
            host, port = _host_port(address, 443)
            if not host:
                return CheckResult(CheckStatus.ERROR,
                                   _("No certificate file or address configured."))
            source = f"{host}:{port}"
            cert = await _fetch_peer(host, port, budget)
    except (socket.timeout, TimeoutError):
        return CheckResult(CheckStatus.FAILURE,
                           _("%(source)s did not answer within %(seconds)s s",
                             source=source, seconds=f"{target.timeout:g}"))
    except (OSError, ssl.SSLError) as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot read the certificate from %(source)s (%(error)s)",
                             source=source, error=describe_error(exc)))
    except ValueError as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(source)s is not a certificate (%(error)s)",
                             source=source, error=_error_text(exc)))
    now = dt.datetime.now(dt.timezone.utc)
    not_after, not_before = cert.not_valid_after_utc, cert.not_valid_before_utc
    days_left = math.floor((not_after - now).total_seconds() / 86400)
    subject = _common_name(cert.subject)
    values: dict[str, Any] = {"days_left": days_left, "not_after": not_after.isoformat(),
                              "subject_cn": subject, "issuer_cn": _common_name(cert.issuer),
                              "source": source}
    if now >= not_after:
        return CheckResult(CheckStatus.FAILURE,
                           _("The certificate of %(subject)s expired on %(date)s",
                             subject=subject, date=_local_date(not_after)), values)
    if now < not_before:
        return CheckResult(CheckStatus.FAILURE,
                           _("The certificate of %(subject)s is valid only from %(date)s",
                             subject=subject, date=_local_date(not_before)), values)
    if days_left <= warn_days:
        return CheckResult(CheckStatus.WARNING,
                           _("The certificate of %(subject)s expires on %(date)s, in %(days)s "
                             "days", subject=subject, date=_local_date(not_after),
                             days=days_left), values)
    return CheckResult(CheckStatus.OK,
                       _("The certificate of %(subject)s is valid until %(date)s (%(days)s days "
                         "left)", subject=subject, date=_local_date(not_after), days=days_left),
                       values)


# --- VGCA Sign Service ----------------------------------------------------------------

def _service_url(address: str) -> str:
    address = (address or "").strip() or SIGN_SERVICE
    scheme = urlsplit(address).scheme if "://" in address else "wss"
    host, port = _host_port(address, 8987)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}/GetVersion"


async def check_sign_service(target: CheckTarget) -> CheckResult:
    """Ask the local signing service for its version (``"version"`` to ``/GetVersion``).

    The VGCA Sign Service answers JSON ``{"Status": 0, "Message": ...}``; any other
    ``Status`` carries an ``Error``. The address defaults to ``wss://127.0.0.1:8987``; the
    service's certificate is self-signed, so it is not verified.
    Values: ``status``, ``message``, ``latency_ms``, ``url``.
    """
    url = _service_url(target.address)
    started = time.monotonic()
    opened: list[asyncio.BaseTransport] = []
    try:
        # Not timed out while the service's reply waits for a busy loop to read it.
        async with deadline.answer_deadline(target.timeout, deadline.answered_on(opened)):
            async with connect(url, ssl=_no_verify_context() if url.startswith("wss:") else None,
                               open_timeout=None, close_timeout=min(target.timeout, 1.0),
                               proxy=None) as websocket:
                opened.append(websocket.transport)
                await websocket.send("version")
                reply = await websocket.recv()
    except ConnectionRefusedError:
        return CheckResult(CheckStatus.FAILURE,
                           _("The signing service is not running at %(url)s", url=url),
                           {"url": url})
    except TimeoutError:
        return CheckResult(CheckStatus.FAILURE,
                           _("The signing service at %(url)s did not answer within %(seconds)s s",
                             url=url, seconds=f"{target.timeout:g}"), {"url": url})
    except InvalidURI:
        return CheckResult(CheckStatus.ERROR,
                           _("Not a signing service address: %(url)s", url=url))
    except (OSError, WebSocketException) as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot talk to the signing service at %(url)s (%(error)s)",
                             url=url, error=describe_error(exc)), {"url": url})
    latency = round((time.monotonic() - started) * 1000, 2)
    try:
        answer = json.loads(reply)
        status = int(answer["Status"])
    except (TypeError, ValueError, KeyError):
        return CheckResult(CheckStatus.FAILURE,
                           _("The signing service gave an unexpected answer: %(reply)s",
                             reply=str(reply)[:200]), {"url": url, "latency_ms": latency})
    message = str(answer.get("Message") or answer.get("Error") or "")
    values = {"status": status, "message": message, "latency_ms": latency, "url": url}
    if status != 0:
        return CheckResult(CheckStatus.FAILURE,
                           _("The signing service reports error %(status)s: %(error)s",
                             status=status, error=message), values)
    return CheckResult(CheckStatus.OK,
                       _("The signing service answers (version %(version)s)",
                         version=message or "?"), values)

