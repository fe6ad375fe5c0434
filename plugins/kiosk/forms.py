"""Triage, check configuration, settings and page forms of the kiosk plugin."""

from wtforms import (BooleanField, Form, IntegerField, PasswordField, SelectChoice,
                     SelectField, StringField)
from wtforms.validators import (DataRequired, Length, NumberRange, Optional, Regexp,
                                ValidationError)

from helpdesk_core import translator

_ = translator(__name__).gettext
_l = translator(__name__).lazy_gettext

UNITS = [
    SelectChoice("kiosk", _l("Ticket kiosk (touch screen and printer)")),
    SelectChoice("caller", _l("Counter caller (keypad or software)")),
    SelectChoice("board", _l("Display board")),
    SelectChoice("speaker", _l("Speaker or amplifier")),
]

SYMPTOMS = [
    SelectChoice("no_ticket", _l("No ticket comes out")),
    SelectChoice("touch_dead", _l("Touch screen does not respond")),
    SelectChoice("services_outdated", _l("Service list is out of date")),
    SelectChoice("cannot_call", _l("Counter cannot call the next number")),
    SelectChoice("silent", _l("Board or voice is silent")),
    SelectChoice("not_reset", _l("Numbers did not restart this morning")),
    SelectChoice("other", _l("Something else")),
]


def optional_range(low: int, high: int):
    """``Optional(), NumberRange(low, high)`` that also holds when validating ``data=``."""
    check = NumberRange(low, high)

    def validate(form, field):
        if field.data is not None:
            check(form, field)
    return validate


class KioskTriageForm(Form):
    """Which unit of the queue system, where, what, and how widespread."""

    unit = SelectField(_l("Which unit?"), choices=UNITS, validators=[DataRequired()])
    counter = IntegerField(_l("Counter number"), validators=[optional_range(1, 99)],
                           description=_l("Empty if it is not about one counter."))
    symptom = SelectField(_l("What is wrong?"), choices=SYMPTOMS, validators=[DataRequired()])
    all_counters = BooleanField(_l("All counters are affected"))
    since = StringField(_l("Since when?"), validators=[Length(max=100)])


def _label(choices, value) -> str:
    return next((str(c.label) for c in choices if c.value == value), str(value))


def summary_rows(triage) -> list[tuple[str, str]]:
    """Stored triage answers as readable ``(label, value)`` rows in the current locale."""
    rows = [(_("Which unit?"), _label(UNITS, triage.get("unit"))),
            (_("What is wrong?"), _label(SYMPTOMS, triage.get("symptom")))]
    if triage.get("counter"):
        rows.append((_("Counter number"), str(triage["counter"])))
    rows.append((_("All counters are affected"),
                 _("Yes") if triage.get("all_counters") else _("No")))
    if triage.get("since"):
        rows.append((_("Since when?"), str(triage["since"])))
    return rows


def _port(form, field):
    if field.data is None or not 1 <= field.data <= 65535:
        raise ValidationError(_l("Enter a port between 1 and 65535."))


class PaperCheckForm(Form):
    """Settings of the ``kiosk_paper`` check: the printer's raw TCP port."""

    port = IntegerField(_l("Printer port"), default=9100, validators=[_port])


class StatusCheckForm(Form):
    """Settings of the ``kiosk_status`` check: the path of the kiosk's status page."""

    path = StringField(_l("Status page"), default="/status",
                       validators=[DataRequired(), Length(max=200)])


class KioskSettingsForm(Form):
    """The kiosk plugin's settings (edited at /admin/plugins/kiosk)."""

    hotline = StringField(_l("Vendor hotline"), default="",
                          validators=[Optional(), Regexp(r"^\+?[0-9][0-9 .]{5,19}$",
                                                         message=_l("Enter a phone number."))])
    max_counters = IntegerField(_l("Most counters per ward"), default=20,
                                validators=[DataRequired(), NumberRange(1, 99)])
    vendor_token = PasswordField(_l("Vendor API token"),
                                 validators=[Optional(), Length(max=200)])


class CounterForm(Form):
    """A counter of a ward's queue system, added on the kiosk page."""

    ward = SelectField(_l("Ward"), validators=[DataRequired()])
    number = IntegerField(_l("Counter number"), validators=[DataRequired(), NumberRange(1, 99)])
    label = StringField(_l("What it serves"), validators=[Length(max=80)])
