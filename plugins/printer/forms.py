"""Triage form of printers and scanners, and the settings forms of their health checks."""

from wtforms import (BooleanField, Form, IntegerField, SelectChoice, SelectField,
                     StringField)
from wtforms.validators import DataRequired, Length, NumberRange, Regexp, StopValidation

from helpdesk_core import translator

_l = translator(__name__).lazy_gettext


class Blank:
    """Stop validating an empty field, whether it came from a request or from ``data=``.

    WTForms' ``Optional`` looks only at ``raw_data``, which is empty when a form is built
    from stored data (as ``validate_triage`` does), so every validator after it would be
    skipped there, even for a value that is too long.
    """

    field_flags = {"optional": True}

    def __call__(self, form, field):
        if field.raw_data:
            value = field.raw_data[0]
        else:
            value = field.data
        if value is None or (isinstance(value, str) and not value.strip()):
            field.errors[:] = []
            raise StopValidation()

PRINTING = _l("Printing")
SCANNING = _l("Scanning")

# value -> (label, group); the values are stored on tickets, never rename them.
SYMPTOMS = [
    SelectChoice("paper_jam", _l("Paper jam"), optgroup=PRINTING),
    SelectChoice("offline", _l("Printer offline / not found"), optgroup=PRINTING),
    SelectChoice("queue_stuck", _l("Print job stuck in the queue"), optgroup=PRINTING),
    SelectChoice("toner", _l("Toner low or empty"), optgroup=PRINTING),
    SelectChoice("faded", _l("Faded or streaked print"), optgroup=PRINTING),
    SelectChoice("driver", _l("Driver problem (after a Windows update, new computer)"),
                 optgroup=PRINTING),
    SelectChoice("shared_fails", _l("Shared printer fails from other computers"),
                 optgroup=PRINTING),
    SelectChoice("scanner_not_detected", _l("Scanner not detected by the computer"),
                 optgroup=SCANNING),
    SelectChoice("adf_jam", _l("Document feeder jams or pulls several sheets"),
                 optgroup=SCANNING),
    SelectChoice("scan_to_folder", _l("Scan to folder fails"), optgroup=SCANNING),
    SelectChoice("scan_too_large", _l("Scanned PDF too large for the portal"),
                 optgroup=SCANNING),
    SelectChoice("other", _l("Something else")),
]

SCANNER_SYMPTOMS = frozenset({"scanner_not_detected", "adf_jam", "scan_to_folder",
                              "scan_too_large"})
# Symptoms where the device still works, only worse (low toner, big files).
DEGRADED_SYMPTOMS = frozenset({"toner", "faded", "scan_too_large"})

CONNECTIONS = [
    SelectChoice("unknown", _l("Not sure")),
    SelectChoice("usb", _l("USB cable to one computer")),
    SelectChoice("network", _l("Network cable (LAN)")),
    SelectChoice("wifi", _l("Wi-Fi")),
    SelectChoice("shared", _l("Shared through another computer")),
]

AFFECTED = [
    SelectChoice("one_pc", _l("Only one computer")),
    SelectChoice("several", _l("Several computers")),
    SelectChoice("all", _l("Every computer that uses it")),
    SelectChoice("unknown", _l("Not sure")),
]


class PrinterTriageForm(Form):
    """What a student needs to know before walking to the counter."""

    device = StringField(
        _l("Which printer or scanner?"),
        description=_l("Counter number and model, e.g. “Counter 3, Canon LBP 2900”."),
        validators=[Blank(), Length(max=120, message=_l("At most %(max)d characters."))])
    symptom = SelectField(_l("What is wrong?"), choices=SYMPTOMS,
                          validators=[DataRequired(message=_l("Choose what is wrong."))])
    error_code = StringField(
        _l("Error code, message or lights on the panel"),
        description=_l("Copy it as shown, e.g. “E000”, “0x0000011b”, orange light blinking."),
        validators=[Blank(), Length(max=100, message=_l("At most %(max)d characters."))])
    connection = SelectField(_l("How is it connected?"), choices=CONNECTIONS, default="unknown",
                             validators=[DataRequired(message=_l("Choose how it is connected."))])
    affected = SelectField(_l("Which computers have the problem?"), choices=AFFECTED,
                           default="unknown",
                           validators=[DataRequired(message=_l("Choose who has the problem."))])
    blocks_counter = BooleanField(
        _l("A reception counter cannot receive records because of this"))


class IppCheckForm(Form):
    """Settings of the ``ipp`` check; the asset's address is host, host:port or an ipp:// URL."""

    path = StringField(_l("Printer path"), default="/ipp/print",
                       description=_l("Used when the address has no path; most printers use /ipp/print."),
                       validators=[Blank(), Length(max=200),
                                   Regexp(r"^/[\w./~-]*$", message=_l("A path starts with “/”."))])
    use_tls = BooleanField(_l("Use IPPS (encrypted) when the address has no scheme"))
    low_marker_percent = IntegerField(
        _l("Warn when toner or ink is below (%)"), default=10,
        validators=[Blank(), NumberRange(0, 100, message=_l("Between 0 and 100."))])


class SnmpPrinterCheckForm(Form):
    """Settings of the ``snmp_printer`` check (SNMP v2c)."""

    community = StringField(_l("SNMP community"), default="public",
                            validators=[DataRequired(message=_l("Give the SNMP community.")),
                                        Length(max=64)])
    port = IntegerField(_l("Port"), default=161,
                        validators=[Blank(), NumberRange(1, 65535, message=_l("Between 1 and 65535."))])
    device_index = IntegerField(
        _l("Printer device index"), default=1,
        description=_l("hrDeviceIndex of the printer; 1 on almost every printer."),
        validators=[Blank(), NumberRange(1, 2147483647, message=_l("A positive number."))])
    low_supply_percent = IntegerField(
        _l("Warn when a supply is below (%)"), default=10,
        validators=[Blank(), NumberRange(0, 100, message=_l("Between 0 and 100."))])


class EsclCheckForm(Form):
    """Settings of the ``escl`` check; the address is host, host:port or http(s):// URL."""

    path = StringField(_l("eSCL path"), default="/eSCL",
                       validators=[Blank(), Length(max=200),
                                   Regexp(r"^/[\w./~-]*$", message=_l("A path starts with “/”."))])
    use_tls = BooleanField(_l("Use HTTPS when the address has no scheme"))
