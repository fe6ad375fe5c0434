"""The ``ipp`` check against a real ippeveprinter, a stopped fake and a closed port."""

from __future__ import annotations

import asyncio
import struct
import threading
import time

import pytest

from helpdesk_core import CheckStatus, CheckTarget
from plugins.printer import ipp


def run(address: str, timeout: float = 5.0, **config):
    return asyncio.run(ipp.check_ipp(CheckTarget(address, config, timeout, name="Ward5-Printer")))


# --- codec ------------------------------------------------------------------------


def test_request_encoding_follows_rfc_8010():
    body = ipp.encode_get_printer_attributes("ipp://p:631/ipp/print", 7,
                                             ("printer-state", "marker-levels"))
    assert body[:8] == struct.pack(">BBHI", 2, 0, 0x000B, 7)
    assert body[8] == 0x01 and body[-1] == 0x03
    # the second requested attribute is an additional value: empty name
    assert b"\x44\x00\x14requested-attributes\x00\x0dprinter-state" in body
    assert b"\x44\x00\x00\x00\x0dmarker-levels" in body


def test_decoder_reads_values_collections_and_out_of_band():
    def attr(tag, name, value):
        return struct.pack(">BH", tag, len(name)) + name.encode() + struct.pack(">H", len(value)) + value

    data = struct.pack(">BBHI", 2, 0, 0, 9) + b"\x01" + attr(0x47, "attributes-charset", b"utf-8")
    data += b"\x04" + attr(0x23, "printer-state", struct.pack(">i", 4))
    data += attr(0x34, "media-col-ready", b"") + attr(0x4A, "", b"media-size") \
        + attr(0x34, "", b"") + attr(0x4A, "", b"x-dimension") + attr(0x21, "", struct.pack(">i", 21000)) \
        + attr(0x37, "", b"") + attr(0x37, "", b"")
    data += attr(0x21, "marker-levels", struct.pack(">i", 40)) + attr(0x21, "", struct.pack(">i", -3))
    text = "Kẹt giấy".encode()
    data += attr(0x35, "printer-state-message", b"\x00\x02vi" + struct.pack(">H", len(text)) + text)
    data += attr(0x13, "printer-alert", b"")
    data += b"\x03"
    status, request_id, attributes = ipp.decode_response(data)
    assert (status, request_id) == (0, 9)
    assert attributes["printer-state"] == [4]
    assert attributes["marker-levels"] == [40, -3]
    assert attributes["printer-state-message"] == ["Kẹt giấy"]
    assert attributes["media-col-ready"] == [None]
    assert attributes["printer-alert"] == [None]
    assert "x-dimension" not in attributes


@pytest.mark.parametrize("data", [b"", b"\x02\x00\x00\x00\x00\x00\x00\x01\x01\x47\x00\x05ab",
                                  b"\x02\x00\x00\x00\x00\x00\x00\x01\x01"])
def test_decoder_rejects_truncated_answers(data):
    with pytest.raises(ipp.IppError):
        ipp.decode_response(data)


def test_reasons_are_normalised():
    assert [ipp.normalise_reason(r) for r in
            ("media-jam-error", "toner-low-report", "door-open-warning", "offline")] == \
        ["media-jam", "toner-low", "door-open", "offline"]


# --- against ippeveprinter --------------------------------------------------------


def test_idle_printer_is_ok_with_state_and_latency(ipp_printer):
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert result.status is CheckStatus.OK, result.message
    assert result.values["state"] == "idle"
    assert result.values["reasons"] == []
    assert result.values["markers"] == {}  # ippeveprinter has no marker-* until told
    assert result.values["accepting_jobs"] is True
    assert result.values["model"] == "HP LaserJet M404"
    assert result.latency_ms is not None and result.latency_ms >= 0


@pytest.mark.parametrize("address", ["ipp://localhost:{port}/ipp/print", "localhost:{port}",
                                     "http://127.0.0.1:{port}/ipp/print"])
def test_address_forms(ipp_printer, address):
    result = run(address.format(port=ipp_printer.port))
    assert result.status is CheckStatus.OK, result.message


def test_ipps_uses_tls_without_verifying_the_self_signed_certificate(ipp_printer):
    result = run(f"ipps://localhost:{ipp_printer.port}/ipp/print")
    assert result.status is CheckStatus.OK, result.message
    assert (ipp_printer.directory / "keys").iterdir()  # ippeveprinter made its certificate
    assert run(f"127.0.0.1:{ipp_printer.port}", use_tls=True).status is CheckStatus.OK


