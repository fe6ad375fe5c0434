"""Network health checks: TCP connect, HTTP(S) request, DNS lookup and ICMP ping.

Every check keeps within ``target.timeout`` on its own (a deadline shared by all its
steps), so a dead peer gives a ``failure`` result rather than the runner's timeout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import shutil
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import icmplib

from helpdesk_core import (CheckResult, CheckStatus, CheckTarget, deadline, describe_error,
                           http, translator)

_ = translator(__name__).gettext

PING_INTERVAL = 0.2  # seconds; iputils' minimum without privileges


class _Deadline:
    """The time left of a check's budget, for each blocking step."""

    def __init__(self, seconds: float) -> None:
        self.total = max(float(seconds), 0.1)
        self.ends = time.monotonic() + self.total

    def left(self) -> float:
        return self.ends - time.monotonic()

    def expired(self) -> bool:
        return self.left() <= 0


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)


def _host_port(address: str, default_port: int | None) -> tuple[str, int | None]:
    address = (address or "").strip()
    if "://" in address:
        parts = urlsplit(address)
        return parts.hostname or "", parts.port or default_port
    if address.startswith("[") and "]" in address:  # [IPv6]:port
        host, _sep, rest = address[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port.isdigit() else default_port
    if address.count(":") > 1:  # a bare IPv6 address
        return address, default_port
    host, _sep, port = address.rpartition(":")
    if host and port.isdigit():
        return host, int(port)
    return address, default_port


# --- TCP ------------------------------------------------------------------------------

async def _connect(host: str, port: int, trying: list[socket.socket]) -> None:
    """Connect to each of *host*'s addresses in turn until one accepts, then hang up
    (reaching it was the test); the socket being tried is ``trying[0]``."""
    loop = asyncio.get_running_loop()
    addresses = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    error: OSError = socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        trying[:] = [sock]
        try:
            await loop.sock_connect(sock, address)
            return
        except OSError as exc:
            error = exc
        finally:
            trying.clear()
            sock.close()
    raise error


async def check_tcp(target: CheckTarget) -> CheckResult:
    """Open a TCP connection to the asset's host and the configured port (a coroutine)."""
    host, port = _host_port(target.address, target.config.get("port"))
    if not host or not port:
        return CheckResult(CheckStatus.ERROR, _("No host or port configured."))
    started = time.monotonic()
    trying: list[socket.socket] = []
    try:
        # Not timed out while a finished connect waits for the loop to notice it.
        async with deadline.answer_deadline(
                max(float(target.timeout), 0.1),
                lambda: any(deadline.connected(sock) for sock in trying)):
            await _connect(host, int(port), trying)
    except (OSError, TimeoutError) as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot connect to %(host)s:%(port)s (%(error)s)",
                             host=host, port=port, error=describe_error(exc)))
    latency = _ms(started)
    return CheckResult(CheckStatus.OK, _("Port %(port)s is open", port=port),
                       {"latency_ms": latency})


# --- HTTP -----------------------------------------------------------------------------

def _flag(config: Any, name: str, default: bool) -> bool:
    value = config.get(name)
    return default if value is None else bool(value)


async def check_http(target: CheckTarget) -> CheckResult:
    """Request the URL: status code, latency, optionally a keyword in the body.

    A coroutine (``helpdesk_core.http``, on aiohttp): the scheduler runs many at once on
    its event loop. Config: ``expect_status`` (default 200), ``keyword``, ``verify_tls``
    (default on), ``follow_redirects`` (default on), ``slow_ms`` (warn above this
    latency). Values: ``status_code``, ``latency_ms`` (until the final answer's headers),
    ``redirects``, ``final_url``.
    """
    url = (target.address or "").strip()
    if "://" not in url:
        url = "http://" + url
    config = target.config
    expect = int(config.get("expect_status") or 200)
    keyword = (config.get("keyword") or "").strip()
    slow_ms = config.get("slow_ms")
    try:
        answer = await http.get(url, timeout=target.timeout, read_body=bool(keyword),
                                verify_tls=_flag(config, "verify_tls", True),
                                follow_redirects=_flag(config, "follow_redirects", True))
    except http.HttpError as exc:
        return CheckResult(CheckStatus.FAILURE, _failure_message(exc, url, target.timeout),
                           {"redirects": exc.redirects})
    latency = answer.latency_ms
    values = {"latency_ms": latency, "status_code": answer.status,
              "redirects": answer.redirects, "final_url": answer.url}
    if answer.status != expect:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s answered %(status)s instead of %(expected)s",
                             url=url, status=answer.status, expected=expect), values)
    if keyword and keyword not in answer.text:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s does not contain “%(keyword)s”", url=url,
                             keyword=keyword), values)
    if slow_ms and latency > float(slow_ms):
        return CheckResult(CheckStatus.WARNING,
                           _("%(url)s answered slowly: %(ms)s ms (limit %(limit)s ms)",
                             url=url, ms=latency, limit=slow_ms), values)
    return CheckResult(CheckStatus.OK, _("%(url)s answered %(status)s in %(ms)s ms",
                                         url=url, status=answer.status, ms=latency), values)


