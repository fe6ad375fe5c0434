"""SNMP printer check: HOST-RESOURCES-MIB printer status and Printer-MIB supply levels.

pysnmp 7 is asyncio-only, and an ``SnmpEngine`` belongs to the event loop it first ran
on: reusing it from another loop hangs. Its callers each have a loop of their own (the
scheduler's, ``helpdesk check``'s, a thread of the web's "check now"), and a new engine
costs 0.3-0.6 s with pysmi installed. So one background thread owns one loop and the one
engine of the process; the coroutine check (:func:`check_snmp_printer_async`) awaits its
query there without holding a thread of its own, the blocking one waits for it.

Starting the engine (importing pysnmp, attaching pysmi's MIB compiler) happens once, and
outside the check's time budget: it is not the device's fault, and under load it took
most of a 3 s budget and reported a healthy printer as silent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import ipaddress
import socket
import threading
import time
import warnings
from typing import Any

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, translator

from . import reasons as reason_text

_ = translator(__name__).gettext

DEFAULT_PORT = 161
DEFAULT_COMMUNITY = "public"
DEFAULT_LOW_SUPPLY = 10
# Seconds a blocking caller also waits for the engine to start (once per process).
ENGINE_START_ALLOWANCE = 30.0

HR_DEVICE_STATUS = "1.3.6.1.2.1.25.3.2.1.5"        # .hrDeviceIndex
HR_PRINTER_STATUS = "1.3.6.1.2.1.25.3.5.1.1"       # .hrDeviceIndex
HR_PRINTER_ERRORS = "1.3.6.1.2.1.25.3.5.1.2"       # .hrDeviceIndex, BITS
SUPPLY_DESCRIPTION = "1.3.6.1.2.1.43.11.1.1.6"     # .hrDeviceIndex.supplyIndex
SUPPLY_MAX = "1.3.6.1.2.1.43.11.1.1.8"
SUPPLY_LEVEL = "1.3.6.1.2.1.43.11.1.1.9"

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


# --- the process-wide SNMP loop ------------------------------------------------------


class _NoMibCompiler:
    """Stands in for pysmi's MIB compiler: numeric OIDs need no MIB, so none is compiled
    (a missing module stays missing, as without pysmi)."""

    def compile(self, *names: str, **options: Any) -> dict:
        return {}


class _SnmpRunner:
    """A daemon thread running one asyncio loop that owns one ``SnmpEngine``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engine: Any = None
        self._warm = False

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="printer-snmp",
                                          daemon=True)
                thread.start()
                self._loop, self._thread, self._engine = loop, thread, None
                self._warm = False
            return self._loop

    def engine(self) -> Any:
        """The engine; only call from code running on the loop."""
        if self._engine is None:
            hlapi = _hlapi()
            engine = hlapi.SnmpEngine()
            # The first request would attach pysmi's MIB compiler (a lark parser, ~0.4 s)
            # when pysmi is installed. The check asks by numeric OID and never compiles
            # a MIB, so it gets a compiler that compiles nothing.
            from pysnmp.hlapi.varbinds import CommandGeneratorVarBinds
            view = CommandGeneratorVarBinds.get_mib_view_controller(engine.cache)
            with _import_lock, warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                builder = view.mibBuilder
                if not builder.get_mib_compiler():
                    builder._MibBuilder__mibCompiler = _NoMibCompiler()
                # The first OID resolved loads the base MIB modules: also once, here.
                hlapi.ObjectType(hlapi.ObjectIdentity(HR_PRINTER_STATUS)).resolve_with_mib(view)
            self._engine = engine
        return self._engine

    def submit(self, coroutine_function, timeout: float, *args: Any) -> concurrent.futures.Future:
        """Run ``coroutine_function(*args)`` on the loop, giving it *timeout* seconds once
        the engine is ready; the future raises ``NoAnswer`` past that."""
        loop = self._start()

        async def bounded() -> Any:
            await self.ready()  # once per process, not counted against the device
            try:
                return await asyncio.wait_for(coroutine_function(*args), timeout)
            except (asyncio.TimeoutError, TimeoutError) as exc:
                raise NoAnswer() from exc

        return asyncio.run_coroutine_threadsafe(bounded(), loop)

    async def ready(self) -> None:
        """Start the engine and send one request, once: the first request loads more of
        pysnmp's MIB modules (0.1-0.5 s), which no device should be blamed for."""
        self.engine()
        if self._warm:
            return
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:  # hears, never answers
            sink.bind(("127.0.0.1", 0))
            try:
                await _query("127.0.0.1", sink.getsockname()[1], DEFAULT_COMMUNITY, 1, 0.05)
            except (NoAnswer, SnmpFailed, asyncio.TimeoutError, TimeoutError):
                pass
        self._warm = True

    def run(self, coroutine_function, timeout: float, *args: Any) -> Any:
        """:meth:`submit` and wait for the answer (blocking callers)."""
        future = self.submit(coroutine_function, timeout, *args)
        try:
            return future.result(timeout + ENGINE_START_ALLOWANCE)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise NoAnswer() from exc

    async def run_async(self, coroutine_function, timeout: float, *args: Any) -> Any:
        """:meth:`submit` and await the answer from another event loop, holding no thread."""
        return await asyncio.wrap_future(self.submit(coroutine_function, timeout, *args))

    def close(self) -> None:
        """Stop the loop thread and release the engine's sockets (tests; a process that
        ends needs none of it: the thread is a daemon and the system closes its sockets)."""
        with self._lock:
            loop, thread, engine = self._loop, self._thread, self._engine
            self._loop = self._thread = self._engine = None
        if loop is None or thread is None:
            return

        async def shut_down() -> None:
            if engine is not None:
                engine.close_dispatcher()
            await asyncio.sleep(0)

        try:
            asyncio.run_coroutine_threadsafe(shut_down(), loop).result(2)
        except Exception:  # closing is best effort; the process is ending
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2)
        if not thread.is_alive():
            loop.close()


