"""Loopback devices for the sweep benchmark: printers (IPP, SNMP), scanners (eSCL), web
services (HTTP) and open ports (TCP), some of them hung.

Every TCP-based device is a listener of its own on 127.0.0.1, served by one asyncio loop
in a thread of the benchmark process: HTTP and eSCL answer at once, IPP answers
Get-Printer-Attributes with an idle printer (echoing the request id, as the check
verifies), TCP accepts and closes, and a hung device accepts and never answers. SNMP
printers are the test suite's agent (``snmpsim``) behind a caching front on a few UDP
ports, many devices per port: every printer asks the same questions, so the front asks
snmpsim each distinct question once and answers the rest itself with the request id
put in (snmpsim alone answers a few hundred requests a second, and 2,000 printers ask
4,000 questions a sweep). A hung SNMP printer is a UDP port nobody reads. HTTP devices can be switched to
answer 500 (:meth:`Devices.set_failing`) to script an outage.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

from plugins.printer.snmp_ber import element
from webapp.scheduler import new_event_loop

HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
HTTP_FAIL = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
             b"Content-Length: 4\r\nConnection: close\r\n\r\nfail")
ESCL_STATUS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<scan:ScannerStatus '
               b'xmlns:scan="http://schemas.hp.com/imaging/escl/2011/05/03" '
               b'xmlns:pwg="http://www.pwg.org/schemas/2010/12/sm"><pwg:Version>2.63'
               b'</pwg:Version><pwg:State>Idle</pwg:State><scan:AdfState>ScannerAdfLoaded'
               b'</scan:AdfState></scan:ScannerStatus>\n')
HR_DEVICE = "1.3.6.1.2.1.25.3.2.1"
HR_PRINTER = "1.3.6.1.2.1.25.3.5.1"
SUPPLIES = "1.3.6.1.2.1.43.11.1.1"


def _attribute(tag: int, name: str, value: bytes) -> bytes:
    raw = name.encode()
    return struct.pack(">BH", tag, len(raw)) + raw + struct.pack(">H", len(value)) + value


def ipp_answer(request_id: int) -> bytes:
    """An idle printer's Get-Printer-Attributes answer (RFC 8010)."""
    body = struct.pack(">BBHI", 2, 0, 0x0000, request_id)
    body += b"\x01" + _attribute(0x47, "attributes-charset", b"utf-8")
    body += _attribute(0x48, "attributes-natural-language", b"en")
    body += b"\x04" + _attribute(0x23, "printer-state", struct.pack(">i", 3))
    body += _attribute(0x44, "printer-state-reasons", b"none")
    body += _attribute(0x22, "printer-is-accepting-jobs", b"\x01")
    body += _attribute(0x42, "marker-names", b"Black")
    body += _attribute(0x21, "marker-levels", struct.pack(">i", 80))
    body += b"\x03"
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def snmprec() -> str:
    """A healthy printer for snmpsim (as tests/plugins/printer/conftest.py writes them)."""
    lines = [("1.3.6.1.2.1.1.1.0", "4", "HP LaserJet M404 (simulated)"),
             ("1.3.6.1.2.1.1.5.0", "4", "bench-printer"),
             (f"{HR_DEVICE}.2.1", "6", "1.3.6.1.2.1.25.3.1.5"),
             (f"{HR_DEVICE}.5.1", "2", "2"), (f"{HR_PRINTER}.1.1", "2", "3"),
             (f"{HR_PRINTER}.2.1", "4x", "0000"),
             (f"{SUPPLIES}.5.1.1", "2", "3"), (f"{SUPPLIES}.6.1.1", "4", "Black Cartridge"),
             (f"{SUPPLIES}.8.1.1", "2", "100"), (f"{SUPPLIES}.9.1.1", "2", "80")]
    lines.sort(key=lambda line: [int(p) for p in line[0].split(".")])
    return "".join(f"{oid}|{kind}|{value}\n" for oid, kind, value in lines)


