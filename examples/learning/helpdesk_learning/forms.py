"""The triage questions of a new ticket, and the health check's settings."""

from wtforms import BooleanField, Form, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from helpdesk_core import translator

_l = translator(__name__).lazy_gettext


class TriageForm(Form):
    step = SelectField(_l("What does not work?"), validators=[DataRequired()], choices=[
        SelectChoice("", _l("— Choose —")), SelectChoice("login", _l("Signing in with VNeID")),
        SelectChoice("course", _l("A course or lesson does not open")),
        SelectChoice("video", _l("A video does not play")),
        SelectChoice("certificate", _l("The test or certificate"))])
    for_citizen = BooleanField(_l("Helping a citizen"))
    details = StringField(_l("What does the screen show?"), validators=[Length(max=200)])


class WebCheckForm(Form):
    path = StringField(_l("Page to request"), default="/", validators=[Length(max=200)])
    expect_status = IntegerField(_l("Expected status code"), default=200,
                                 validators=[NumberRange(100, 599)])
