"""eSCL (AirScan) scanner check: GET /eSCL/ScannerStatus and read the state and the ADF."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import requests

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, translator

from . import reasons as reason_text
from .transport import BodyTooLarge, DeadlineExceeded, elapsed_ms, parse_address, request

_ = translator(__name__).gettext

DEFAULT_PATH = "/eSCL"
NS = {"scan": "http://schemas.hp.com/imaging/escl/2011/05/03",
      "pwg": "http://www.pwg.org/schemas/2010/12/sm"}

STATES = {"Idle": "idle", "Processing": "processing", "Testing": "testing",
          "Stopped": "stopped", "Down": "down"}
# ADF states that stop scanning from the feeder until someone clears them.
ADF_FAILURES = frozenset({"ScannerAdfJam", "ScannerAdfHatchOpen", "ScannerAdfInputTrayFailed"})
# ADF states that spoil a scan but clear by themselves or with a retry.
ADF_WARNINGS = frozenset({"ScannerAdfMispick", "ScannerAdfMultipickDetected",
                          "ScannerAdfInputTrayOverloaded", "ScannerAdfDuplexPageTooShort",
                          "ScannerAdfDuplexPageTooLong"})


def status_url(address: str, path: str = DEFAULT_PATH, tls: bool = False) -> str:
    """The ScannerStatus URL for an address given as host, host:port or a URL."""
    path = "/" + (path or DEFAULT_PATH).strip("/")
    endpoint = parse_address(address, default_port={"http": 80, "https": 443},
                             default_path=path, tls=tls)
    base = endpoint.url
    if not endpoint.path.rstrip("/").endswith(path):
        base = base.rstrip("/") + path
    return base.rstrip("/") + "/ScannerStatus"


def interpret(body: bytes) -> tuple[CheckStatus, str, dict]:
    """Status, message and values from a ScannerStatus document."""
    root = ET.fromstring(body)
    raw_state = (root.findtext("pwg:State", namespaces=NS) or "").strip()
    adf = (root.findtext("scan:AdfState", namespaces=NS) or "").strip()
    state = STATES.get(raw_state, raw_state.lower() or "unknown")
    values = {"state": state, "adf_state": adf or None}
    adf_text = reason_text.describe([adf]) if adf in ADF_FAILURES | ADF_WARNINGS else []
    if state in ("stopped", "down"):
        status, text = CheckStatus.FAILURE, _("The scanner is stopped") if state == "stopped" \
            else _("The scanner is down")
    elif adf in ADF_FAILURES:
        status, text = CheckStatus.FAILURE, _("The scanner needs attention")
    elif state not in ("idle", "processing") or adf in ADF_WARNINGS:
        status, text = CheckStatus.WARNING, _("The scanner reports a problem")
        if state not in ("idle", "processing"):
            adf_text = [_("state %(state)s", state=raw_state or "?")] + adf_text
    else:
        status = CheckStatus.OK
        text = _("The scanner is scanning") if state == "processing" else \
            _("The scanner is ready")
    return status, text + (": " + ", ".join(adf_text) if adf_text else ""), values


def check_escl(target: CheckTarget) -> CheckResult:
    """Read the scanner's eSCL status: state (Idle, Processing, Stopped...) and ADF state."""
    config = target.config or {}
    started = time.monotonic()
    deadline = started + max(float(target.timeout), 0.1)
    try:
        url = status_url(target.address, config.get("path") or DEFAULT_PATH,
                         bool(config.get("use_tls")))
        endpoint = parse_address(url, default_port=80, default_path="/")
    except ValueError:
        return CheckResult(CheckStatus.ERROR,
                           _("“%(address)s” is not a scanner address", address=target.address))
    try:
        status_code, _type, body = request("GET", endpoint, deadline,
                                           headers={"Accept": "text/xml, application/xml"})
    except (requests.Timeout, DeadlineExceeded):
        return CheckResult(CheckStatus.FAILURE,
                           _("No answer from the scanner within %(seconds)s s",
                             seconds=f"{target.timeout:g}"),
                           {"latency_ms": elapsed_ms(started)})
    except requests.ConnectionError:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot connect to the scanner at %(url)s", url=url),
                           {"latency_ms": elapsed_ms(started)})
    except (BodyTooLarge, requests.RequestException) as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("The device at %(url)s does not answer like an eSCL scanner (%(error)s)",
                             url=url, error=exc.__class__.__name__),
                           {"latency_ms": elapsed_ms(started)})
    latency = elapsed_ms(started)
    if status_code != 200:
        return CheckResult(CheckStatus.FAILURE,
                           _("The scanner answered %(status)s at %(url)s", status=status_code,
                             url=url), {"latency_ms": latency, "status_code": status_code})
    try:
        status, message, values = interpret(body)
    except ET.ParseError:
        return CheckResult(CheckStatus.FAILURE,
                           _("The device at %(url)s does not answer like an eSCL scanner (%(error)s)",
                             url=url, error="XML"), {"latency_ms": latency})
    return CheckResult(status, message, {"latency_ms": latency, **values})
