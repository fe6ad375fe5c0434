"""IPP health check: Get-Printer-Attributes over HTTP, with a small hand-written codec.

RFC 8010 encoding: a binary header, then tag-length-value attributes. Only what a status
query needs is encoded; the decoder reads any answer (collections are flattened, their
members are skipped) and returns every attribute as a list of values.
"""

from __future__ import annotations

import itertools
import struct
import time
from dataclasses import dataclass
from typing import Any, Callable

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, http, translator

from . import reasons as reason_text
from .transport import BodyTooLarge, Endpoint, elapsed_ms, parse_address, post

_ = translator(__name__).gettext

GET_PRINTER_ATTRIBUTES = 0x000B
DEFAULT_PORT = 631
DEFAULT_PATH = "/ipp/print"
DEFAULT_LOW_MARKER = 10

# Delimiter tags (RFC 8010 3.5.1)
OPERATION_GROUP, END_OF_ATTRIBUTES = 0x01, 0x03
# Value tags
INTEGER, BOOLEAN, ENUM = 0x21, 0x22, 0x23
TEXT_WITH_LANGUAGE, NAME_WITH_LANGUAGE = 0x35, 0x36
BEGIN_COLLECTION, END_COLLECTION, MEMBER_NAME = 0x34, 0x37, 0x4A
KEYWORD, URI, CHARSET, NATURAL_LANGUAGE = 0x44, 0x45, 0x47, 0x48

REQUESTED = ("printer-state", "printer-state-reasons", "printer-state-message",
             "printer-is-accepting-jobs", "printer-make-and-model", "marker-names",
             "marker-levels", "marker-types", "marker-low-levels")

STATES = {3: "idle", 4: "processing", 5: "stopped"}

# Reasons that stop printing (or will on the next page): the printer needs a person.
ERROR_REASONS = frozenset({
    "media-jam", "door-open", "cover-open", "interlock-open", "media-empty", "media-needed",
    "toner-empty", "marker-supply-empty", "marker-waste-full", "offline", "paused",
    "shutdown", "input-tray-missing", "output-tray-missing", "output-area-full",
    "fuser-over-temp", "spool-area-full", "stopped-partly", "moving-to-paused",
})
# Reasons that still print but need supplies soon.
WARNING_REASONS = frozenset({
    "toner-low", "marker-supply-low", "media-low", "marker-waste-almost-full",
    "developer-low", "opc-near-eol", "output-area-almost-full", "opc-life-over",
    "developer-empty",
})
SEVERITY_SUFFIXES = ("-report", "-warning", "-error")

_request_ids = itertools.count(1)


class IppError(Exception):
    """The answer is not a valid IPP message."""


# --- encoding ---------------------------------------------------------------------


def _attribute(tag: int, name: str, value: bytes) -> bytes:
    encoded = name.encode("ascii")
    return struct.pack(">BH", tag, len(encoded)) + encoded + struct.pack(">H", len(value)) + value


def encode_get_printer_attributes(printer_uri: str, request_id: int,
                                  requested: tuple[str, ...] = REQUESTED) -> bytes:
    """A Get-Printer-Attributes request (IPP/2.0) for *printer_uri*."""
    body = struct.pack(">BBHI", 2, 0, GET_PRINTER_ATTRIBUTES, request_id)
    body += bytes([OPERATION_GROUP])
    body += _attribute(CHARSET, "attributes-charset", b"utf-8")
    body += _attribute(NATURAL_LANGUAGE, "attributes-natural-language", b"en")
    body += _attribute(URI, "printer-uri", printer_uri.encode("utf-8"))
    for index, name in enumerate(requested):
        # Additional values of a multi-valued attribute carry an empty name.
        body += _attribute(KEYWORD, "requested-attributes" if index == 0 else "",
                           name.encode("ascii"))
    return body + bytes([END_OF_ATTRIBUTES])


# --- decoding ---------------------------------------------------------------------


def _value(tag: int, raw: bytes) -> Any:
    if tag in (INTEGER, ENUM):
        if len(raw) != 4:
            raise IppError(f"integer of {len(raw)} bytes")
        return struct.unpack(">i", raw)[0]
    if tag == BOOLEAN:
        return bool(raw and raw[0])
    if tag in (TEXT_WITH_LANGUAGE, NAME_WITH_LANGUAGE):
        if len(raw) < 4:
            raise IppError("short text-with-language")
        lang_len = struct.unpack_from(">H", raw, 0)[0]
        text_len = struct.unpack_from(">H", raw, 2 + lang_len)[0]
        return raw[4 + lang_len:4 + lang_len + text_len].decode("utf-8", "replace")
    if 0x40 <= tag <= 0x5F:  # character-string types: text, name, keyword, uri...
        return raw.decode("utf-8", "replace")
    if 0x10 <= tag <= 0x1F:  # out-of-band: unsupported, unknown, no-value
        return None
    return raw  # octetString, dateTime, resolution, ranges: not needed here


