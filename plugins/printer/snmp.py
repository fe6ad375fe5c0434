"""SNMP printer check: HOST-RESOURCES-MIB printer status and Printer-MIB supply levels.

Two PDUs per printer, sent at once over one UDP socket on the caller's event loop: a
GET of the three status OIDs and a GETBULK over the three supply columns, replies
matched by request-id; a further GETBULK only when the table did not end within the
first. Requests are built with pysnmp's protocol API (SNMPv2c) and pyasn1's BER encoder,
replies read by :mod:`.snmp_ber`: no ``SnmpEngine``, no MIBs, no thread of its own. The check's own timeout bounds the
whole exchange. The blocking :func:`check_snmp_printer` runs the coroutine on a loop of
its own.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from typing import Any

from pyasn1.codec.ber import encoder
from pysnmp.proto import rfc1905
from pysnmp.proto.api import v2c

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, deadline, translator

from . import reasons as reason_text
from . import snmp_ber

_ = translator(__name__).gettext

DEFAULT_PORT = 161
DEFAULT_COMMUNITY = "public"
DEFAULT_LOW_SUPPLY = 10
# Rows asked per GETBULK: a mono printer's few supplies and the row past them fit in one PDU;
# a colour one takes two or three. Every row past the table is read for nothing.
BULK_REPETITIONS = 4
# GETBULKs per printer at most: an agent whose OIDs never leave the table stops here.
MAX_BULKS = 16
# Request-ids are drawn from here: each takes 4 octets in BER, so a request encoded once
# takes any of them in place (_template).
REQUEST_IDS = (0x00800000, 0x7FFFFFFF)

HR_DEVICE_STATUS = "1.3.6.1.2.1.25.3.2.1.5"        # .hrDeviceIndex
HR_PRINTER_STATUS = "1.3.6.1.2.1.25.3.5.1.1"       # .hrDeviceIndex
HR_PRINTER_ERRORS = "1.3.6.1.2.1.25.3.5.1.2"       # .hrDeviceIndex, BITS
SUPPLY_DESCRIPTION = "1.3.6.1.2.1.43.11.1.1.6"     # .hrDeviceIndex.supplyIndex
SUPPLY_MAX = "1.3.6.1.2.1.43.11.1.1.8"
SUPPLY_LEVEL = "1.3.6.1.2.1.43.11.1.1.9"
SUPPLY_COLUMNS = (SUPPLY_DESCRIPTION, SUPPLY_MAX, SUPPLY_LEVEL)

PRINTER_STATUS = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}
DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}

# hrPrinterDetectedErrorState bits, bit 0 = most significant bit of the first octet.
ERROR_BITS = ("lowPaper", "noPaper", "lowToner", "noToner", "doorOpen", "jammed", "offline",
              "serviceRequested", "inputTrayMissing", "outputTrayMissing",
              "markerSupplyMissing", "outputNearFull", "outputFull", "inputTrayEmpty",
              "overduePreventMaint")
FAILURE_CONDITIONS = frozenset({"noPaper", "noToner", "doorOpen", "jammed", "offline",
                                "serviceRequested", "inputTrayMissing", "outputTrayMissing",
                                "markerSupplyMissing", "outputFull"})
WARNING_CONDITIONS = frozenset({"lowPaper", "lowToner", "outputNearFull", "inputTrayEmpty",
                                "overduePreventMaint"})


class NoAnswer(Exception):
    """The agent did not reply (host down, port closed or wrong community)."""


class SnmpFailed(Exception):
    """The agent replied with an SNMP error."""


def decode_conditions(octets: bytes) -> list[str]:
    """Names of the bits set in an hrPrinterDetectedErrorState value."""
    found = []
    for bit, name in enumerate(ERROR_BITS):
        byte = bit // 8
        if byte < len(octets) and octets[byte] & (0x80 >> (bit % 8)):
            found.append(name)
    return found


def supply_percent(level: int | None, maximum: int | None) -> int | None:
    """Level as a percentage of the maximum; None when either is unknown (RFC 3805 negatives)."""
    if level is None or maximum is None or level < 0 or maximum <= 0:
        return None
    return max(0, min(100, round(level * 100 / maximum)))


# --- SNMPv2c messages ----------------------------------------------------------------

@functools.lru_cache(maxsize=4096)  # every sweep asks each printer the same OIDs
def _oid(text: str) -> tuple[int, ...]:
    return tuple(map(int, text.split(".")))


def _encode(community: str, bulk: bool, oids: tuple, request_id: int) -> bytes:
    pdu = v2c.GetBulkRequestPDU() if bulk else v2c.GetRequestPDU()
    api = v2c.apiBulkPDU if bulk else v2c.apiPDU
    api.set_defaults(pdu)
    api.set_request_id(pdu, request_id)
    if bulk:
        api.set_non_repeaters(pdu, 0)
        api.set_max_repetitions(pdu, BULK_REPETITIONS)
    api.set_varbinds(pdu, [(v2c.ObjectIdentifier(oid), v2c.null) for oid in oids])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, community)
    v2c.apiMessage.set_pdu(message, pdu)
    return encoder.encode(message)


@functools.lru_cache(maxsize=512)
def _template(community: str, bulk: bool, oids: tuple) -> tuple[bytes, int]:
    """A request encoded once, and where its request-id's 4 octets are: every printer
    asks the same, and pyasn1's encoder was a tenth of a sweep's CPU."""
    one = _encode(community, bulk, oids, REQUEST_IDS[1] - 1)
    other = _encode(community, bulk, oids, REQUEST_IDS[1] - 2)
    last_octet = next(at for at, (a, b) in enumerate(zip(one, other)) if a != b)
    return one, last_octet - 3


def _request(community: str, bulk: bool, oids: tuple, request_id: int) -> bytes:
    """The GET (or GETBULK) of *oids* with *request_id* (within ``REQUEST_IDS``)."""
    encoded, at = _template(community, bulk, oids)
    return encoded[:at] + request_id.to_bytes(4, "big") + encoded[at + 4:]


def _bindings(reply: snmp_ber.Response) -> list[tuple[tuple[int, ...], Any]]:
    """The reply's variable bindings as (OID, value); ``SnmpFailed`` on an error."""
    if reply.error_status:
        raise SnmpFailed(rfc1905.errorStatus.clone(reply.error_status).prettyPrint())
    return reply.bindings


