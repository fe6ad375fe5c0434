"""Forms of the VNeID plugin: triage (never a full citizen ID, password, passcode or OTP)
and the configuration of the portal health check."""

from wtforms import (BooleanField, Form, IntegerField, SelectChoice, SelectField,
                     StringField)
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from helpdesk_core import translator

_ = translator(__name__).gettext
_l = translator(__name__).lazy_gettext

LEVELS = [
    SelectChoice("none", _l("No account yet")),
    SelectChoice("not_activated", _l("Registered, not activated yet")),
    SelectChoice("1", _l("Level 1")),
    SelectChoice("2", _l("Level 2")),
    SelectChoice("unknown", _l("Not sure")),
]

STEPS = [
    SelectChoice("activation", _l("Activating the account")),
    SelectChoice("login", _l("Logging in to the app")),
    SelectChoice("otp", _l("OTP not received")),
    SelectChoice("face", _l("Face recognition")),
    SelectChoice("nfc", _l("NFC reading of the chip ID card")),
    SelectChoice("documents", _l("Adding documents to the wallet")),
    SelectChoice("integration", _l("Integrated documents missing or wrong")),
    SelectChoice("passcode", _l("Passcode")),
    SelectChoice("forgot_password", _l("Forgotten password")),
    SelectChoice("changed_phone", _l("Changed phone number or phone")),
    SelectChoice("data_mismatch", _l("Data does not match the ID card")),
    SelectChoice("portal_login", _l("Login to the public service portal with VNeID fails")),
    SelectChoice("integrity_warning", _l("Security warning (shield) in the app")),
]

PHONE_OS = [
    SelectChoice("android", _l("Android")),
    SelectChoice("ios", _l("iPhone (iOS)")),
    SelectChoice("unknown", _l("Not sure")),
]

YES_NO = [
    SelectChoice("yes", _l("Yes")),
    SelectChoice("no", _l("No")),
    SelectChoice("unknown", _l("Not sure")),
]

# vneid.gov.vn/shield-warning?code=N: what the app's integrity check found (DOMAIN §1.7).
SHIELD_CODES = [
    SelectChoice("", _l("No warning shown")),
    SelectChoice("1", _l("1 – modified or unsigned app")),
    SelectChoice("2", _l("2 – emulator")),
    SelectChoice("3", _l("3 – root manager or suspicious apps")),
    SelectChoice("4", _l("4 – debugging tool")),
    SelectChoice("5", _l("5 – rooted phone")),
    SelectChoice("6", _l("6 – unlocked bootloader")),
    SelectChoice("7", _l("7 – suspicious app")),
    SelectChoice("8", _l("8 – clone app or private space")),
    SelectChoice("9", _l("9 – other warning")),
    SelectChoice("10", _l("10 – USB (ADB) debugging on")),
    SelectChoice("11", _l("11 – developer options on")),
]


def last_four_digits(form, field):
    """Empty, or exactly 4 digits.

    Not ``Optional()``: the service layer validates stored answers with ``data=``, where
    ``Optional()`` would skip every later check, and a full ID must never get through.
    """
    if field.data and not (len(field.data) == 4 and field.data.isascii()
                           and field.data.isdigit()):
        raise ValidationError(_l("Only the last 4 digits."))


def known_shield_code(form, field):
    """Empty (no warning shown) or one of the codes the app documents."""
    if field.data not in (None, *(choice.value for choice in SHIELD_CODES)):
        raise ValidationError(_l("Choose the code shown on the screen."))


def optional_range(low: int, high: int):
    """Like ``Optional(), NumberRange(low, high)``, but also when validating ``data=``."""
    check = NumberRange(low, high)

    def validate(form, field):
        if field.data is not None:
            check(form, field)
    return validate


class VneidTriageForm(Form):
    """What a student needs before helping a citizen with VNeID.

    Personal data is kept to the minimum: no password, passcode, OTP or full ID number;
    at most the last 4 digits of the ID, and only when a record must be told apart.
    """

    level = SelectField(_l("Account level"), choices=LEVELS, validators=[DataRequired()])
    step = SelectField(_l("Where does it fail?"), choices=STEPS, validators=[DataRequired()])
    phone_os = SelectField(_l("Phone"), choices=PHONE_OS, validators=[DataRequired()])
    nfc = SelectField(_l("Does the phone have NFC?"), choices=YES_NO,
                      validators=[DataRequired()])
    chip_card = SelectField(_l("Chip ID card?"), choices=YES_NO, validators=[DataRequired()])
    number_in_use = SelectField(_l("Is the registered phone number still in use?"),
                                choices=YES_NO, default="unknown")
    shield_code = SelectField(_l("Security warning code"), choices=SHIELD_CODES, default="",
                              validate_choice=False, validators=[known_shield_code],
                              description=_l("The number after “code=” on the red warning screen."))
    error_text = StringField(_l("Error message shown"), validators=[Length(max=300)],
                             render_kw={"autocomplete": "off"},
                             description=_l("Copy the message; never write a password, passcode or OTP."))
    citizen_waiting = BooleanField(_l("A citizen is waiting at the counter to file online"))
    id_last4 = StringField(
        _l("Last 4 digits of the ID card (only if needed)"),
        validators=[Length(max=4), last_four_digits],
        render_kw={"inputmode": "numeric", "maxlength": 4, "autocomplete": "off"})


_SELECTS = (
    ("level", _l("Account level"), LEVELS),
    ("step", _l("Where does it fail?"), STEPS),
    ("phone_os", _l("Phone"), PHONE_OS),
    ("nfc", _l("Does the phone have NFC?"), YES_NO),
    ("chip_card", _l("Chip ID card?"), YES_NO),
    ("number_in_use", _l("Is the registered phone number still in use?"), YES_NO),
    ("shield_code", _l("Security warning code"), SHIELD_CODES),
)


def _choice_label(choices, value) -> str:
    return next((str(c.label) for c in choices if c.value == str(value)), str(value))


def summary_rows(triage) -> list[tuple[str, str]]:
    """Stored triage answers as readable ``(label, value)`` rows in the current locale."""
    rows = [(str(label), _choice_label(choices, triage[name]))
            for name, label, choices in _SELECTS if triage.get(name)]
    if triage.get("error_text"):
        rows.append((_("Error message shown"), str(triage["error_text"])))
    if triage.get("id_last4"):
        rows.append((_("ID card ends in"), "…" + str(triage["id_last4"])))
    if triage.get("citizen_waiting"):
        rows.append((_("Citizen waiting"), _("Yes, at the counter")))
    return rows


class PortalCheckForm(Form):
    """Settings of the ``portal`` check: what answer means the portal is up."""

    url = StringField(_l("Address to request (empty: the asset's address)"),
                      validators=[Length(max=255)])
    expect_status = IntegerField(_l("Expected status"), default=200,
                                 validators=[optional_range(100, 599)])
    keyword = StringField(_l("Text the page must contain"), validators=[Length(max=200)])
    maintenance_text = StringField(_l("Text of the maintenance page"),
                                   default="Hệ thống đang bảo trì",
                                   validators=[Length(max=200)])
