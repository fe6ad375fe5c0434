"""Triage and check configuration forms of the network plugin."""

from wtforms import Form, SelectChoice, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from helpdesk_core import lazy_gettext as _l


class NetworkTriageForm(Form):
    scope = SelectField(_l("Who is affected?"), choices=[
        SelectChoice("one_device", _l("One computer or device")),
        SelectChoice("one_room", _l("One room or counter")),
        SelectChoice("whole_center", _l("The whole centre")),
    ], validators=[DataRequired()])
    connection = SelectField(_l("Connection"), choices=[
        SelectChoice("wired", _l("Cable (wired)")), SelectChoice("wifi", _l("Wi-Fi")), SelectChoice("unknown", _l("Not sure")),
    ], validators=[DataRequired()])
    what_fails = SelectField(_l("What does not work?"), choices=[
        SelectChoice("internet", _l("The internet")),
        SelectChoice("internal", _l("Internal systems (one-stop, documents)")),
        SelectChoice("one_site", _l("One website or service")),
    ], validators=[DataRequired()])
    since = StringField(_l("Since when?"), validators=[Optional()])


class TcpCheckForm(Form):
    port = IntegerField(_l("Port"), validators=[DataRequired(), NumberRange(1, 65535)])


class HttpCheckForm(Form):
    expect_status = IntegerField(_l("Expected status"), default=200,
                                 validators=[Optional(), NumberRange(100, 599)])
    keyword = StringField(_l("Text the page must contain"), validators=[Optional()])
