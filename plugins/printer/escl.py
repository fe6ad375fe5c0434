"""eSCL (AirScan) scanner check: GET /eSCL/ScannerStatus and read the state and the ADF."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, http, translator

from . import reasons as reason_text
from .transport import BodyTooLarge, elapsed_ms, get, parse_address

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


async def check_escl(target: CheckTarget) -> CheckResult:
    """Read the scanner's eSCL status: state (Idle, Processing, Stopped...) and ADF state.

    A coroutine. Messages name the scanner's status page as it is asked for."""
    config = target.config or {}
    started = time.monotonic()
    try:
        url = status_url(target.address, config.get("path") or DEFAULT_PATH,
                         bool(config.get("use_tls")))
        endpoint = parse_address(url, default_port=80, default_path="/")
    except ValueError:
        return CheckResult(CheckStatus.ERROR,
                           _("“%(address)s” is not a scanner address", address=target.address))
    try:
        status_code, _type, body = await get(endpoint, max(float(target.timeout), 0.1),
                                             {"Accept": "text/xml, application/xml"})
    except http.HttpError as exc:
        if exc.kind == "timeout":
            message = _("No answer from the scanner within %(seconds)s s",
                        seconds=f"{target.timeout:g}")
        elif exc.kind == "connect":
            message = _("Cannot connect to the scanner at %(url)s (%(error)s)", url=url,
                        error=exc.reason)
        else:
            message = _("The device at %(url)s does not answer like an eSCL scanner "
                        "(%(error)s)", url=url, error=exc.reason)
        return CheckResult(CheckStatus.FAILURE, message, {"latency_ms": elapsed_ms(started)})
    except BodyTooLarge:
        return CheckResult(CheckStatus.FAILURE,
                           _("The device at %(url)s does not answer like an eSCL scanner (%(error)s)",
                             url=url, error=_("the answer is too large")),
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
