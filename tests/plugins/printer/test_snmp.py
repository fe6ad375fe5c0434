"""The ``snmp_printer`` check against a real snmpsim agent."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from helpdesk_core import CheckStatus, CheckTarget
from plugins.printer import snmp

from .conftest import HR_DEVICE, HR_PRINTER, SUPPLIES


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


def test_calls_from_many_threads_share_one_engine(snmp_agent):
    results = []

    def worker():
        results.append(run(snmp_agent.address).status)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [CheckStatus.OK] * 6


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


def test_starting_the_engine_is_not_counted_against_the_device(snmp_agent):
    # A fresh engine (pysnmp, pysmi's MIB compiler, the base MIBs) took longer than this
    # whole budget; it used to eat it and report a healthy printer as silent.
    snmp._runner.close()
    assert snmp._runner._engine is None
    result = run(snmp_agent.address, timeout=1.0)
    assert result.status is CheckStatus.OK, result.message
    snmp._runner.close()
    result = asyncio.run(snmp.check_snmp_printer_async(CheckTarget(
        snmp_agent.address, {"community": "public"}, 1.0)))
    assert result.status is CheckStatus.OK, result.message


def test_hung_printers_are_polled_without_a_thread_each(registry, snmp_agent):
    run(snmp_agent.address)  # the process's one SNMP loop thread is running
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
