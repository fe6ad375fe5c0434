"""Triage form of the printer plugin."""

from wtforms import Form, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from helpdesk_core import lazy_gettext as _l


class PrinterTriageForm(Form):
    symptom = SelectField(_l("What is wrong?"), choices=[
        SelectChoice("paper_jam", _l("Paper jam")),
        SelectChoice("offline", _l("Printer offline / not found")),
        SelectChoice("toner", _l("Toner low or empty")),
        SelectChoice("faded", _l("Faded or streaked print")),
        SelectChoice("driver", _l("Driver problem")),
        SelectChoice("scan_to_folder", _l("Scan to folder fails")),
    ], validators=[DataRequired()])
    connection = SelectField(_l("How is it connected?"), choices=[
        SelectChoice("usb", _l("USB cable")), SelectChoice("network", _l("Network (LAN / Wi-Fi)")),
        SelectChoice("shared", _l("Shared from another computer")), SelectChoice("unknown", _l("Not sure")),
    ], validators=[DataRequired()])
    error_code = StringField(_l("Error code or lights on the panel"),
                             validators=[Optional(), Length(max=100)])