def test_wrong_path_is_a_failure(ipp_printer):
    result = run(f"http://127.0.0.1:{ipp_printer.port}/ipp/nothing")
    assert result.status is CheckStatus.FAILURE
    assert "0x0406" in result.message  # client-error-not-found


def test_toner_low_from_the_supplies_form_is_a_warning(ipp_printer):
    ipp_printer.set_supplies(waste=25, toner=5)
    ipp_printer.wait_for(lambda state, reasons: "toner-low-report" in reasons)
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert result.status is CheckStatus.WARNING, result.message
    assert "toner-low" in result.values["reasons"]
    assert all(not r.endswith(("-report", "-warning", "-error")) for r in result.values["reasons"])


def test_marker_levels_below_the_threshold_warn_and_unknown_levels_are_none(ipp_printer):
    ipp_printer.control(
        "STATE: none",
        "ATTR: marker-names=Black,Cyan,Magenta marker-types=toner,toner,toner "
        "marker-colors=#000000,#00FFFF,#FF00FF marker-levels=4,55,-3 "
        "marker-low-levels=10,10,10 marker-high-levels=100,100,100")
    ipp_printer.wait_for(lambda state, reasons: state == "idle")
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert result.values["markers"] == {"Black": 4, "Cyan": 55, "Magenta": None}
    assert result.status is CheckStatus.WARNING, result.message
    assert "Black" in result.message
    # A lower threshold: 4 % is fine then, and nothing else is wrong.
    relaxed = run(f"127.0.0.1:{ipp_printer.port}", low_marker_percent=3)
    assert relaxed.status is CheckStatus.OK, relaxed.message


def test_control_job_reasons_are_reported(ipp_printer):
    ipp_printer.control("STATE: +toner-low,marker-supply-low",
                        expect_reasons={"toner-low-report", "marker-supply-low-report"})
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert result.status is CheckStatus.WARNING
    assert {"toner-low", "marker-supply-low"} <= set(result.values["reasons"])
    # "STATE: kw" replaces the reasons (ippeveprinter knows cover-open, not door-open)
    ipp_printer.control("STATE: media-jam,cover-open",
                        expect_reasons={"media-jam-report", "cover-open-report"})
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert result.status is CheckStatus.FAILURE
    assert sorted(result.values["reasons"]) == ["cover-open", "media-jam"]


def test_media_empty_is_a_failure_and_refilling_recovers(ipp_printer):
    ipp_printer.set_media(main=0, bypass=0)
    ipp_printer.wait_for(lambda state, reasons: "media-empty-report" in reasons)
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert result.status is CheckStatus.FAILURE, result.message
    assert "media-empty" in result.values["reasons"]
    ipp_printer.set_media(main=100, bypass=100)
    ipp_printer.wait_for(lambda state, reasons: "media-empty-report" not in reasons)
    assert run(f"127.0.0.1:{ipp_printer.port}").status is CheckStatus.OK


def test_processing_printer_waiting_for_paper(ipp_printer):
    ipp_printer.set_media(main=0, bypass=0)
    ipp_printer.submit("Giấy hẹn trả kết quả\n")
    ipp_printer.wait_for(lambda state, reasons: state == "processing")
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert result.values["state"] == "processing"
    assert "media-empty" in result.values["reasons"]  # from media-empty-warning
    assert result.status is CheckStatus.FAILURE
    ipp_printer.set_media(main=100, bypass=100)
    ipp_printer.wait_for(lambda state, reasons: state == "idle")
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert (result.status, result.values["state"]) == (CheckStatus.OK, "idle")


def test_media_low_is_a_warning(ipp_printer):
    ipp_printer.set_media(main=10, bypass=10)
    ipp_printer.wait_for(lambda state, reasons: "media-low-report" in reasons)
    result = run(f"127.0.0.1:{ipp_printer.port}")
    assert result.status is CheckStatus.WARNING
    assert "media-low" in result.values["reasons"]


# --- stopped fake, closed port, silence ---------------------------------------------


