"""The ``escl`` check against a small eSCL status server."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk_core import CheckStatus, CheckTarget
from plugins.printer import escl


def run(address: str, timeout: float = 3.0, **config):
    return asyncio.run(escl.check_escl(CheckTarget(address, config, timeout, name="Quầy 1 scanner")))


@pytest.mark.parametrize("address, config, url", [
    ("10.0.0.5", {}, "http://10.0.0.5:80/eSCL/ScannerStatus"),
    ("10.0.0.5:8080", {}, "http://10.0.0.5:8080/eSCL/ScannerStatus"),
    ("10.0.0.5", {"use_tls": True}, "https://10.0.0.5:443/eSCL/ScannerStatus"),
    ("https://scanner.local/eSCL/", {}, "https://scanner.local:443/eSCL/ScannerStatus"),
    ("http://10.0.0.5:9095", {"path": "/escl"}, "http://10.0.0.5:9095/escl/ScannerStatus"),
])
def test_status_url(address, config, url):
    assert escl.status_url(address, config.get("path", "/eSCL"), config.get("use_tls", False)) == url


def test_idle_scanner_is_ok(escl_scanner):
    result = run(escl_scanner.address)
    assert result.status is CheckStatus.OK, result.message
    assert result.values["state"] == "idle"
    assert result.values["adf_state"] == "ScannerAdfLoaded"
    assert result.latency_ms is not None


@pytest.mark.parametrize("state, adf, status", [
    ("Processing", "ScannerAdfProcessing", CheckStatus.OK),
    ("Idle", "ScannerAdfEmpty", CheckStatus.OK),  # nothing in the feeder is normal
    ("Idle", "ScannerAdfJam", CheckStatus.FAILURE),
    ("Idle", "ScannerAdfHatchOpen", CheckStatus.FAILURE),
    ("Idle", "ScannerAdfMultipickDetected", CheckStatus.WARNING),
    ("Testing", "ScannerAdfLoaded", CheckStatus.WARNING),
    ("Stopped", "ScannerAdfJam", CheckStatus.FAILURE),
    ("Down", "ScannerAdfLoaded", CheckStatus.FAILURE),
])
def test_states_flipped_at_runtime(escl_scanner, state, adf, status):
    escl_scanner.set_state(State=state, AdfState=adf)
    result = run(f"http://{escl_scanner.address}/eSCL")
    assert result.status is status, result.message
    assert result.values["adf_state"] == adf
    assert result.values["state"] == state.lower()


def test_jam_then_cleared(escl_scanner):
    escl_scanner.set_state(State="Stopped", AdfState="ScannerAdfJam")
    assert run(escl_scanner.address).status is CheckStatus.FAILURE
    escl_scanner.set_state(State="Idle", AdfState="ScannerAdfEmpty")
    assert run(escl_scanner.address).status is CheckStatus.OK


def test_wrong_path_is_a_failure(escl_scanner):
    result = run(escl_scanner.address, path="/scanner")
    assert result.status is CheckStatus.FAILURE
    assert result.values["status_code"] == 404


def test_closed_port_and_silence_are_failures(closed_port, silent_port):
    assert run(f"127.0.0.1:{closed_port}").status is CheckStatus.FAILURE
    silent = run(f"127.0.0.1:{silent_port}", timeout=0.5)
    assert silent.status is CheckStatus.FAILURE
    assert "0.5" in silent.message


def test_broken_xml_is_a_failure(escl_scanner):
    escl_scanner.set_state(State="<Idle")
    result = run(escl_scanner.address)
    assert result.status is CheckStatus.FAILURE
    assert "eSCL" in result.message


def test_result_is_stable_under_the_registry_guard(registry, escl_scanner):
    before = escl_scanner.requests
    results = [registry.run_check("escl", CheckTarget(escl_scanner.address, {}, 2))[0]
               for _ in range(3)]
    assert {(r.status, r.values["state"]) for r in results} == {(CheckStatus.OK, "idle")}
    assert escl_scanner.requests - before == 3
    escl_scanner.set_state(State="Down")
    down, _ms = registry.run_check("escl", CheckTarget(escl_scanner.address, {}, 2))
    assert down.status is CheckStatus.FAILURE
    assert not [f for f in registry.failures if f.stage == "check:escl"]


def test_a_scanner_trickling_its_answer_is_cut_off_at_the_deadline(trickling_server):
    server = trickling_server("text/xml")
    result = run(server.address, timeout=0.5)
    assert result.status is CheckStatus.FAILURE
    assert "0.5" in result.message
    assert server.abandoned.wait(5)
