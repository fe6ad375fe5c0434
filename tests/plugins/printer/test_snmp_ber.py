"""The SNMP reply reader against messages encoded by pysnmp and pyasn1 (the encoder the
agents' side of the test suite uses too), and against broken octets."""

import pytest
from pyasn1.codec.ber import encoder
from pysnmp.proto.api import v2c

from plugins.printer import snmp_ber


def _response(bindings, request_id=0x1234567, error_status=0, error_index=0,
              community="public") -> bytes:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_error_status(pdu, error_status)
    v2c.apiPDU.set_error_index(pdu, error_index)
    v2c.apiPDU.set_varbinds(pdu, bindings)
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, community)
    v2c.apiMessage.set_pdu(message, pdu)
    return encoder.encode(message)


def test_every_value_type_of_snmpv2_reads_as_its_python_value():
    oid = "1.3.6.1.2.1.43.11.1.1.9.1.1"
    values = [
        (v2c.Integer(-3), -3),
        (v2c.Integer(2**31 - 1), 2**31 - 1),
        (v2c.OctetString(b"Black Toner \xc3\xa1"), b"Black Toner \xc3\xa1"),
        (v2c.OctetString(b""), b""),
        (v2c.IpAddress("192.168.1.20"), bytes([192, 168, 1, 20])),
        (v2c.Counter32(4294967295), 4294967295),
        (v2c.Gauge32(128), 128),
        (v2c.TimeTicks(360000), 360000),
        (v2c.Counter64(2**64 - 1), 2**64 - 1),
        (v2c.ObjectIdentifier("1.3.6.1.4.1.2699.1.2"), (1, 3, 6, 1, 4, 1, 2699, 1, 2)),
        (v2c.NoSuchObject(""), snmp_ber.MISSING),
        (v2c.NoSuchInstance(""), snmp_ber.MISSING),
        (v2c.EndOfMibView(""), snmp_ber.MISSING),
        (v2c.Null(""), None),
    ]
    reply = snmp_ber.read_response(_response([(v2c.ObjectIdentifier(oid), value)
                                              for value, _ in values]))
    assert reply.request_id == 0x1234567
    assert (reply.error_status, reply.error_index) == (0, 0)
    assert [name for name, _ in reply.bindings] == [tuple(map(int, oid.split(".")))] * len(values)
    assert [value for _, value in reply.bindings] == [expected for _, expected in values]


def test_oids_with_large_arcs_and_the_joint_iso_first_arc_read_back():
    names = ["1.3.6.1.4.1.311.21.20", "2.999.3", "1.3.6.1.2.1.25.3.5.1.2.268435455",
             "0.0", "1.39"]
    reply = snmp_ber.read_response(_response([(v2c.ObjectIdentifier(n), v2c.Integer(1))
                                              for n in names]))
    assert [name for name, _ in reply.bindings] == [tuple(map(int, n.split("."))) for n in names]


def test_an_error_reply_carries_its_status_and_index():
    reply = snmp_ber.read_response(_response([], request_id=7, error_status=5, error_index=2))
    assert (reply.request_id, reply.error_status, reply.error_index, reply.bindings) == (7, 5, 2, [])


def test_long_form_lengths_are_read():
    # 40 bindings of a long description make every enclosing length take 2 octets.
    bindings = [(v2c.ObjectIdentifier(f"1.3.6.1.2.1.43.11.1.1.6.1.{i}"),
                 v2c.OctetString(b"x" * 200)) for i in range(40)]
    data = _response(bindings)
    assert data[1] == 0x82  # the message's own length in two octets
    reply = snmp_ber.read_response(data)
    assert len(reply.bindings) == 40 and reply.bindings[-1][1] == b"x" * 200


def test_a_request_is_not_a_response():
    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_varbinds(pdu, [(v2c.ObjectIdentifier("1.3.6.1"), v2c.null)])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_pdu(message, pdu)
    with pytest.raises(snmp_ber.Malformed):
        snmp_ber.read_response(encoder.encode(message))


@pytest.mark.parametrize("broken", [
    b"",
    b"\x30",
    b"junk that is not BER at all",
    b"\x30\x80\x02\x01\x01\x00\x00",                 # indefinite length: not SNMP's BER
    b"\x30\x85\x00\x00\x00\x00\x10",                 # a length of 5 octets
    b"\x30\x05\x02\x01\x01\x04",                     # the community cut off
])
def test_broken_octets_are_malformed_not_a_crash(broken):
    with pytest.raises(snmp_ber.Malformed):
        snmp_ber.read_response(broken)


def test_every_truncation_of_a_real_reply_is_malformed():
    data = _response([(v2c.ObjectIdentifier("1.3.6.1.2.1.25.3.5.1.1.1"), v2c.Integer(3)),
                      (v2c.ObjectIdentifier("1.3.6.1.2.1.25.3.5.1.2.1"), v2c.OctetString(b"\x00"))])
    assert snmp_ber.read_response(data).bindings[0][1] == 3
    for cut in range(len(data)):
        with pytest.raises(snmp_ber.Malformed):
            snmp_ber.read_response(data[:cut])


def test_an_oid_whose_last_arc_is_cut_short_is_malformed():
    data = bytearray(_response([(v2c.ObjectIdentifier("1.3.6.1.200"), v2c.Integer(1))]))
    # The OID's content ends "\x81\x48" (200); make its last octet say "more follows".
    at = data.index(b"\x81\x48")
    data[at + 1] |= 0x80
    with pytest.raises(snmp_ber.Malformed):
        snmp_ber.read_response(bytes(data))
