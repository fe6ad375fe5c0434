"""The ``snmp_printer`` check against a real snmpsim agent."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time

import pytest

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from helpdesk_core import CheckStatus, CheckTarget
from plugins.printer import snmp

from tests.plugins.late_loop import LateLoop

from .conftest import HR_DEVICE, HR_PRINTER, MANY_SUPPLIES, SUPPLIES


def run(address: str, community: str = "public", timeout: float = 3.0, **config):
    return snmp.check_snmp_printer(CheckTarget(address, {"community": community, **config},
                                               timeout, name="ward5-printer"))


@pytest.mark.parametrize("octets, names", [
    (b"\x00\x00", []),
    (b"\x60\x00", ["noPaper", "lowToner"]),
    (b"\x08", ["doorOpen"]), (b"\x04", ["jammed"]),
    (b"\x00\x02", ["overduePreventMaint"]),
    (b"\xff\xfe", list(snmp.ERROR_BITS)),
    (b"", []),
])
def test_error_state_bits_become_named_conditions(octets, names):
    assert snmp.decode_conditions(octets) == names


@pytest.mark.parametrize("level, maximum, percent", [
    (80, 100, 80), (150, 200, 75), (5, 100, 5), (-3, 100, None), (-2, 100, None),
    (10, -2, None), (10, 0, None), (None, 100, None), (250, 200, 100)])
def test_supply_percent(level, maximum, percent):
    assert snmp.supply_percent(level, maximum) == percent


def test_healthy_printer_is_ok_with_supplies(snmp_agent):
    result = run(snmp_agent.address)
    assert result.status is CheckStatus.OK, result.message
    assert result.values["printer_status"] == "idle"
    assert result.values["device_status"] == "running"
    assert result.values["conditions"] == []
    assert result.values["supplies"] == {"Black Cartridge HP CF259A": 80, "Waste Toner Box": None}
    assert result.latency_ms is not None


def test_a_reply_that_waited_for_a_busy_loop_is_read(registry, snmp_agent, monkeypatch):
    # The SNMP query's own deadline is the check's timeout less 0.3 s: 2.7 s here; the
    # busy spell (until 3 s) outlasts it, and the look after it comes before 2.7 x 1.45 s.
    late = LateLoop(monkeypatch, busy=3.0)
    ask = snmp._Exchange.ask

    def ask_then_busy(self, *args, **kwargs):
        try:
            return ask(self, *args, **kwargs)
        finally:
            if not late.holds:  # after the first request: its reply waits unread
                late.hold()
    monkeypatch.setattr(snmp._Exchange, "ask", ask_then_busy)
    result = late.run(registry, "snmp_printer", CheckTarget(snmp_agent.address, {},
                                                            timeout=3.0))
    assert late.holds == 1
    assert result.status is CheckStatus.OK, result.message
    assert result.values["supplies"] == {"Black Cartridge HP CF259A": 80, "Waste Toner Box": None}


def test_faulty_printer_reports_conditions_and_low_toner(snmp_agent):
    result = run(snmp_agent.address, community="faulty")
    assert result.status is CheckStatus.FAILURE
    assert result.values["conditions"] == ["noPaper", "lowToner"]
    assert result.values["device_status"] == "down"
    assert result.values["printer_status"] == "other"
    assert result.values["supplies"] == {"Black Cartridge HP CF259A": 5}


def test_supply_threshold_is_configurable(snmp_agent):
    assert run(snmp_agent.address, low_supply_percent=90).status is CheckStatus.WARNING
    assert run(snmp_agent.address, low_supply_percent=50).status is CheckStatus.OK


def test_state_flipped_at_runtime_is_seen_and_recovers(snmp_agent):
    assert run(snmp_agent.address, community="dynamic").status is CheckStatus.OK
    snmp_agent.set("dynamic", (f"{HR_PRINTER}.2.1", "x", "0400"),  # jammed
                   (f"{HR_PRINTER}.1.1", "i", "1"), (f"{SUPPLIES}.9.1.1", "i", "10"))
    jammed = run(snmp_agent.address, community="dynamic")
    assert jammed.status is CheckStatus.FAILURE
    assert jammed.values["conditions"] == ["jammed"]
    assert jammed.values["supplies"] == {"Black Cartridge HP CF259A": 5}  # 10 of 200
    snmp_agent.set("dynamic", (f"{HR_PRINTER}.2.1", "x", "2000"),  # lowToner only
                   (f"{HR_PRINTER}.1.1", "i", "4"), (f"{SUPPLIES}.9.1.1", "i", "150"))
    low = run(snmp_agent.address, community="dynamic")
    assert (low.status, low.values["conditions"], low.values["printer_status"]) == \
        (CheckStatus.WARNING, ["lowToner"], "printing")
    snmp_agent.set("dynamic", (f"{HR_PRINTER}.2.1", "x", "0000"), (f"{HR_PRINTER}.1.1", "i", "3"),
                   (f"{HR_DEVICE}.5.1", "i", "2"))
    assert run(snmp_agent.address, community="dynamic").status is CheckStatus.OK


def test_wrong_community_is_no_answer(snmp_agent):
    result = run(snmp_agent.address, community="nobody-knows", timeout=1.0)
    assert result.status is CheckStatus.FAILURE
    assert "SNMP" in result.message


def test_closed_port_is_no_answer_and_the_engine_still_works_after(snmp_agent, closed_port):
    result = run(f"127.0.0.1:{closed_port}", timeout=1.0)
    assert result.status is CheckStatus.FAILURE
    assert run(snmp_agent.address).status is CheckStatus.OK


def test_port_from_config_when_the_address_has_none(snmp_agent):
    assert run("127.0.0.1", port=snmp_agent.port).status is CheckStatus.OK
    assert run(f"udp://127.0.0.1:{snmp_agent.port}").status is CheckStatus.OK


def test_not_an_address_is_an_error():
    assert run("").status is CheckStatus.ERROR


def test_calls_from_many_threads_each_get_their_printer(snmp_agent):
    results = []

    def worker(community):
        results.append((community, run(snmp_agent.address, community=community).status))

    threads = [threading.Thread(target=worker, args=(community,))
               for community in ("public", "faulty") * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [("faulty", CheckStatus.FAILURE)] * 3 + [
        ("public", CheckStatus.OK)] * 3


def test_result_is_stable_under_the_registry_guard(registry, snmp_agent):
    statuses = []
    for _ in range(3):
        for community in ("public", "faulty"):
            result, _ms = registry.run_check("snmp_printer", CheckTarget(
                snmp_agent.address, {"community": community}, 3))
            statuses.append((community, result.status, tuple(result.values["conditions"])))
    assert statuses == [("public", CheckStatus.OK, ()),
                        ("faulty", CheckStatus.FAILURE, ("noPaper", "lowToner"))] * 3
    silent, _ms = registry.run_check("snmp_printer", CheckTarget(
        snmp_agent.address, {"community": "wrong"}, 1))
    assert silent.status is CheckStatus.FAILURE
    assert not [f for f in registry.failures if f.stage == "check:snmp_printer"]


def test_wrong_device_index_is_a_configuration_error(snmp_agent):
    result = run(snmp_agent.address, device_index=7)
    assert result.status is CheckStatus.ERROR
    assert "7" in result.message


def test_the_coroutine_check_reads_the_same_printer(snmp_agent):
    result = asyncio.run(snmp.check_snmp_printer_async(CheckTarget(
        snmp_agent.address, {"community": "faulty"}, 3.0)))
    assert result.status is CheckStatus.FAILURE
    assert result.values["conditions"] == ["noPaper", "lowToner"]


def test_hung_printers_are_polled_without_a_thread_each(registry, snmp_agent):
    run(snmp_agent.address)  # whatever a first run starts has started
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    silent.setblocking(False)
    address = "127.0.0.1:%d" % silent.getsockname()[1]
    threads_before = threading.active_count()

    async def poll_ten() -> tuple[int, int, list]:
        runs = [asyncio.ensure_future(registry.run_check_async(
            "snmp_printer", CheckTarget(address, {}, 3.0))) for _ in range(10)]
        received, deadline = 0, time.monotonic() + 20
        while received < 10 and time.monotonic() < deadline:
            try:
                silent.recvfrom(4096)
                received += 1
            except BlockingIOError:
                await asyncio.sleep(0.01)
        threads_while_waiting = threading.active_count()
        return received, threads_while_waiting, await asyncio.gather(*runs)

    with silent:
        received, threads_while_waiting, results = asyncio.run(poll_ten())
    assert received == 10  # all ten asked, none answered yet
    assert threads_while_waiting == threads_before
    assert [r.status for r, _ms in results] == [CheckStatus.FAILURE] * 10
    assert "SNMP" in results[0][0].message


def test_a_supply_table_longer_than_one_getbulk_is_read_to_its_end(snmp_agent):
    assert MANY_SUPPLIES > snmp.BULK_REPETITIONS
    result = run(snmp_agent.address, community="many")
    assert result.status is CheckStatus.OK, result.message
    assert result.values["supplies"] == {
        f"Supply {index}": 20 + 4 * index for index in range(1, MANY_SUPPLIES + 1)}


# --- a scripted agent: what snmpsim will not do ------------------------------------------

class ScriptedAgent:
    """A UDP agent in a thread: *answer(request message)* gives the datagrams to send back."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.requests: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            request, _rest = decoder.decode(data, asn1Spec=v2c.Message())
            self.requests.append(type(v2c.apiMessage.get_pdu(request)).__name__)
            try:
                for datagram in self.answer(request):
                    self.sock.sendto(datagram, peer)
            except OSError:  # closed by the test while answering a late retry
                return

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


