"""Triage and check configuration forms of the network plugin, and what triage answers mean.

Triage forms are validated twice: once from the web form (``formdata``) and once by the
service layer from the stored answers (``data=``). WTForms' ``Optional()`` stops every
check when there is no ``formdata``, so optional triage fields rely on validators that
accept an empty value (``Length``) instead.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Mapping

from wtforms import (BooleanField, Form, IntegerField, SelectChoice, SelectField,
                     StringField, ValidationError)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from helpdesk_core import PrioritySuggestion, translator

_l = translator(__name__).lazy_gettext

SCOPES = [
    SelectChoice("one_device", _l("One computer or device")),
    SelectChoice("one_room", _l("One room or counter")),
    SelectChoice("whole_center", _l("The whole centre")),
]
CONNECTIONS = [
    SelectChoice("wired", _l("Cable (wired)")),
    SelectChoice("wifi", _l("Wi-Fi")),
    SelectChoice("unknown", _l("Not sure")),
]
FAILURES = [
    SelectChoice("internet", _l("The internet")),
    SelectChoice("internal", _l("Internal systems (one-stop, documents)")),
    SelectChoice("one_site", _l("One website or service")),
]
PC_SIGNS = [
    SelectChoice("not_checked", _l("Not checked / don't know")),
    SelectChoice("apipa", _l("An address starting with 169.254 (no address from the network)")),
    SelectChoice("no_internet_icon", _l("“No internet access” on the network icon")),
    SelectChoice("cable_unplugged", _l("“Network cable unplugged” or a red cross")),
    SelectChoice("wifi_missing", _l("The Wi-Fi name does not appear in the list")),
    SelectChoice("site_not_found", _l("Web pages say the site cannot be found")),
    SelectChoice("normal", _l("A normal address, but pages do not open")),
]
PROVIDERS = [
    SelectChoice("unknown", _l("Don't know")),
    SelectChoice("vnpt", _l("VNPT")),
    SelectChoice("viettel", _l("Viettel")),
    SelectChoice("fpt", _l("FPT")),
    SelectChoice("other", _l("Other provider")),
]


class NetworkTriageForm(Form):
    scope = SelectField(_l("Who is affected?"), choices=SCOPES, validators=[DataRequired()])
    connection = SelectField(_l("Connection"), choices=CONNECTIONS, validators=[DataRequired()])
    ssid = StringField(_l("Wi-Fi name (SSID)"), default="", validators=[Length(max=64)],
                       description=_l("Only for Wi-Fi; leave empty if you do not know."))
    since = StringField(_l("Since when?"), default="", validators=[Length(max=100)],
                        description=_l("For example: since 8 this morning, since yesterday"))
    what_fails = SelectField(_l("What does not work?"), choices=FAILURES,
                             validators=[DataRequired()])
    site = StringField(_l("Which website or system?"), default="", validators=[Length(max=200)],
                       description=_l("For example: dichvucong.gov.vn, the one-stop system"))
    pc_shows = SelectField(_l("What does the computer show?"), choices=PC_SIGNS,
                           default="not_checked", validators=[DataRequired()])
    provider = SelectField(_l("Internet provider"), choices=PROVIDERS, default="unknown",
                           validators=[DataRequired()])


def _choice_label(field: Any, value: Any) -> str:
    for choice in field.choices:
        if choice.value == value:
            return str(choice.label)
    return "" if value is None else str(value)


def summarize(triage: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Readable ``(label, value)`` rows of stored network triage answers."""
    form = NetworkTriageForm(meta={"csrf": False})
    rows: list[tuple[str, str]] = []
    for field in form:
        name = field.name
        value = triage.get(name)
        if value in (None, ""):
            continue
        if name == "pc_shows" and value == "not_checked":
            continue
        if name == "provider" and value == "unknown":
            continue
        text = _choice_label(field, value) if isinstance(field, SelectField) else str(value)
        rows.append((str(field.label.text), text))
    return rows


def suggest_priority(triage: Mapping[str, Any]) -> PrioritySuggestion | None:
    """How urgent the answers look: the more counters without network, the higher."""
    scope = triage.get("scope")
    blocking = triage.get("what_fails") in ("internet", "internal")
    if scope == "whole_center":
        if blocking:
            return PrioritySuggestion(1, _l("The whole centre is without network: no counter can "
                                            "receive or look up records."))
        return PrioritySuggestion(2, _l("A service the whole centre uses does not open."))
    if scope == "one_room":
        if blocking:
            return PrioritySuggestion(2, _l("A room or counter is without network and cannot "
                                            "serve citizens."))
        return PrioritySuggestion(3, _l("One website does not open in one room."))
    if scope == "one_device" and blocking:
        return PrioritySuggestion(3, _l("One computer is without network."))
    return None


# --- health check configuration -----------------------------------------------------

def _ip_address(form: Form, field: Any) -> None:
    if field.data:
        try:
            ipaddress.ip_address(field.data.strip())
        except ValueError:
            raise ValidationError(_l("Enter an IP address such as 203.162.4.190."))


class TcpCheckForm(Form):
    port = IntegerField(_l("Port"), validators=[DataRequired(), NumberRange(1, 65535)])


class HttpCheckForm(Form):
    expect_status = IntegerField(_l("Expected status"), default=200,
                                 validators=[Optional(), NumberRange(100, 599)])
    keyword = StringField(_l("Text the page must contain"), validators=[Optional()])
    verify_tls = BooleanField(_l("Check the HTTPS certificate"), default=True,
                              description=_l("Turn off only for devices with a self-signed "
                                             "certificate (modems, switches)."))
    follow_redirects = BooleanField(_l("Follow redirects"), default=True)
    slow_ms = IntegerField(_l("Warn when slower than (ms)"),
                           validators=[Optional(), NumberRange(1, 600000)])


class DnsCheckForm(Form):
    name = StringField(_l("Name to look up"), default="dichvucong.gov.vn",
                       validators=[DataRequired(), Length(max=253)])
    server = StringField(_l("DNS server"), validators=[Optional(), Length(max=100)],
                         description=_l("IP address, optionally with :port. Empty: the "
                                        "device's own address."))
    record_type = SelectField(_l("Record type"), default="A", choices=[
        SelectChoice("A", _l("IPv4 address (A)")),
        SelectChoice("AAAA", _l("IPv6 address (AAAA)")),
    ])
    expect_address = StringField(_l("Expected address"), validators=[Optional(), _ip_address],
                                 description=_l("Leave empty to accept any answer."))


class PingCheckForm(Form):
    count = IntegerField(_l("Packets to send"), default=3,
                         validators=[Optional(), NumberRange(1, 10)])
    slow_ms = IntegerField(_l("Warn when the average reply is slower than (ms)"),
                           validators=[Optional(), NumberRange(1, 60000)])