class _Exchange(asyncio.DatagramProtocol):
    """One printer's requests on one connected UDP socket, replies matched by request-id."""

    def __init__(self, community: str) -> None:
        self.community = community
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[int, asyncio.Future] = {}
        self.asked: list[asyncio.Future] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def ask(self, oids: list[tuple[int, ...]], bulk: bool = False) -> asyncio.Future:
        """GET (or GETBULK) *oids*; the future gets the response PDU with the same
        request-id."""
        request_id = random.randrange(*REQUEST_IDS)
        while request_id in self.waiting:
            request_id = random.randrange(*REQUEST_IDS)
        future = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = future
        self.asked.append(future)
        self.transport.sendto(_request(self.community, bulk, tuple(oids), request_id))
        return future

    def close(self) -> None:
        """Close the socket; a reply or failure nobody awaited is let go without a log."""
        for future in self.asked:
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved: asyncio logs an unretrieved one
        self.transport.close()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            reply = snmp_ber.read_response(data)
        except snmp_ber.Malformed:
            return  # not an SNMP response: a reply to nothing we asked
        future = self.waiting.pop(reply.request_id, None)  # a stale or foreign id finds none
        if future is not None and not future.done():
            future.set_result(reply)

    def error_received(self, exc: Exception) -> None:
        # The system says the port is closed (ICMP): nobody will answer.
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(NoAnswer(str(exc)))
        self.waiting.clear()


