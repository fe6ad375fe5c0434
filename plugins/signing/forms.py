"""Triage form of the signing plugin. It never asks for a PIN."""

from wtforms import Form, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from helpdesk_core import lazy_gettext as _l


class SigningTriageForm(Form):
    kind = SelectField(_l("Kind of signature"), choices=[
        SelectChoice("token", _l("Specialised USB token (Ban Cơ yếu)")),
        SelectChoice("remote", _l("Personal remote signing")),
    ], validators=[DataRequired()])
    error_text = StringField(_l("Error message shown"), validators=[Optional(), Length(max=300)])