def test_stopped_printer_is_a_failure_with_its_message(stopped_ipp_printer):
    result = run(stopped_ipp_printer)
    assert result.status is CheckStatus.FAILURE
    assert result.values["state"] == "stopped"
    assert result.values["reasons"] == ["media-jam", "door-open"]
    assert result.values["state_message"] == "Paper jam in tray 2"
    assert "Paper jam in tray 2" in result.message


def test_closed_port_is_a_failure(closed_port):
    result = run(f"127.0.0.1:{closed_port}", timeout=2)
    assert result.status is CheckStatus.FAILURE
    assert "latency_ms" in result.values


def test_a_silent_printer_fails_within_the_timeout(silent_port):
    result = run(f"127.0.0.1:{silent_port}", timeout=0.5)
    assert result.status is CheckStatus.FAILURE
    assert "0.5" in result.message


def test_not_an_address_is_an_error():
    assert run("ipp://").status is CheckStatus.ERROR
    assert run("ftp://printer").status is CheckStatus.ERROR


def test_result_is_stable_under_the_registry_guard(registry, ipp_printer, stopped_ipp_printer):
    healthy, _ms = registry.run_check("ipp", CheckTarget(f"127.0.0.1:{ipp_printer.port}",
                                                         {"low_marker_percent": 10}, 3))
    stopped, _ms = registry.run_check("ipp", CheckTarget(stopped_ipp_printer, {}, 3))
    assert healthy.status is CheckStatus.OK
    assert stopped.status is CheckStatus.FAILURE
    again = [registry.run_check("ipp", CheckTarget(f"127.0.0.1:{ipp_printer.port}", {}, 3))[0]
             for _ in range(3)]
    assert {(r.status, r.values["state"], tuple(r.values["reasons"])) for r in again} == \
        {(CheckStatus.OK, "idle", ())}
    assert not [f for f in registry.failures if f.stage == "check:ipp"]


def test_a_printer_trickling_its_answer_is_cut_off_at_the_deadline(trickling_server):
    server = trickling_server("application/ipp")
    result = run(server.address, timeout=0.5)
    assert result.status is CheckStatus.FAILURE
    assert "0.5" in result.message
    # the check hung up on the device instead of waiting for the promised megabyte
    assert server.abandoned.wait(5)
    assert server.bytes_sent < 1000000


@pytest.mark.parametrize("reasons, status", [
    (["none"], CheckStatus.OK),
    (["vendor-thing-report"], CheckStatus.OK),
    (["vendor-thing-warning"], CheckStatus.WARNING),
    (["vendor-thing-error"], CheckStatus.FAILURE),
    (["toner-low"], CheckStatus.WARNING),
    (["media-jam"], CheckStatus.FAILURE),
    (["offline-report"], CheckStatus.FAILURE),
    (["marker-waste-almost-full-warning"], CheckStatus.WARNING),
])
def test_reason_severity(reasons, status):
    result_status, _message, values = ipp.interpret(
        {"printer-state": [3], "printer-state-reasons": reasons}, 10)
    assert result_status is status
    assert "none" not in values["reasons"]


def test_a_printer_refusing_jobs_is_a_failure_and_duplicate_marker_names_are_kept_apart():
    status, message, values = ipp.interpret(
        {"printer-state": [3], "printer-is-accepting-jobs": [False],
         "marker-names": ["Black", "Black"], "marker-levels": [50, 60]}, 10)
    assert status is CheckStatus.FAILURE
    assert values["markers"] == {"Black": 50, "Black #2": 60}
    assert values["accepting_jobs"] is False


def test_hung_printers_are_polled_without_a_thread_each(registry, http_server):
    http_server.hang("/ipp/print")
    address = "ipp://127.0.0.1:%d/ipp/print" % http_server.server.server_address[1]

    def our_threads() -> int:  # the server answers each request in a thread of its own
        return sum(1 for t in threading.enumerate() if "process_request" not in t.name)

    before = our_threads()

    async def poll_ten() -> tuple[int, list]:
        runs = [asyncio.ensure_future(registry.run_check_async(
            "ipp", CheckTarget(address, {}, 30))) for _ in range(10)]
        deadline = time.monotonic() + 20
        while http_server.pending("/ipp/print") < 10 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert http_server.pending("/ipp/print") == 10
        while_waiting = our_threads()
        http_server.release.set()
        return while_waiting, await asyncio.gather(*runs)

    while_waiting, results = asyncio.run(poll_ten())
    assert while_waiting == before
    assert len(results) == 10