async def _supply_table(exchange: _Exchange, device: int, first: asyncio.Future) -> dict:
    """The supply columns' cells by column and supply index, GETBULK after GETBULK until
    every column has left its table (or the agent says endOfMibView)."""
    columns = [_oid(f"{column}.{device}") for column in SUPPLY_COLUMNS]
    cells: dict[tuple[int, ...], dict[str, Any]] = {column: {} for column in columns}
    last = {column: column for column in columns}  # where each column's walk has got to
    reply, bulks = await first, 1
    while True:
        asked = [column for column in columns if last[column] is not None]
        bindings = _bindings(reply)
        for position, (oid, value) in enumerate(bindings):
            column = asked[position % len(asked)]
            if last[column] is None:
                continue
            inside = len(oid) > len(column) and oid[:len(column)] == column
            if not inside or oid <= last[column] or value is None or value is snmp_ber.MISSING:
                last[column] = None  # past the column's end (or an agent going backwards)
                continue
            cells[column][".".join(map(str, oid[len(column):]))] = value
            last[column] = oid
        still = [last[column] for column in asked if last[column] is not None]
        if not still or not bindings or bulks >= MAX_BULKS:
            break
        reply, bulks = await exchange.ask(still, bulk=True), bulks + 1
    return {name: cells[column] for name, column in zip(SUPPLY_COLUMNS, columns)}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip("\x00 ").strip()
    return str(value)


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) else None


async def _query(host: str, port: int, community: str, device: int,
                 opened: list[asyncio.BaseTransport]) -> dict:
    loop = asyncio.get_running_loop()
    try:
        transport, exchange = await loop.create_datagram_endpoint(
            lambda: _Exchange(community), remote_addr=(host, port))
    except OSError as exc:  # a name that does not resolve, no route
        raise NoAnswer(str(exc)) from exc
    opened.append(transport)
    try:
        status = exchange.ask([_oid(f"{base}.{device}") for base in (
            HR_PRINTER_STATUS, HR_PRINTER_ERRORS, HR_DEVICE_STATUS)])
        table = exchange.ask([_oid(f"{c}.{device}") for c in SUPPLY_COLUMNS], bulk=True)
        got = [value if value is not snmp_ber.MISSING else None
               for _oid_, value in _bindings(await status)]
        got += [None] * (3 - len(got))
        supplies = await _supply_table(exchange, device, table)
    finally:
        exchange.close()
    descriptions, maxima, levels = (supplies[column] for column in SUPPLY_COLUMNS)
    return {
        "printer_status": _number(got[0]),
        "errors": got[1] if isinstance(got[1], bytes) else b"",
        "device_status": _number(got[2]),
        "supplies": [(index, _text(descriptions[index]), _number(maxima.get(index)),
                      _number(levels.get(index)))
                     for index in sorted(descriptions, key=lambda i: [int(p) for p in i.split(".")])],
    }


async def query_printer_async(host: str, port: int, community: str, device: int,
                              timeout: float) -> dict:
    """GET the printer status OIDs and read the supply table within *timeout* seconds;
    ``NoAnswer`` on silence, ``SnmpFailed`` on an SNMP error."""
    opened: list[asyncio.BaseTransport] = []
    try:
        # Not timed out while a reply waits unread in the socket (a busy loop's lateness).
        async with deadline.answer_deadline(timeout, deadline.answered_on(opened)):
            return await _query(host, port, community, device, opened)
    except (asyncio.TimeoutError, TimeoutError) as exc:
        raise NoAnswer() from exc