def _ber_header(tag: int, length: int) -> bytes:
    if length < 0x80:
        return bytes([tag, length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw


def snmp_split(message: bytes) -> tuple[bytes, int, bytes, bytes]:
    """An SNMP v1/v2c message as (version + community TLVs, PDU tag, request-id TLV,
    the rest of the PDU)."""
    _tag, body, end = element(message, 0, len(message))   # SEQUENCE
    at = body
    for _ in range(2):                                     # version, community
        _tag, _start, at = element(message, at, end)
    pdu_tag, pdu_start, pdu_end = element(message, at, end)
    _tag, _start, id_end = element(message, pdu_start, pdu_end)
    return message[body:at], pdu_tag, message[pdu_start:id_end], message[id_end:pdu_end]


def snmp_join(head: bytes, pdu_tag: int, request_id: bytes, rest: bytes) -> bytes:
    pdu_body = request_id + rest
    body = head + _ber_header(pdu_tag, len(pdu_body)) + pdu_body
    return _ber_header(0x30, len(body)) + body


SNMP_PORT_BUFFER = 4 * 1024 * 1024  # bytes; the kernel caps it at net.core.rmem_max


class _SnmpFront(asyncio.DatagramProtocol):
    """Answers from the cache; asks snmpsim (*upstream*) what it has not seen yet, once:
    the same question arriving again before snmpsim answers waits for that answer (a
    burst of 2,000 printers asking at once would overflow snmpsim's socket)."""

    def __init__(self, cache: dict, upstream: tuple[str, int]) -> None:
        self.cache = cache
        self.upstream = upstream
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[bytes, list[tuple[tuple[str, int], bytes]]] = {}  # question -> askers
        self.asked: dict[bytes, bytes] = {}  # request-id sent upstream -> question
        self.asker: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            head, tag, request_id, rest = snmp_split(data)
        except (IndexError, ValueError):
            return
        key = head + bytes([tag]) + rest
        answer = self.cache.get(key)
        if answer is not None:
            self.transport.sendto(snmp_join(answer[0], answer[1], request_id, answer[2]), addr)
            return
        askers = self.waiting.setdefault(key, [])
        askers.append((addr, request_id))
        if len(askers) == 1:
            self.asked[request_id] = key
            asyncio.get_running_loop().create_task(self._ask(data))

    def answered(self, reply: bytes) -> None:
        head, tag, request_id, rest = snmp_split(reply)
        key = self.asked.pop(request_id, None)
        if key is None:
            return
        self.cache[key] = (head, tag, rest)
        for addr, asker_id in self.waiting.pop(key, []):
            self.transport.sendto(snmp_join(head, tag, asker_id, rest), addr)

    async def _ask(self, data: bytes) -> None:
        if self.asker is None:
            front = self

            class Asker(asyncio.DatagramProtocol):
                def datagram_received(self, reply: bytes, _addr) -> None:
                    front.answered(reply)

            self.asker, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                Asker, remote_addr=self.upstream)
        self.asker.sendto(data)


@dataclass
class Device:
    kind: str        # snmp_printer, ipp, escl, http, tcp
    address: str
    config: dict
    hung: bool
    port: int = 0


@dataclass
class Devices:
    """The devices, listening until the ``with`` block ends."""

    mix: dict[str, float]
    count: int
    hung_share: float
    snmp_ports: int = 8
    devices: list[Device] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The scheduler's own kind of loop (webapp.scheduler.new_event_loop: uvloop): the
        # devices share one core with the benchmark's bookkeeping, and asyncio's streams
        # on asyncio's loop cost the devices more CPU than the checks cost the scheduler.
        self._loop = new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._held: list[asyncio.StreamWriter] = []
        self._failing: set[int] = set()
        self._sockets: list[socket.socket] = []
        self._snmpsim: subprocess.Popen | None = None
        self._tmp = tempfile.mkdtemp(prefix="hd_peers_")

    # --- the plan --------------------------------------------------------------------

    def _plan(self) -> list[tuple[str, bool]]:
        """(kind, hung) per device: the mix's shares; the hung ones spread over the kinds
        that can hang (a TCP check only connects, so a listener that accepts is up)."""
        kinds: list[str] = []
        for kind, share in self.mix.items():
            kinds += [kind] * round(self.count * share)
        kinds = (kinds + [kinds[-1]] * self.count)[:self.count]
        can_hang = [i for i, kind in enumerate(kinds) if kind != "tcp"]
        hung_total = round(self.count * self.hung_share)
        step = len(can_hang) / hung_total if hung_total else 0
        hung = {can_hang[int(i * step)] for i in range(hung_total)} if hung_total else set()
        return [(kind, i in hung) for i, kind in enumerate(kinds)]

    # --- serving ---------------------------------------------------------------------

    async def _read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return await asyncio.wait_for(reader.readexactly(length), 10) if length else b""

    def _handler(self, kind: str, hung: bool, index: int):
        async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._held.append(writer)  # accepted, never answered, closed at the end

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                if kind != "tcp":
                    body = await self._read_request(reader)
                if kind == "ipp":
                    writer.write(ipp_answer(struct.unpack(">I", body[4:8])[0]))
                elif kind == "escl":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
                                 + str(len(ESCL_STATUS)).encode()
                                 + b"\r\nConnection: close\r\n\r\n" + ESCL_STATUS)
                elif kind == "http":
                    writer.write(HTTP_FAIL if index in self._failing else HTTP_OK)
                await writer.drain()
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError,
                    struct.error):
                pass
            finally:
                writer.close()
        return hang if hung else answer

    async def _start(self) -> None:
        snmp_ports = []
        if "snmp_printer" in self.mix:
            upstream = ("127.0.0.1", self._start_snmp()[0])
            cache: dict = {}
            for _ in range(self.snmp_ports):
                transport, _protocol = await self._loop.create_datagram_endpoint(
                    lambda: _SnmpFront(cache, upstream), local_addr=("127.0.0.1", 0))
                # Hundreds of printers share a port here, each a socket of its own in
                # life: a default buffer (about 200 datagrams) overflowed under a burst.
                transport.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_RCVBUF, SNMP_PORT_BUFFER)
                snmp_ports.append(transport.get_extra_info("sockname")[1])
        black_hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        black_hole.bind(("127.0.0.1", 0))
        self._sockets.append(black_hole)
        snmp_seen = 0
        for index, (kind, hung) in enumerate(self._plan()):
            if kind == "snmp_printer":
                port = black_hole.getsockname()[1] if hung else \
                    snmp_ports[snmp_seen % len(snmp_ports)]
                snmp_seen += 1
                self.devices.append(Device(kind, f"127.0.0.1:{port}",
                                           {"community": "public", "port": port}, hung, port))
                continue
            server = await asyncio.start_server(self._handler(kind, hung, index),
                                                "127.0.0.1", 0, backlog=128)
            port = server.sockets[0].getsockname()[1]
            address, config = {
                "ipp": (f"ipp://127.0.0.1:{port}/ipp/print", {}),
                "escl": (f"http://127.0.0.1:{port}/eSCL", {}),
                "http": (f"http://127.0.0.1:{port}/", {}),
                "tcp": ("127.0.0.1", {"port": port}),
            }[kind]
            self.devices.append(Device(kind, address, config, hung, port))

    def _start_snmp(self) -> list[int]:
        responder = shutil.which("snmpsim-command-responder",
                                 path=os.pathsep.join([os.path.dirname(sys.executable),
                                                       os.environ.get("PATH", "")]))
        if responder is None:
            raise RuntimeError("snmpsim is not installed (pip install -e '.[test]')")
        data = os.path.join(self._tmp, "data")
        os.makedirs(data)
        with open(os.path.join(data, "public.snmprec"), "w") as handle:
            handle.write(snmprec())
        ports = []
        for _ in range(1):
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
            probe.close()
        self._snmpsim = subprocess.Popen(
            [responder, f"--data-dir={data}", f"--cache-dir={self._tmp}/cache",
             *[f"--agent-udpv4-endpoint=127.0.0.1:{port}" for port in ports],
             f"--logging-method=file:{self._tmp}/snmpsim.log"],
            env=dict(os.environ, SNMPSIM_ALLOW_ROOT="true"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_for_snmp(ports[0])
        return ports

    def _wait_for_snmp(self, port: int, timeout: float = 60.0) -> None:
        # A GET of sysName.0 (SNMPv2c, community "public"), encoded by hand: BER.
        oid = bytes([0x2B, 6, 1, 2, 1, 1, 5, 0])
        varbind = b"\x30" + bytes([len(oid) + 4]) + b"\x06" + bytes([len(oid)]) + oid + b"\x05\x00"
        varbinds = b"\x30" + bytes([len(varbind)]) + varbind
        pdu_body = b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + varbinds
        pdu = b"\xa0" + bytes([len(pdu_body)]) + pdu_body
        message_body = b"\x02\x01\x01\x04\x06public" + pdu
        message = b"\x30" + bytes([len(message_body)]) + message_body
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(0.5)
            while time.monotonic() < deadline:
                if self._snmpsim.poll() is not None:
                    raise RuntimeError("snmpsim stopped")
                probe.sendto(message, ("127.0.0.1", port))
                try:
                    if b"bench-printer" in probe.recv(2048):
                        return
                except socket.timeout:
                    continue
        raise RuntimeError("snmpsim did not answer")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    def set_failing(self, indexes: set[int]) -> None:
        """HTTP devices at these positions answer 500 from now on (others 200)."""
        self._failing = set(indexes)

    def __enter__(self) -> "Devices":
        self._thread.start()
        if not self._ready.wait(120):
            raise TimeoutError("the devices did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        def close() -> None:
            for writer in self._held:
                writer.close()
            self._loop.stop()
        self._loop.call_soon_threadsafe(close)
        self._thread.join(10)
        for sock in self._sockets:
            sock.close()
        if self._snmpsim is not None:
            self._snmpsim.terminate()
            try:
                self._snmpsim.wait(10)
            except subprocess.TimeoutExpired:
                self._snmpsim.kill()
        shutil.rmtree(self._tmp, ignore_errors=True)
