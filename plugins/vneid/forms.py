"""Triage form of the VNeID plugin: never a full citizen ID, password, passcode or OTP."""

from wtforms import Form, SelectChoice, SelectField
from wtforms.validators import DataRequired

from helpdesk_core import lazy_gettext as _l


class VneidTriageForm(Form):
    problem = SelectField(_l("What is the problem?"), choices=[
        SelectChoice("activation", _l("Activating the account")),
        SelectChoice("forgot_password", _l("Forgotten password or passcode")),
        SelectChoice("changed_phone", _l("Changed phone number or phone")),
        SelectChoice("data_mismatch", _l("Data does not match the ID card")),
        SelectChoice("portal_login", _l("Login to the public service portal fails")),
        SelectChoice("documents", _l("Adding documents to the wallet")),
    ], validators=[DataRequired()])
    level = SelectField(_l("Account level"), choices=[
        SelectChoice("none", _l("No account yet")), SelectChoice("1", _l("Level 1")), SelectChoice("2", _l("Level 2")),
        SelectChoice("unknown", _l("Not sure")),
    ], validators=[DataRequired()])