def query_printer(host: str, port: int, community: str, device: int,
                  timeout: float) -> dict:
    """:func:`query_printer_async` for a blocking caller."""
    return asyncio.run(query_printer_async(host, port, community, device, timeout))


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    address = (address or "").strip()
    if "://" in address:
        address = address.split("://", 1)[1]
    address = address.split("/", 1)[0]
    if address.startswith("["):  # [IPv6]:port
        host, _sep, rest = address[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port else default_port
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return address, default_port


def interpret(data: dict, low_supply: int) -> tuple[CheckStatus, str, dict]:
    """Status, message and values from the queried printer data."""
    conditions = decode_conditions(data["errors"])
    supplies: dict[str, int | None] = {}
    for index, description, maximum, level in data["supplies"]:
        name = description or f"#{index}"
        if name in supplies:
            name = f"{name} ({index})"
        supplies[name] = supply_percent(level, maximum)
    low = {name: pct for name, pct in supplies.items() if pct is not None and pct < low_supply}
    device_status = DEVICE_STATUS.get(data["device_status"], "unknown")
    printer_status = PRINTER_STATUS.get(data["printer_status"], "unknown")
    values = {"printer_status": printer_status, "device_status": device_status,
              "conditions": conditions, "supplies": supplies}

    failures = [c for c in conditions if c in FAILURE_CONDITIONS]
    warnings = [c for c in conditions if c in WARNING_CONDITIONS]
    details = reason_text.describe(failures + warnings)
    details += [_("%(marker)s at %(level)s%%", marker=name, level=pct) for name, pct in low.items()]
    if failures or device_status == "down":
        status, text = CheckStatus.FAILURE, (
            _("The printer needs attention") if failures else _("The printer reports it is down"))
    elif warnings or low or device_status in ("warning", "testing"):
        status, text = CheckStatus.WARNING, _("The printer works but reports a warning") \
            if not (warnings or low) else _("The printer works but supplies are low")
    else:
        status = CheckStatus.OK
        text = _("The printer is printing") if printer_status == "printing" else \
            _("The printer is ready")
    return status, text + (": " + ", ".join(details) if details else ""), values


class _Poll:
    """One run of the check: what the target asks for, then what the answer means."""

    def __init__(self, target: CheckTarget) -> None:
        config = target.config or {}
        self.started = time.monotonic()
        self.address = target.address
        try:
            self.host, self.port = _host_port(target.address,
                                              int(config.get("port") or DEFAULT_PORT))
        except ValueError:
            self.host, self.port = "", 0
        self.community = config.get("community") or DEFAULT_COMMUNITY
        self.device = int(config.get("device_index") or 1)
        low_supply = config.get("low_supply_percent")
        self.low_supply = DEFAULT_LOW_SUPPLY if low_supply is None else int(low_supply)
        # Leave a margin inside the runner's own hard timeout.
        self.budget = max(float(target.timeout) - 0.3, 0.2)

    @property
    def invalid(self) -> CheckResult | None:
        if not self.host or not 0 < self.port < 65536:
            return CheckResult(CheckStatus.ERROR,
                               _("“%(address)s” is not a printer address", address=self.address))
        return None

    @property
    def query(self) -> tuple:
        return self.host, self.port, self.community, self.device, self.budget

    def _latency(self) -> dict:
        return {"latency_ms": round((time.monotonic() - self.started) * 1000, 2)}

    def failed(self, exc: Exception) -> CheckResult:
        if isinstance(exc, SnmpFailed):
            return CheckResult(CheckStatus.FAILURE,
                               _("The SNMP agent at %(host)s answered with an error: %(error)s",
                                 host=self.host, error=str(exc)), self._latency())
        return CheckResult(CheckStatus.FAILURE,
                           _("No answer from %(host)s:%(port)s over SNMP (device off, wrong "
                             "address or wrong community)", host=self.host, port=self.port),
                           self._latency())

    def result(self, data: dict) -> CheckResult:
        if data["printer_status"] is None and data["device_status"] is None:
            return CheckResult(CheckStatus.ERROR,
                               _("The SNMP agent at %(host)s knows no printer with device "
                                 "index %(index)s", host=self.host, index=self.device),
                               self._latency())
        status, message, values = interpret(data, self.low_supply)
        return CheckResult(status, message, {**self._latency(), **values})


async def check_snmp_printer_async(target: CheckTarget) -> CheckResult:
    """Read printer status, error bits and supply levels over SNMP v2c (a coroutine)."""
    poll = _Poll(target)
    if poll.invalid is not None:
        return poll.invalid
    try:
        data = await query_printer_async(*poll.query)
    except (NoAnswer, SnmpFailed) as exc:
        return poll.failed(exc)
    return poll.result(data)


def check_snmp_printer(target: CheckTarget) -> CheckResult:
    """:func:`check_snmp_printer_async` for a blocking caller, on a loop of its own."""
    return asyncio.run(check_snmp_printer_async(target))