def decode_response(data: bytes) -> tuple[int, int, dict[str, list[Any]]]:
    """Decode an IPP response into (status code, request id, attributes).

    Attributes of all groups are merged (a status query has one printer group); each
    maps to the list of its values.
    """
    if len(data) < 9:
        raise IppError("answer shorter than an IPP header")
    _major, _minor, status, request_id = struct.unpack_from(">BBHI", data, 0)
    attributes: dict[str, list[Any]] = {}
    offset, current, depth = 8, None, 0
    while offset < len(data):
        tag = data[offset]
        offset += 1
        if tag == END_OF_ATTRIBUTES:
            return status, request_id, attributes
        if tag < 0x10:  # start of another attribute group
            current = None
            continue
        if offset + 2 > len(data):
            raise IppError("truncated attribute name")
        name_len = struct.unpack_from(">H", data, offset)[0]
        name = data[offset + 2:offset + 2 + name_len].decode("utf-8", "replace")
        offset += 2 + name_len
        if offset + 2 > len(data):
            raise IppError("truncated attribute value")
        value_len = struct.unpack_from(">H", data, offset)[0]
        raw = data[offset + 2:offset + 2 + value_len]
        if len(raw) != value_len:
            raise IppError("truncated attribute value")
        offset += 2 + value_len
        if tag == BEGIN_COLLECTION:
            if depth == 0 and name:
                current = name
                attributes.setdefault(name, []).append(None)
            depth += 1
            continue
        if tag == END_COLLECTION:
            depth = max(depth - 1, 0)
            continue
        if depth:  # members of a collection: not needed for status
            continue
        if name:
            current = name
            attributes.setdefault(name, []).append(_value(tag, raw))
        elif current is not None:
            attributes[current].append(_value(tag, raw))
    raise IppError("no end-of-attributes tag")


# --- interpretation ---------------------------------------------------------------


def normalise_reason(reason: str) -> str:
    """``media-jam-error`` -> ``media-jam``: real printers send either form."""
    for suffix in SEVERITY_SUFFIXES:
        if reason.endswith(suffix):
            return reason[:-len(suffix)]
    return reason


# Severity by reason, then by the reason's suffix for reasons not listed.
_SEVERITY = {**{reason: "failure" for reason in ERROR_REASONS},
             **{reason: "warning" for reason in WARNING_REASONS}}
_SEVERITY_BY_SUFFIX = (("-error", "failure"), ("-warning", "warning"))
# ippeveprinter and others say "Idle." or "Printing."; only other messages add news.
_ROUTINE_MESSAGES = frozenset({"idle", "printing", "processing"})


def _severity(raw_reason: str) -> str | None:
    severity = _SEVERITY.get(normalise_reason(raw_reason))
    if severity is not None:
        return severity
    return next((level for suffix, level in _SEVERITY_BY_SUFFIX
                 if raw_reason.endswith(suffix)), None)


def _first(attributes: dict[str, list[Any]], name: str, default: Any = None) -> Any:
    return (attributes.get(name) or [default])[0]


def _markers(attributes: dict[str, list[Any]]) -> dict[str, int | None]:
    """Marker (toner, drum...) name -> level in percent, None when the printer does not
    know (RFC 3805: negative); unnamed or repeated names get their position."""
    names = [str(n) for n in attributes.get("marker-names", [])]
    levels = [lv for lv in attributes.get("marker-levels", []) if isinstance(lv, int)]
    markers: dict[str, int | None] = {}
    for index, level in enumerate(levels):
        name = names[index] if index < len(names) and names[index] else f"#{index + 1}"
        if name in markers:
            name = f"{name} #{index + 1}"
        markers[name] = level if level >= 0 else None
    return markers


@dataclass(frozen=True)
class _Printer:
    """The decoded attributes a verdict looks at."""

    state: str
    raw_reasons: list[str]
    message: str
    accepting: bool | None
    markers: dict[str, int | None]
    low: dict[str, int]

    def reasons_of(self, severity: str) -> list[str]:
        return [r for r in self.raw_reasons if _severity(r) == severity]


def _printer(attributes: dict[str, list[Any]], low_marker: int) -> _Printer:
    markers = _markers(attributes)
    return _Printer(
        state=STATES.get(_first(attributes, "printer-state"), "unknown"),
        raw_reasons=[r for r in attributes.get("printer-state-reasons", [])
                     if isinstance(r, str) and r and r != "none"],
        message=_first(attributes, "printer-state-message", "") or "",
        accepting=_first(attributes, "printer-is-accepting-jobs"),
        markers=markers,
        low={name: level for name, level in markers.items()
             if level is not None and level < low_marker})


