"""Real protocol peers for the printer checks, on loopback and ephemeral ports.

- ``ipp_printer``: Debian's ``ippeveprinter`` on a private D-Bus, driven with ``ipptool``
  control jobs and its /media and /supplies web forms (see DEVICES.md §1);
- ``stopped_ipp_printer``: the kit's HTTP server answering like a stopped printer (the one
  state ippeveprinter can't reach);
- ``snmp_agent``: ``snmpsim`` serving a healthy (``public``), a faulty (``faulty``), a
  writable (``dynamic``) printer and one with 20 supplies (``many``);
- ``escl_scanner``: an eSCL status page on the kit's HTTP server, its state set by tests;
- ``trickling_server``: headers, then a body one byte at a time.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from helpdesk_core.testing import HttpServer, Request, closed_port, missing
from helpdesk_core.testing.peers import Route

SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def tool(name: str) -> str:
    path = shutil.which(name, path=SBIN_PATH)
    if path is None:
        missing(f"{name} is not installed")
    return path


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "peer"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready after {timeout} s")
        time.sleep(interval)


def stop(process: subprocess.Popen, timeout: float = 5.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


# --- ippeveprinter ----------------------------------------------------------------

STATUS_TEST = """{
  NAME "Printer status"
  OPERATION Get-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR keyword requested-attributes printer-state,printer-state-reasons
  STATUS successful-ok
  DISPLAY printer-state
  DISPLAY printer-state-reasons
}
"""


class IppPrinter:
    """A running ippeveprinter and the ways to change its state."""

    def __init__(self, directory: Path, port: int, ipptool: str) -> None:
        self.directory = directory
        self.port = port
        self.ipptool = ipptool
        self.uri = f"ipp://localhost:{port}/ipp/print"
        self.web = f"http://127.0.0.1:{port}"
        (directory / "status.test").write_text(STATUS_TEST)
        self._jobs = 0

    def _ipptool(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.ipptool, "-T", "5", *args], capture_output=True, text=True,
                              timeout=20, cwd=self.directory)

    def status(self) -> tuple[str, set[str]]:
        """State and raw reasons as ipptool sees them (independent of the code under test)."""
        result = self._ipptool("-c", self.uri, str(self.directory / "status.test"))
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        assert result.returncode == 0 and len(lines) >= 2, result.stdout + result.stderr
        state, _sep, reasons = lines[-1].partition(",")
        return state, set(reasons.strip('"').split(","))

    def submit(self, content: str) -> None:
        """Print a text job (a control job when it holds STATE:/ATTR: lines)."""
        self._jobs += 1
        path = self.directory / f"job{self._jobs}.txt"
        path.write_text(content)
        result = self._ipptool("-t", "-f", str(path), "-d", "filetype=text/plain", self.uri,
                               "print-job.test")
        assert result.returncode == 0, result.stdout + result.stderr

    def control(self, *lines: str, expect_reasons: set[str] | None = None) -> None:
        """Run a control job and wait until it has been processed."""
        self.submit("\n".join(lines) + "\n")
        if expect_reasons is not None:
            self.wait_for(lambda state, reasons: expect_reasons <= reasons, "control job")
        else:
            self.wait_for(lambda state, reasons: state == "idle", "control job")

    def set_media(self, main: int, bypass: int = 100) -> None:
        # Both trays go in every query: a tray left out counts as empty.
        response = requests.get(f"{self.web}/media", params={
            "size1": "iso_a4_210x297mm", "type1": "stationery", "level1": main,
            "size3": "iso_a4_210x297mm", "type3": "stationery", "level3": bypass}, timeout=5)
        assert response.status_code == 200

    def set_supplies(self, waste: int, toner: int) -> None:
        response = requests.get(f"{self.web}/supplies",
                                params={"supply0": waste, "supply1": toner}, timeout=5)
        assert response.status_code == 200

    def wait_for(self, predicate, what: str = "printer state") -> tuple[str, set[str]]:
        holder: list = []

        def check():
            state, reasons = self.status()
            holder[:] = [state, reasons]
            return predicate(state, reasons)

        try:
            wait_until(check, timeout=10, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last seen {holder}") from None
        return holder[0], holder[1]


@pytest.fixture(scope="module")
def dbus_bus():
    """A private D-Bus 'system' bus: ippeveprinter's DNS-SD setup needs one."""
    dbus = tool("dbus-daemon")
    directory = Path(tempfile.mkdtemp(prefix="hd-dbus-"))  # short path: unix sockets max 108
    socket_path = directory / "bus.sock"
    process = subprocess.Popen([dbus, "--session", f"--address=unix:path={socket_path}",
                                "--nofork", "--nopidfile", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = process.stdout.readline().strip()
        assert address.startswith("unix:"), "dbus-daemon did not start"
        yield f"unix:path={socket_path}"
    finally:
        stop(process)
        process.stdout.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def ipp_printer(dbus_bus, tmp_path):
    """A fresh ippeveprinter (idle, no reasons, no marker-* attributes) per test."""
    ippeveprinter = tool("ippeveprinter")
    ipptool = tool("ipptool")
    state_cmd = tmp_path / "statecmd.sh"
    state_cmd.write_text('#!/bin/sh\ncat "$1" >&2\n')  # job content -> STATE:/ATTR: directives
    state_cmd.chmod(0o755)
    (tmp_path / "keys").mkdir()
    (tmp_path / "spool").mkdir()
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=dbus_bus)
    for _attempt in range(3):  # the port may be taken between picking and binding
        port = closed_port()
        log = (tmp_path / "ippeveprinter.log").open("w")
        process = subprocess.Popen(
            [ippeveprinter, "-n", "localhost", "-p", str(port), "-r", "off",
             "-K", str(tmp_path / "keys"), "-d", str(tmp_path / "spool"), "-c", str(state_cmd),
             "-f", "text/plain,image/pwg-raster", "-M", "HP", "-m", "LaserJet M404",
             "-l", "Ward 5 front desk", "Ward5-Printer"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            wait_until(lambda: process.poll() is not None or tcp_open(port), timeout=10,
                       what="ippeveprinter")
        except AssertionError:
            stop(process)
            log.close()
            raise
        if process.poll() is None:
            break
        log.close()
    else:
        pytest.fail("ippeveprinter did not start: "
                    + (tmp_path / "ippeveprinter.log").read_text()[-2000:])
    try:
        yield IppPrinter(tmp_path, port, ipptool)
    finally:
        stop(process)
        log.close()


def _stopped_printer_answer(request: Request) -> bytes:
    """An IPP answer like a stopped, jammed printer's (ippeveprinter can't be one)."""
    request_id = struct.unpack_from(">I", request.body, 4)[0]

    def attr(tag: int, name: str, value: bytes) -> bytes:
        return (struct.pack(">BH", tag, len(name)) + name.encode()
                + struct.pack(">H", len(value)) + value)

    answer = struct.pack(">BBHI", 1, 1, 0, request_id) + b"\x01"
    answer += attr(0x47, "attributes-charset", b"utf-8")
    answer += attr(0x48, "attributes-natural-language", b"en")
    answer += b"\x04"
    answer += attr(0x23, "printer-state", struct.pack(">i", 5))
    answer += attr(0x41, "printer-state-message", b"Paper jam in tray 2")
    answer += attr(0x44, "printer-state-reasons", b"media-jam-error")
    answer += attr(0x44, "", b"door-open-error")
    answer += attr(0x22, "printer-is-accepting-jobs", b"\x01")
    answer += b"\x03"
    return answer


@pytest.fixture
def stopped_ipp_printer(http_server):
    """Answers every IPP request like a stopped, jammed printer."""
    http_server.default = Route(200, _stopped_printer_answer, "application/ipp")
    return http_server.address


# --- snmpsim ----------------------------------------------------------------------

HR_DEVICE = "1.3.6.1.2.1.25.3.2.1"
HR_PRINTER = "1.3.6.1.2.1.25.3.5.1"
SUPPLIES = "1.3.6.1.2.1.43.11.1.1"
MANY_SUPPLIES = 20


def snmprec(device_status: int, printer_status: int, error_bits: str,
            supplies: list[tuple[int, str, int, int]], writable: bool = False) -> str:
    """A printer as a .snmprec file; supplies are (type, description, max, level)."""
    tag = "2:writecache" if writable else "2"
    lines = [
        ("1.3.6.1.2.1.1.1.0", "4", "HP LaserJet M404 (simulated)"),
        ("1.3.6.1.2.1.1.5.0", "4", "ward5-printer"),
        (f"{HR_DEVICE}.2.1", "6", "1.3.6.1.2.1.25.3.1.5"),
        (f"{HR_DEVICE}.5.1", tag, str(device_status) if not writable else f"value={device_status}"),
        (f"{HR_PRINTER}.1.1", tag, str(printer_status) if not writable else f"value={printer_status}"),
        # With writecache a hex initial value is served literally: set it with SET at start.
        (f"{HR_PRINTER}.2.1", "4x:writecache" if writable else "4x",
         f"value={error_bits}" if writable else error_bits),
    ]
    for column, position in ((5, 0), (6, 1), (8, 2), (9, 3)):
        for index, supply in enumerate(supplies, start=1):
            value = supply[position]
            kind = "4" if column == 6 else (tag if column == 9 else "2")
            text = f"value={value}" if kind == "2:writecache" else str(value)
            lines.append((f"{SUPPLIES}.{column}.1.{index}", kind, text))
    lines.sort(key=lambda line: [int(p) for p in line[0].split(".")])
    return "".join(f"{oid}|{kind}|{value}\n" for oid, kind, value in lines)


class SnmpAgent:
    def __init__(self, port: int) -> None:
        self.port = port
        self.address = f"127.0.0.1:{port}"

    def set(self, community: str, *var_binds: tuple[str, str, str]) -> None:
        """SNMP SET through Debian's snmpset (independent of the code under test)."""
        args = [tool("snmpset"), "-v2c", "-c", community, "-On", "-t", "2", "-r", "1",
                self.address]
        for oid, kind, value in var_binds:
            args += [oid, kind, value]
        result = subprocess.run(args, capture_output=True, text=True, timeout=15)
        assert result.returncode == 0, result.stdout + result.stderr

    def get(self, community: str, oid: str) -> str:
        result = subprocess.run([tool("snmpget"), "-v2c", "-c", community, "-On", "-t", "1",
                                 "-r", "0", self.address, oid],
                                capture_output=True, text=True, timeout=10)
        return result.stdout if result.returncode == 0 else ""


@pytest.fixture(scope="module")
def snmp_agent(tmp_path_factory):
    responder = shutil.which("snmpsim-command-responder",
                             path=os.pathsep.join([os.path.dirname(sys.executable), SBIN_PATH]))
    if responder is None:
        missing("snmpsim is not installed (pip install -e '.[test]')")
    tool("snmpget")
    directory = tmp_path_factory.mktemp("snmpsim")
    data = directory / "data"
    data.mkdir()
    (data / "public.snmprec").write_text(snmprec(2, 3, "0000", [
        (3, "Black Cartridge HP CF259A", 100, 80), (4, "Waste Toner Box", -2, -3)]))
    (data / "faulty.snmprec").write_text(snmprec(5, 1, "6000", [
        (3, "Black Cartridge HP CF259A", 100, 5)]))
    (data / "dynamic.snmprec").write_text(snmprec(2, 3, "0000", [
        (3, "Black Cartridge HP CF259A", 200, 150)], writable=True))
    # More supplies than one GETBULK asks for (snmp.BULK_REPETITIONS rows).
    (data / "many.snmprec").write_text(snmprec(2, 3, "0000", [
        (3, f"Supply {index}", 100, 20 + 4 * index) for index in range(1, MANY_SUPPLIES + 1)]))
    env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
    for _attempt in range(3):
        port = closed_port(socket.SOCK_DGRAM)
        process = subprocess.Popen(
            [responder, f"--data-dir={data}", f"--cache-dir={directory / 'cache'}",
             f"--agent-udpv4-endpoint=127.0.0.1:{port}",
             f"--logging-method=file:{directory / 'snmpsim.log'}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        agent = SnmpAgent(port)
        try:
            wait_until(lambda: process.poll() is not None or
                       "ward5-printer" in agent.get("public", "1.3.6.1.2.1.1.5.0"),
                       timeout=30, what="snmpsim")
        except AssertionError:
            stop(process)
            raise
        if process.poll() is None:
            break
    else:
        pytest.fail("snmpsim did not start: " + (directory / "snmpsim.log").read_text()[-2000:])
    try:
        agent.set("dynamic", (f"{HR_PRINTER}.2.1", "x", "0000"))
        yield agent
    finally:
        stop(process)


# --- eSCL -------------------------------------------------------------------------

ESCL_STATUS = """<?xml version="1.0" encoding="UTF-8"?>
<scan:ScannerStatus xmlns:scan="http://schemas.hp.com/imaging/escl/2011/05/03" xmlns:pwg="http://www.pwg.org/schemas/2010/12/sm">
  <pwg:Version>2.63</pwg:Version>
  <pwg:State>{state}</pwg:State>
  <scan:AdfState>{adf}</scan:AdfState>
</scan:ScannerStatus>
"""


class EsclScanner:
    """A scanner's eSCL status page (the kit's HTTP server); ``set_state`` changes it."""

    def __init__(self, server: HttpServer) -> None:
        self.state = {"State": "Idle", "AdfState": "ScannerAdfLoaded"}
        self.server = server
        server.default = Route(404, b"not found")
        server.answer("/eSCL/ScannerStatus", body=self._status, content_type="text/xml")
        self.address = server.address

    def _status(self, _request: Request) -> str:
        return ESCL_STATUS.format(state=self.state["State"], adf=self.state["AdfState"])

    @property
    def requests(self) -> int:
        return self.server.hits.get("/eSCL/ScannerStatus", 0)

    def set_state(self, **state: str) -> None:
        self.state.update(state)


@pytest.fixture
def escl_scanner(http_server):
    return EsclScanner(http_server)


class TricklingServer:
    """Answers with headers, then trickles the body one byte at a time, forever.

    ``abandoned`` is set when the client closed the connection before the end.
    """

    def __init__(self, content_type: str) -> None:
        self.content_type = content_type
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.abandoned = threading.Event()
        self.bytes_sent = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)  # the request (small enough for one read here)
                    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n"
                                 f"Content-Length: 1000000\r\n\r\n".encode())
                    while not self._stop.is_set():
                        conn.sendall(b"\x01")
                        self.bytes_sent += 1
                        self._stop.wait(0.02)
                except OSError:
                    self.abandoned.set()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def trickling_server():
    servers: list[TricklingServer] = []

    def make(content_type: str = "application/ipp") -> TricklingServer:
        servers.append(TricklingServer(content_type))
        return servers[-1]

    yield make
    for server in servers:
        server.close()
