"""Network health checks: a TCP connect and an HTTP(S) request."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import requests

from helpdesk_core import CheckResult, CheckStatus, CheckTarget
from helpdesk_core import gettext as _


def _host_port(address: str, default_port: int | None) -> tuple[str, int | None]:
    if "://" in address:
        parts = urlsplit(address)
        return parts.hostname or "", parts.port or default_port
    host, _sep, port = address.rpartition(":")
    if host and port.isdigit():
        return host.strip("[]"), int(port)
    return address, default_port


def check_tcp(target: CheckTarget) -> CheckResult:
    """Open a TCP connection to the asset's host and the configured port."""
    host, port = _host_port(target.address, target.config.get("port"))
    if not host or not port:
        return CheckResult(CheckStatus.ERROR, _("No host or port configured."))
    started = time.monotonic()
    try:
        with socket.create_connection((host, int(port)), timeout=target.timeout):
            pass
    except OSError as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot connect to %(host)s:%(port)s (%(error)s)",
                             host=host, port=port, error=exc.strerror or exc.__class__.__name__))
    latency = round((time.monotonic() - started) * 1000, 2)
    return CheckResult(CheckStatus.OK, _("Port %(port)s is open", port=port),
                       {"latency_ms": latency})


def check_http(target: CheckTarget) -> CheckResult:
    """Request the URL; check the status code and, optionally, a keyword in the body."""
    url = target.address
    expect = int(target.config.get("expect_status") or 200)
    keyword = (target.config.get("keyword") or "").strip()
    started = time.monotonic()
    try:
        response = requests.get(url, timeout=target.timeout, allow_redirects=True)
    except requests.RequestException as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("No answer from %(url)s (%(error)s)", url=url,
                             error=exc.__class__.__name__))
    latency = round((time.monotonic() - started) * 1000, 2)
    values = {"latency_ms": latency, "status_code": response.status_code}
    if response.status_code != expect:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s answered %(status)s instead of %(expected)s",
                             url=url, status=response.status_code, expected=expect), values)
    if keyword and keyword not in response.text:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s does not contain “%(keyword)s”", url=url, keyword=keyword),
                           values)
    return CheckResult(CheckStatus.OK, _("%(url)s answered %(status)s in %(ms)s ms",
                                         url=url, status=response.status_code, ms=latency), values)