# The verdict: the first row whose condition holds gives the status and the headline.
VERDICTS: tuple[tuple[Callable[[_Printer], bool], CheckStatus, Callable[[], str]], ...] = (
    (lambda p: p.state == "stopped", CheckStatus.FAILURE,
     lambda: _("The printer is stopped")),
    (lambda p: p.accepting is False, CheckStatus.FAILURE,
     lambda: _("The printer refuses new print jobs")),
    (lambda p: bool(p.reasons_of("failure")), CheckStatus.FAILURE,
     lambda: _("The printer needs attention")),
    (lambda p: bool(p.reasons_of("warning") or p.low), CheckStatus.WARNING,
     lambda: _("The printer works but supplies are low")),
    (lambda p: p.state == "processing", CheckStatus.OK,
     lambda: _("The printer is printing")),
    (lambda p: True, CheckStatus.OK,
     lambda: _("The printer is ready")),
)


def _details(printer: _Printer, status: CheckStatus) -> list[str]:
    """What follows the headline: the problems, the low markers, the printer's own news."""
    problem_reasons = printer.reasons_of("failure") + printer.reasons_of("warning")
    details = list(reason_text.describe(normalise_reason(r) for r in problem_reasons))
    details += [_("%(marker)s at %(level)s%%", marker=name, level=level)
                for name, level in printer.low.items()]
    routine = _ROUTINE_MESSAGES | {printer.state}
    if printer.message and status is not CheckStatus.OK \
            and printer.message.strip(" .").lower() not in routine:
        details.append(f"“{printer.message}”")
    return details


def _values(attributes: dict[str, list[Any]], printer: _Printer) -> dict[str, Any]:
    values: dict[str, Any] = {
        "state": printer.state,
        "reasons": list(dict.fromkeys(normalise_reason(r) for r in printer.raw_reasons)),
        "state_message": printer.message, "markers": printer.markers}
    if printer.accepting is not None:
        values["accepting_jobs"] = printer.accepting
    model = _first(attributes, "printer-make-and-model")
    if model:
        values["model"] = model
    return values


def interpret(attributes: dict[str, list[Any]], low_marker: int) -> tuple[CheckStatus, str, dict]:
    """Status, message and values from decoded printer attributes (:data:`VERDICTS`)."""
    printer = _printer(attributes, low_marker)
    status, headline = next((status, text()) for holds, status, text in VERDICTS
                            if holds(printer))
    details = _details(printer, status)
    return (status, headline + (": " + ", ".join(details) if details else ""),
            _values(attributes, printer))


async def get_printer_attributes(endpoint: Endpoint, printer_uri: str,
                                 timeout: float) -> dict[str, list[Any]]:
    """Send Get-Printer-Attributes; return the attributes or raise ``IppError``
    (``http.HttpError`` when no answer came)."""
    request_id = next(_request_ids) % 0x7FFFFFFF or 1
    status, _type, body = await post(
        endpoint, timeout, encode_get_printer_attributes(printer_uri, request_id),
        {"Content-Type": "application/ipp"})
    if status != 200:
        raise IppError(f"HTTP {status}")
    ipp_status, answered_id, attributes = decode_response(body)
    if ipp_status >= 0x0100:  # 0x0000-0x00FF: successful-ok and its variants
        raise IppError(f"IPP status 0x{ipp_status:04x}")
    if answered_id != request_id:
        raise IppError("answer to another request")
    return attributes


async def check_ipp(target: CheckTarget) -> CheckResult:
    """Ask the printer for its state, reasons and marker levels over IPP (a coroutine)."""
    config = target.config or {}
    started = time.monotonic()
    try:
        endpoint = parse_address(target.address, default_port=DEFAULT_PORT,
                                 default_path=(config.get("path") or DEFAULT_PATH),
                                 tls=bool(config.get("use_tls")),
                                 schemes={"ipp": "http", "ipps": "https"})
    except ValueError:
        return CheckResult(CheckStatus.ERROR,
                           _("“%(address)s” is not a printer address", address=target.address))
    printer_uri = f"{'ipps' if endpoint.scheme == 'https' else 'ipp'}://" + \
        endpoint.url.split("://", 1)[1]
    low_marker = config.get("low_marker_percent")
    low_marker = DEFAULT_LOW_MARKER if low_marker is None else int(low_marker)
    # Messages name the printer as the administrator typed it (ipp://..., not http://...).
    address = target.address.strip()
    try:
        attributes = await get_printer_attributes(endpoint, printer_uri,
                                                  max(float(target.timeout), 0.1))
    except http.HttpError as exc:
        if exc.kind == "timeout":
            message = _("No answer from the printer within %(seconds)s s",
                        seconds=f"{target.timeout:g}")
        elif exc.kind == "connect":
            message = _("Cannot connect to the printer at %(address)s (%(error)s)",
                        address=address, error=exc.reason)
        else:
            message = _("The device at %(url)s does not answer like an IPP printer (%(error)s)",
                        url=address, error=exc.reason)
        return CheckResult(CheckStatus.FAILURE, message, {"latency_ms": elapsed_ms(started)})
    except (IppError, BodyTooLarge) as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("The device at %(url)s does not answer like an IPP printer (%(error)s)",
                             url=address, error=str(exc) or exc.__class__.__name__),
                           {"latency_ms": elapsed_ms(started)})
    status, message, values = interpret(attributes, low_marker)
    return CheckResult(status, message, {"latency_ms": elapsed_ms(started), **values})