def _failure_message(error: "http.HttpError", url: str, timeout: float) -> str:
    if error.kind == "tls":
        return _("The HTTPS certificate of %(url)s is not valid (%(error)s)",
                 url=url, error=error.reason)
    if error.kind == "timeout":
        return _("%(url)s did not answer within %(seconds)s s", url=url, seconds=f"{timeout:g}")
    return _("No answer from %(url)s (%(error)s)", url=url, error=error.reason)


# --- DNS ------------------------------------------------------------------------------

async def _resolve_server(server: str) -> tuple[str, int]:
    host, port = _host_port(server, 53)
    try:
        ipaddress.ip_address(host)
        return host, int(port or 53)
    except ValueError:
        pass
    # A name: ask the system once for its address (the DNS server itself is not DNS-named
    # in practice, but a hostname in the asset list should still work).
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    return infos[0][4][0], int(port or 53)


async def check_dns(target: CheckTarget) -> CheckResult:
    """Look a name up through one DNS server; optionally expect a given address.

    A coroutine (dnspython's asyncio queries). Config: ``name`` (what to look up),
    ``server`` (``ip`` or ``ip:port``; empty: the asset's address), ``record_type``
    (A or AAAA), ``expect_address``. Values: ``addresses``, ``latency_ms``, ``server``,
    ``rcode``.
    """
    config = target.config
    name = (config.get("name") or "").strip().rstrip(".")
    server_text = (config.get("server") or "").strip() or (target.address or "").strip()
    rdtype = dns.rdatatype.from_text(config.get("record_type") or "A")
    expect = (config.get("expect_address") or "").strip()
    if not name or not server_text:
        return CheckResult(CheckStatus.ERROR, _("No DNS server or name configured."))
    budget = _Deadline(target.timeout)
    try:
        server, port = await _resolve_server(server_text)
    except OSError as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot find the DNS server %(server)s (%(error)s)",
                             server=server_text, error=describe_error(exc)))
    where = f"{server}:{port}" if port != 53 else server
    query = dns.message.make_query(name, rdtype)
    started = time.monotonic()
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    try:
        # A connected socket hears "port unreachable", so a server that is down fails at
        # once instead of waiting out the timeout.
        backend = dns.asyncbackend.get_default_backend()
        sock = await backend.make_socket(family, socket.SOCK_DGRAM, 0, None, (server, port))
        async with sock:
            response = await dns.asyncquery.udp(query, server, port=port, sock=sock,
                                                timeout=max(budget.left(), 0.05))
        if response.flags & dns.flags.TC:  # too big for UDP: ask again over TCP
            response = await dns.asyncquery.tcp(query, server, port=port,
                                                timeout=max(budget.left(), 0.05))
    except dns.exception.Timeout:
        return CheckResult(CheckStatus.FAILURE,
                           _("The DNS server %(server)s did not answer within %(seconds)s s",
                             server=where, seconds=f"{target.timeout:g}"), {"server": where})
    except (OSError, dns.exception.DNSException) as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot ask the DNS server %(server)s (%(error)s)",
                             server=where, error=describe_error(exc)), {"server": where})
    latency = _ms(started)
    rcode = dns.rcode.to_text(response.rcode())
    addresses = sorted({item.address for rrset in response.answer if rrset.rdtype == rdtype
                        for item in rrset})
    values = {"latency_ms": latency, "server": where, "rcode": rcode, "addresses": addresses}
    if response.rcode() == dns.rcode.NXDOMAIN:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(server)s says %(name)s does not exist", server=where, name=name),
                           values)
    if response.rcode() != dns.rcode.NOERROR:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(server)s could not look up %(name)s (%(rcode)s)",
                             server=where, name=name, rcode=rcode), values)
    if not addresses:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(server)s gave no address for %(name)s", server=where, name=name),
                           values)
    if expect and ipaddress.ip_address(expect) not in {ipaddress.ip_address(a) for a in addresses}:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(name)s resolves to %(addresses)s, not %(expected)s",
                             name=name, addresses=", ".join(addresses), expected=expect), values)
    return CheckResult(CheckStatus.OK,
                       _("%(name)s resolves to %(addresses)s (%(ms)s ms)",
                         name=name, addresses=", ".join(addresses), ms=latency), values)