def reply(request, bindings, error_status: int = 0, request_id: int | None = None) -> bytes:
    message = v2c.apiMessage.get_response(request)
    pdu = v2c.apiMessage.get_pdu(message)
    v2c.apiPDU.set_varbinds(pdu, bindings)
    if error_status:
        v2c.apiPDU.set_error_status(pdu, error_status)
        v2c.apiPDU.set_error_index(pdu, 1)
    if request_id is not None:
        v2c.apiPDU.set_request_id(pdu, request_id)
    return encoder.encode(message)


def printer_answer(request, device_status: int, printer_status: int, errors: bytes,
                   **options) -> bytes:
    pdu = v2c.apiMessage.get_pdu(request)
    oids = [oid for oid, _value in v2c.apiPDU.get_varbinds(pdu)]
    if isinstance(pdu, v2c.GetBulkRequestPDU):  # no supplies: every column ends at once
        return reply(request, [(oid, v2c.EndOfMibView()) for oid in oids], **options)
    return reply(request, list(zip(oids, [v2c.Integer(printer_status), v2c.OctetString(errors),
                                          v2c.Integer(device_status)])), **options)


@pytest.fixture
def scripted_agent():
    agents = []

    def make(answer) -> ScriptedAgent:
        agents.append(ScriptedAgent(answer))
        return agents[-1]

    yield make
    for agent in agents:
        agent.close()


