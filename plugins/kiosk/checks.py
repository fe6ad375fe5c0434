"""The ``kiosk_paper`` check: ask the ticket printer about its paper roll (ESC/POS).

``DLE EOT 4`` (bytes ``10 04 04``) is the real-time "roll paper sensor status" request;
the printer answers one byte at once, even in the middle of a job:

====  =====================================================
bit   meaning
====  =====================================================
0, 7  always 0
1, 4  always 1
2, 3  paper roll near its end (both set by most printers)
5, 6  paper roll end: no paper (both set by most printers)
====  =====================================================

So ``0x12`` is "paper adequate", ``0x1E`` near end, ``0x72`` out of paper.
"""

from __future__ import annotations

import asyncio
import time

from helpdesk_core import (CheckResult, CheckStatus, CheckTarget, deadline, describe_error,
                           translator)

_ = translator(__name__).gettext

REQUEST = b"\x10\x04\x04"  # DLE EOT 4
FIXED_MASK, FIXED_VALUE = 0b1001_0011, 0b0001_0010
NEAR_END_BITS = 0b0000_1100
END_BITS = 0b0110_0000
DEFAULT_PORT = 9100


def decode(status: int) -> str | None:
    """``"end"``, ``"near_end"``, ``"ok"``, or None if the byte is not a status answer."""
    if status & FIXED_MASK != FIXED_VALUE:
        return None
    if status & END_BITS:
        return "end"
    if status & NEAR_END_BITS:
        return "near_end"
    return "ok"


def _host_port(target: CheckTarget) -> tuple[str, int]:
    host, sep, port = target.address.rpartition(":")
    if sep and port.isdigit() and host:
        return host.strip("[]"), int(port)
    return target.address.strip("[]"), int(target.config.get("port") or DEFAULT_PORT)


async def check_paper(target: CheckTarget) -> CheckResult:
    """Send ``DLE EOT 4`` to the printer and read its paper sensor status.

    A coroutine on the scheduler's event loop: no thread waits on a silent printer.
    """
    host, port = _host_port(target)
    if not host:
        return CheckResult(CheckStatus.ERROR, _("No printer address configured."))
    started = time.monotonic()
    writer = None
    opened: list[asyncio.BaseTransport] = []
    try:
        # Not timed out while the printer's answer waits for a busy loop to read it.
        async with deadline.answer_deadline(max(float(target.timeout), 0.1),
                                            deadline.answered_on(opened)):
            reader, writer = await asyncio.open_connection(host, port)
            opened.append(writer.transport)
            writer.write(REQUEST)
            await writer.drain()
            answer = await reader.read(1)
    except TimeoutError:
        return CheckResult(CheckStatus.FAILURE,
                           _("The ticket printer at %(host)s:%(port)s did not answer",
                             host=host, port=port))
    except OSError as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot connect to the ticket printer at %(host)s:%(port)s (%(error)s)",
                             host=host, port=port, error=describe_error(exc)))
    finally:
        if writer is not None:
            writer.close()
    latency = round((time.monotonic() - started) * 1000, 2)
    if not answer:
        return CheckResult(CheckStatus.FAILURE,
                           _("The ticket printer at %(host)s:%(port)s closed the connection",
                             host=host, port=port), {"latency_ms": latency})
    status = answer[0]
    values = {"latency_ms": latency, "status_byte": status}
    state = decode(status)
    if state is None:
        return CheckResult(CheckStatus.ERROR,
                           _("Unexpected answer 0x%(byte)s: is this an ESC/POS printer?",
                             byte=f"{status:02X}"), values)
    values["paper"] = state
    if state == "end":
        return CheckResult(CheckStatus.FAILURE, _("The ticket printer is out of paper"), values)
    if state == "near_end":
        return CheckResult(CheckStatus.WARNING, _("The paper roll is nearly used up"), values)
    return CheckResult(CheckStatus.OK, _("Paper is loaded"), values)
