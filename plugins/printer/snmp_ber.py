"""SNMPv2c Response messages read straight from their BER octets.

An SNMP reply is a fixed shape (RFC 3416: version, community, Response-PDU with
request-id, error-status, error-index and the variable bindings) built from a handful of
universal and application types, each with a one-octet tag and a definite length
(RFC 3417 allows no other). Walking those octets here costs a few microseconds a reply;
pyasn1's generic decoder, which builds a typed object per element, cost 0.6 ms per
printer and was a quarter of a 5,000-device sweep's CPU. Requests are still encoded by
pysnmp and pyasn1 (once per distinct request, see ``snmp._template``).

Values come out as Python values: ``int`` for INTEGER, Counter32, Gauge32, TimeTicks and
Counter64, ``bytes`` for OCTET STRING, IpAddress and Opaque, a tuple for an OBJECT
IDENTIFIER, :data:`MISSING` for noSuchObject, noSuchInstance and endOfMibView, None for
NULL and for a type SNMP does not define (the check reads no value from either).
"""

from __future__ import annotations

from typing import Any, NamedTuple

SEQUENCE, INTEGER, OCTET_STRING, OID = 0x30, 0x02, 0x04, 0x06
RESPONSE_PDU = 0xA2
_UNSIGNED = frozenset({0x41, 0x42, 0x43, 0x46})  # Counter32, Gauge32, TimeTicks, Counter64
_OCTETS = frozenset({OCTET_STRING, 0x40, 0x44})   # OCTET STRING, IpAddress, Opaque
_EXCEPTIONS = frozenset({0x80, 0x81, 0x82})      # noSuchObject, noSuchInstance, endOfMibView


class Malformed(ValueError):
    """The octets are not an SNMPv2c Response message."""


class _Missing:
    """noSuchObject, noSuchInstance or endOfMibView: the agent has no value there."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class Response(NamedTuple):
    request_id: int
    error_status: int
    error_index: int
    bindings: list[tuple[tuple[int, ...], Any]]  # (OID, value) in the agent's order


def element(data: bytes, at: int, end: int) -> tuple[int, int, int]:
    """The tag, where the content starts and where it ends, of the BER element at *at*
    (*end*: where the enclosing element ends)."""
    if at + 2 > end:
        raise Malformed("truncated")
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        octets = length & 0x7F
        if not 0 < octets <= 4 or at + octets > end:
            raise Malformed("bad length")
        length = int.from_bytes(data[at:at + octets], "big")
        at += octets
    if at + length > end:
        raise Malformed("truncated")
    return tag, at, at + length


def _expect(data: bytes, at: int, end: int, tag: int) -> tuple[int, int]:
    got, start, stop = element(data, at, end)
    if got != tag:
        raise Malformed(f"tag {got:#x} where {tag:#x} belongs")
    return start, stop


def _integer(data: bytes, at: int, end: int) -> tuple[int, int]:
    start, stop = _expect(data, at, end, INTEGER)
    return int.from_bytes(data[start:stop], "big", signed=True), stop


def _oid(octets: bytes) -> tuple[int, ...]:
    if not octets:
        raise Malformed("empty OID")
    arcs, value = [], 0
    for octet in octets:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    if octets[-1] & 0x80:
        raise Malformed("OID cut short")
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def value_of(tag: int, octets: bytes) -> Any:
    """A binding's value from its tag and content octets."""
    if tag == INTEGER:
        return int.from_bytes(octets, "big", signed=True)
    if tag in _UNSIGNED:
        return int.from_bytes(octets, "big")
    if tag in _OCTETS:
        return bytes(octets)
    if tag in _EXCEPTIONS:
        return MISSING
    if tag == OID:
        return _oid(octets)
    return None  # NULL, or a type SNMP does not define


def read_response(data: bytes) -> Response:
    """The Response-PDU of an SNMP message; :class:`Malformed` if it is not one."""
    start, end = _expect(data, 0, len(data), SEQUENCE)
    _version, at = _integer(data, start, end)
    _start, at = _expect(data, at, end, OCTET_STRING)  # community: the socket is connected
    at, end = _expect(data, at, end, RESPONSE_PDU)
    request_id, at = _integer(data, at, end)
    error_status, at = _integer(data, at, end)
    error_index, at = _integer(data, at, end)
    at, end = _expect(data, at, end, SEQUENCE)
    bindings = []
    while at < end:
        binding, at = _expect(data, at, end, SEQUENCE)
        name_start, name_end = _expect(data, binding, at, OID)
        tag, value_start, value_end = element(data, name_end, at)
        bindings.append((_oid(data[name_start:name_end]),
                         value_of(tag, data[value_start:value_end])))
    return Response(request_id, error_status, error_index, bindings)