def test_two_pdus_for_a_printer_and_replies_with_another_request_id_are_ignored(
        scripted_agent):
    def answer(request):
        request_id = int(v2c.apiPDU.get_request_id(v2c.apiMessage.get_pdu(request)))
        # Noise first: not SNMP, then a jammed printer under someone else's request-id.
        yield b"\x30\x03junk"
        yield printer_answer(request, 5, 1, b"\x04", request_id=request_id + 1)
        yield printer_answer(request, 2, 3, b"\x00\x00")

    agent = scripted_agent(answer)
    result = run(agent.address)
    assert result.status is CheckStatus.OK, result.message
    assert (result.values["device_status"], result.values["conditions"]) == ("running", [])
    assert sorted(agent.requests) == ["GetBulkRequestPDU", "GetRequestPDU"]


def test_an_snmp_error_status_is_a_failure_naming_it(scripted_agent):
    agent = scripted_agent(lambda request: [printer_answer(request, 2, 3, b"\x00",
                                                           error_status=5)])  # genErr
    result = run(agent.address)
    assert result.status is CheckStatus.FAILURE
    assert "genErr" in result.message
    assert result.latency_ms is not None


def test_a_closed_port_leaves_no_unretrieved_failure_behind(closed_port, caplog):
    # Both requests fail when the system says the port is closed; the GETBULK's failure
    # is never awaited, and asyncio would log it as "never retrieved".
    result = run(f"127.0.0.1:{closed_port}", timeout=3.0)
    gc.collect()
    assert result.status is CheckStatus.FAILURE
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


@pytest.mark.parametrize("bulk", [False, True])
@pytest.mark.parametrize("request_id", [snmp.REQUEST_IDS[0], 0x12345678, snmp.REQUEST_IDS[1] - 1])
def test_a_request_from_its_template_is_what_the_encoder_makes(bulk, request_id):
    oids = (snmp._oid(f"{snmp.SUPPLY_MAX}.1"), snmp._oid(f"{snmp.SUPPLY_LEVEL}.1"))
    made = snmp._request("ward5", bulk, oids, request_id)
    assert made == snmp._encode("ward5", bulk, oids, request_id)
    message, _rest = decoder.decode(made, asn1Spec=v2c.Message())
    assert int(v2c.apiPDU.get_request_id(v2c.apiMessage.get_pdu(message))) == request_id