# --- ICMP ping ------------------------------------------------------------------------

async def _ping_icmplib(host: str, count: int, reply_timeout: float) -> dict[str, Any]:
    # Raw sockets as root; otherwise datagram ICMP sockets, which the kernel allows only
    # for the groups in net.ipv4.ping_group_range (none, on stock Debian).
    result = await icmplib.async_ping(host, count=count, interval=PING_INTERVAL,
                                      timeout=reply_timeout, privileged=(os.geteuid() == 0))
    # icmplib swallows send errors (e.g. no route): trust the counters, not packet_loss.
    return {"method": "icmp", "packets_sent": result.packets_sent,
            "packets_received": result.packets_received,
            "rtt_min_ms": round(result.min_rtt, 3), "rtt_avg_ms": round(result.avg_rtt, 3),
            "rtt_max_ms": round(result.max_rtt, 3)}


_TRANSMITTED = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_RTT = re.compile(r"= ([\d.]+)/([\d.]+)/([\d.]+)/")


async def _ping_binary(host: str, count: int, reply_timeout: float,
                       seconds: float) -> dict[str, Any]:
    """The system ``ping`` (iputils, set-uid or with cap_net_raw) when ICMP sockets are denied."""
    binary = shutil.which("ping")
    if binary is None:
        raise FileNotFoundError("ping")
    command = [binary, "-n", "-q", "-c", str(count), "-i", str(PING_INTERVAL),
               "-W", str(max(1, round(reply_timeout))), "-w", str(max(1, int(seconds))), host]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "")})
    try:
        async with asyncio.timeout(seconds + 0.5):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    counts = _TRANSMITTED.search(stdout)
    if counts is None:  # unknown host, no route, ...: ping says why on stderr
        reason = (stderr or stdout).strip().splitlines()
        raise OSError(reason[-1] if reason else f"ping exited {process.returncode}")
    rtt = _RTT.search(stdout)
    low, avg, high = (float(v) for v in rtt.groups()) if rtt else (0.0, 0.0, 0.0)
    return {"method": "ping", "packets_sent": int(counts.group(1)),
            "packets_received": int(counts.group(2)),
            "rtt_min_ms": low, "rtt_avg_ms": avg, "rtt_max_ms": high}


async def check_ping(target: CheckTarget) -> CheckResult:
    """Send ICMP echo requests; report round-trip times and loss (a coroutine).

    Config: ``count`` (default 3), ``slow_ms`` (warn above this average).
    Values: ``packets_sent``, ``packets_received``, ``loss_percent``, ``rtt_min_ms``,
    ``rtt_avg_ms``, ``rtt_max_ms``, ``method`` (``icmp`` or ``ping``).
    """
    host, _port = _host_port(target.address, None)
    if not host:
        return CheckResult(CheckStatus.ERROR, _("No host configured."))
    count = int(target.config.get("count") or 3)
    slow_ms = target.config.get("slow_ms")
    budget = max(target.timeout * 0.8, 0.3)  # leave room to report before the hard limit
    reply_timeout = max((budget - (count - 1) * PING_INTERVAL) / count, 0.1)
    try:
        try:
            values = await _ping_icmplib(host, count, reply_timeout)
        except icmplib.SocketPermissionError:
            values = await _ping_binary(host, count, reply_timeout, budget)
    except icmplib.NameLookupError:
        return CheckResult(CheckStatus.FAILURE, _("Unknown host %(host)s", host=host))
    except (OSError, icmplib.ICMPLibError, TimeoutError) as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot ping %(host)s (%(error)s)", host=host,
                             error=describe_error(exc)))
    sent, received = values["packets_sent"], values["packets_received"]
    values["loss_percent"] = round(100.0 * (count - received) / count, 1)
    if sent == 0:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot send to %(host)s: no route to it", host=host), values)
    if received == 0:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(host)s does not answer (%(sent)s packets sent, none came back)",
                             host=host, sent=sent), values)
    if received < count:
        return CheckResult(CheckStatus.WARNING,
                           _("%(host)s lost %(loss)s%% of packets; average %(ms)s ms",
                             host=host, loss=values["loss_percent"], ms=values["rtt_avg_ms"]),
                           values)
    if slow_ms and values["rtt_avg_ms"] > float(slow_ms):
        return CheckResult(CheckStatus.WARNING,
                           _("%(host)s answers slowly: %(ms)s ms on average (limit %(limit)s ms)",
                             host=host, ms=values["rtt_avg_ms"], limit=slow_ms), values)
    return CheckResult(CheckStatus.OK,
                       _("%(host)s answers: %(ms)s ms on average, no loss",
                         host=host, ms=values["rtt_avg_ms"]), values)