_runner = _SnmpRunner()
_import_lock = threading.Lock()


def _hlapi() -> Any:
    """Import pysnmp on first use: it takes ~0.4 s, and with pysmi installed pysnmp 7.1
    calls a deprecated pysmi name, which must not turn into an error at import."""
    with _import_lock:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from pysnmp.hlapi.v3arch import asyncio as hlapi
            from pysnmp.proto import rfc1905  # noqa: F401  (loaded for _query)
        return hlapi


@functools.lru_cache(maxsize=1)
def _transport_class(base: type) -> type:
    """pysnmp's UDP target, taking an IP address as it is: pysnmp looks every address up
    with the loop's ``getaddrinfo``, which runs in a thread of the loop's pool."""

    class LiteralUdpTarget(base):
        async def _resolve_address(self, address: tuple) -> tuple[str, int]:
            try:
                ipaddress.IPv4Address(address[0])
            except ValueError:
                return await super()._resolve_address(address)
            return address[0], int(address[1])

    return LiteralUdpTarget


def _text(value: Any) -> str:
    try:
        return bytes(value.asOctets()).decode("utf-8", "replace").strip("\x00 ").strip()
    except AttributeError:
        return str(value)


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def _query(host: str, port: int, community: str, device: int, timeout: float) -> dict:
    hlapi = _hlapi()
    from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject
    CommunityData, ContextData, ObjectIdentity, ObjectType, UdpTransportTarget, get_cmd, \
        walk_cmd = (hlapi.CommunityData, hlapi.ContextData, hlapi.ObjectIdentity,
                    hlapi.ObjectType, hlapi.UdpTransportTarget, hlapi.get_cmd, hlapi.walk_cmd)

    engine = _runner.engine()
    auth = CommunityData(community, mpModel=1)  # v2c
    # One try per request: the check's own timeout bounds the whole exchange.
    transport = await _transport_class(UdpTransportTarget).create(
        (host, port), timeout=max(timeout, 0.2), retries=0)
    missing = (NoSuchObject, NoSuchInstance, EndOfMibView)

    oids = [f"{HR_PRINTER_STATUS}.{device}", f"{HR_PRINTER_ERRORS}.{device}",
            f"{HR_DEVICE_STATUS}.{device}"]
    error, status, _index, var_binds = await get_cmd(
        engine, auth, transport, ContextData(), *(ObjectType(ObjectIdentity(o)) for o in oids))
    if error:
        raise NoAnswer(str(error))
    if status:
        raise SnmpFailed(status.prettyPrint())
    got = [None if isinstance(value, missing) else value for _oid, value in var_binds]

    async def column(base: str) -> dict[str, Any]:
        rows: dict[str, Any] = {}
        prefix = f"{base}.{device}."
        async for w_error, w_status, _i, binds in walk_cmd(
                engine, auth, transport, ContextData(), ObjectType(ObjectIdentity(prefix[:-1])),
                lexicographicMode=False):
            if w_error:
                raise NoAnswer(str(w_error))
            if w_status:
                raise SnmpFailed(w_status.prettyPrint())
            for oid, value in binds:
                name = str(oid)
                if name.startswith(prefix) and not isinstance(value, missing):
                    rows[name[len(prefix):]] = value
        return rows

    descriptions = await column(SUPPLY_DESCRIPTION)
    maxima = await column(SUPPLY_MAX)
    levels = await column(SUPPLY_LEVEL)
    return {
        "printer_status": _number(got[0]),
        "errors": bytes(got[1].asOctets()) if got[1] is not None else b"",
        "device_status": _number(got[2]),
        "supplies": [(index, _text(descriptions[index]), _number(maxima.get(index)),
                      _number(levels.get(index)))
                     for index in sorted(descriptions, key=lambda i: [int(p) for p in i.split(".")])],
    }


def query_printer(host: str, port: int, community: str, device: int,
                  timeout: float) -> dict:
    """GET the printer status OIDs and walk the supply table; raise ``NoAnswer`` on silence."""
    return _runner.run(_query, timeout, host, port, community, device, timeout)


async def query_printer_async(host: str, port: int, community: str, device: int,
                              timeout: float) -> dict:
    """:func:`query_printer` for a coroutine: awaits the process's SNMP loop."""
    return await _runner.run_async(_query, timeout, host, port, community, device, timeout)


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
    """:func:`check_snmp_printer_async` for a blocking caller (the same engine and loop)."""
    poll = _Poll(target)
    if poll.invalid is not None:
        return poll.invalid
    try:
        data = query_printer(*poll.query)
    except (NoAnswer, SnmpFailed) as exc:
        return poll.failed(exc)
    return poll.result(data)
