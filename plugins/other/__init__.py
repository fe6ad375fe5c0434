"""“Other” (Khác): the last front-desk button, for trouble no other category covers, so
staff always have somewhere to file it. A short triage form and a general checklist."""

from wtforms import BooleanField, Form, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from helpdesk_core import Category, ResolutionTemplate, hookimpl, translator

HELPDESK_API = ">=1.1,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext

CATEGORY = "other"
LAST = 1000  # after every other category's button, whatever plugins are installed


class OtherTriageForm(Form):
    kind = SelectField(_l("What is it about?"), validators=[DataRequired()], choices=[
        SelectChoice("", _l("— Choose —")), SelectChoice("device", _l("A device")),
        SelectChoice("software", _l("Software or a website")),
        SelectChoice("account", _l("An account or permissions")),
        SelectChoice("other", _l("Anything else"))])
    subject = StringField(_l("Which device, software or website?"),
                          validators=[DataRequired(), Length(max=120)])
    error_text = StringField(_l("Error message shown"), validators=[Length(max=300)])
    blocks_counter = BooleanField(_l("The counter cannot serve citizens"))


TEMPLATES = [ResolutionTemplate("general", CATEGORY, _l("General troubleshooting"), (
    _l("Write down the exact error message and take a screenshot"),
    _l("Restart the application, then the computer or device"),
    _l("Check the network cable or Wi-Fi, and whether colleagues have the same problem"),
    _l("If the ticket fits another category, move it there"),
    _l("Escalate to the city IT unit or the vendor with what you found"),
))]


@hookimpl
def helpdesk_register_categories():
    return [Category(CATEGORY, _l("Other"), icon="❓", order=LAST,
                     description=_l("Anything the other buttons do not cover"))]


@hookimpl
def helpdesk_triage_form(category):
    return OtherTriageForm if category == CATEGORY else None


@hookimpl
def helpdesk_register_resolution_templates():
    return TEMPLATES
