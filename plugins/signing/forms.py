"""Triage and check configuration forms of the signing plugin, and what triage answers mean.

The triage form never asks for a PIN, password or OTP: it asks only whether the PIN is
locked. Optional triage fields avoid WTForms' ``Optional()``, which skips every check when
the service layer validates stored answers (``data=``, no ``formdata``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from wtforms import (Field, Form, IntegerField, RadioField, SelectChoice, SelectField,
                     StringField, ValidationError)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from helpdesk_core import PrioritySuggestion, translator

_ = translator(__name__).gettext
_l = translator(__name__).lazy_gettext

KINDS = [
    SelectChoice("token", _l("Specialised USB token (Ban Cơ yếu)")),
    SelectChoice("remote", _l("Personal remote signing")),
]
TOKEN_PROVIDERS = ("vgca_safenet", "vgca_bit4id", "vgca_other")
REMOTE_PROVIDERS = ("vnpt_smartca", "viettel_mysign", "fpt", "misa_esign", "bkavca")
PROVIDERS = [
    SelectChoice("unknown", _l("Don't know")),
    SelectChoice("vgca_safenet", _l("VGCA token, SafeNet")),
    SelectChoice("vgca_bit4id", _l("VGCA token, Bit4ID")),
    SelectChoice("vgca_other", _l("VGCA token, other brand")),
    SelectChoice("vnpt_smartca", _l("VNPT SmartCA")),
    SelectChoice("viettel_mysign", _l("Viettel MySign")),
    SelectChoice("fpt", _l("FPT")),
    SelectChoice("misa_esign", _l("MISA eSign")),
    SelectChoice("bkavca", _l("BkavCA")),
    SelectChoice("other", _l("Other provider")),
]
PLACES = [
    SelectChoice("document_management", _l("Document management software")),
    SelectChoice("one_stop", _l("One-stop system (administrative procedures)")),
    SelectChoice("vsignpdf", _l("vSignPDF")),
    SelectChoice("public_portal", _l("Public service portal")),
    SelectChoice("other", _l("Somewhere else")),
]
DOCUMENTS = [
    SelectChoice("other", _l("Something else / not sure")),
    SelectChoice("outgoing", _l("Outgoing documents")),
    SelectChoice("results", _l("Results of administrative procedures")),
    SelectChoice("incoming", _l("Stamping incoming documents")),
]
POSITIONS = [
    SelectChoice("staff", _l("Civil servant / officer")),
    SelectChoice("clerk", _l("Clerical officer (văn thư)")),
    SelectChoice("leader", _l("Leader (Chairman, Vice-Chairman, centre director)")),
]
YES_NO = [SelectChoice("no", _l("No / not sure")), SelectChoice("yes", _l("Yes, it is locked"))]


class DayField(Field):
    """A date typed as dd/mm/yyyy; also takes a ``date`` or the stored ISO text.

    WTForms' ``DateField`` parses only form input and renders ``<input type="date">``
    (ISO); this one also checks answers the service layer re-validates from storage.
    """

    widget = TextInput()
    FORMATS = ("%d/%m/%Y", "%Y-%m-%d")

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime(self.FORMATS[0]) if self.data else ""

    def _parse(self, value: Any) -> dt.date | None:
        if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.datetime):
            return value.date()
        text = str(value).strip()
        if not text:
            return None
        for fmt in self.FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise ValueError(_("Enter the date as dd/mm/yyyy, e.g. 31/12/2026."))

    def process_data(self, value: Any) -> None:
        self.data = None
        self.data = self._parse(value)

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            self.data = None
            self.data = self._parse(valuelist[0])


class SigningTriageForm(Form):
    kind = SelectField(_l("Kind of signature"), choices=KINDS, validators=[DataRequired()])
    provider = SelectField(_l("Token or provider"), choices=PROVIDERS, default="unknown",
                           validators=[DataRequired()])
    where = SelectField(_l("Where are you signing?"), choices=PLACES, default="other",
                        validators=[DataRequired()])
    document = SelectField(_l("What are you signing?"), choices=DOCUMENTS, default="other",
                           validators=[DataRequired()])
    error_text = StringField(_l("Error message shown"), default="",
                             validators=[Length(max=500)],
                             description=_l("Copy the message exactly, or describe it."))
    holder_name = StringField(_l("Certificate holder"), default="",
                              validators=[Length(max=120)],
                              description=_l("Full name of the person the certificate is "
                                             "issued to"))
    holder_position = SelectField(_l("Holder's position"), choices=POSITIONS, default="staff",
                                  validators=[DataRequired()])
    cert_expires_on = DayField(_l("Certificate valid until"),
                               description=_l("dd/mm/yyyy, if you know it"))
    pin_locked = RadioField(_l("Does the token or app say the PIN is locked?"), choices=YES_NO,
                            default="no", validators=[DataRequired()],
                            description=_l("Never tell anyone your PIN, password or OTP, "
                                           "not even the helpdesk."))

    def validate_provider(self, field: Any) -> None:
        if self.kind.data == "token" and field.data in REMOTE_PROVIDERS:
            raise ValidationError(_l("This provider offers remote signing, not a "
                                     "specialised token."))
        if self.kind.data == "remote" and field.data in TOKEN_PROVIDERS:
            raise ValidationError(_l("A VGCA token is a specialised token, not remote "
                                     "signing."))


def _choice_label(field: Any, value: Any) -> str:
    for choice in field.choices:
        if choice.value == value:
            return str(choice.label)
    return "" if value is None else str(value)


# Answers that only repeat the default add nothing to a ticket page.
_QUIET_DEFAULTS = {"provider": "unknown", "where": "other", "document": "other"}


def summarize(triage: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Readable ``(label, value)`` rows of stored signing triage answers."""
    form = SigningTriageForm(meta={"csrf": False})
    rows: list[tuple[str, str]] = []
    for field in form:
        name = field.name
        value = triage.get(name)
        if value in (None, "") or _QUIET_DEFAULTS.get(name) == value:
            continue
        if isinstance(field, SelectField):  # RadioField is one too
            text = _choice_label(field, value)
        elif isinstance(field, DayField):
            try:
                text = field._parse(value).strftime("%d/%m/%Y")
            except ValueError:
                text = str(value)
        else:
            text = str(value)
        rows.append((str(field.label.text), text))
    return rows


def suggest_priority(triage: Mapping[str, Any]) -> PrioritySuggestion | None:
    """Signing blocks documents and results: the leader's signature matters most."""
    leader = triage.get("holder_position") == "leader"
    locked = triage.get("pin_locked") == "yes"
    outgoing = triage.get("document") in ("outgoing", "results")
    if locked and leader:
        return PrioritySuggestion(1, _l("The leader's PIN is locked: nothing can be signed "
                                        "until the issuer unlocks it."))
    if outgoing and leader:
        return PrioritySuggestion(1, _l("The leader cannot sign outgoing documents or "
                                        "results."))
    if outgoing:
        return PrioritySuggestion(2, _l("A signer cannot sign outgoing documents or results."))
    if locked:
        return PrioritySuggestion(2, _l("The PIN is locked: unlocking goes through the "
                                        "issuer and takes time."))
    return None


# --- health check configuration -----------------------------------------------------

class CertExpiryCheckForm(Form):
    cert_file = StringField(_l("Certificate file"), validators=[Optional(), Length(max=500)],
                            description=_l("Path of a PEM or DER file on the server. Empty: "
                                           "read the certificate of the device's address "
                                           "(host:port, port 443 if not given)."))
    warn_days = IntegerField(_l("Warn this many days before expiry"), default=30,
                             validators=[Optional(), NumberRange(0, 3650)])

