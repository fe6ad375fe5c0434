"""Triage forms of the e-government categories (DOMAIN §1.8-1.10) and the check's settings.

They ask for record and procedure codes, never for passwords, OTPs or citizen ID numbers.
"""

from wtforms import (BooleanField, Form, IntegerField, SelectChoice, SelectField,
                     StringField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from helpdesk_core import translator

_l = translator(__name__).lazy_gettext

CHOOSE = SelectChoice("", _l("— Choose —"))


def _choices(*pairs: tuple[str, object]) -> list[SelectChoice]:
    return [CHOOSE] + [SelectChoice(value, label) for value, label in pairs]


BROWSERS = _choices(("chrome", _l("Chrome")), ("edge", _l("Edge")), ("firefox", _l("Firefox")),
                    ("coccoc", _l("Cốc Cốc")), ("app", _l("Phone app")), ("other", _l("Other")))


class _Common(Form):
    """Questions every category asks last."""

    error_text = StringField(_l("Error message shown"), validators=[Length(max=300)],
                             description=_l("Copy it exactly, or describe the screen."))
    citizen_waiting = BooleanField(_l("A citizen is waiting at the counter"))


class OneStopTriageForm(_Common):
    step = SelectField(_l("Which step fails?"), validators=[DataRequired()], choices=_choices(
        ("login", _l("Signing in")), ("receive", _l("Receiving a record")),
        ("attach", _l("Scanning or attaching documents")),
        ("process", _l("Processing or transferring a record")),
        ("sign", _l("Digital signing")), ("return", _l("Returning the result")),
        ("sync", _l("Record not synchronised with the national portal")),
        ("overdue", _l("Record shown overdue")), ("other", _l("Something else"))))
    procedure = StringField(_l("Procedure name or code"), validators=[Length(max=150)],
                            description=_l("For example 1.013995"))
    record_code = StringField(_l("Record code (mã hồ sơ)"), validators=[Length(max=40)])
    browser = SelectField(_l("Browser"), choices=BROWSERS, validators=[Optional()])


class PortalTriageForm(_Common):
    portal = SelectField(_l("Which portal?"), validators=[DataRequired()], choices=_choices(
        ("national", _l("National public service portal")),
        ("city", _l("Da Nang public service portal")), ("ministry", _l("A ministry's portal"))))
    step = SelectField(_l("Which step fails?"), validators=[DataRequired()], choices=_choices(
        ("login", _l("Signing in with VNeID")), ("find", _l("Finding the procedure")),
        ("form", _l("Filling in the form")), ("attach", _l("Attaching documents")),
        ("payment", _l("Paying fees online")), ("lookup", _l("Looking up a record")),
        ("other", _l("Something else"))))
    filer = SelectField(_l("Who is filing?"), choices=_choices(
        ("citizen", _l("A citizen")), ("organisation", _l("An organisation")),
        ("staff", _l("Staff for a citizen"))), validators=[Optional()])
    procedure = StringField(_l("Procedure name or code"), validators=[Length(max=150)])
    record_code = StringField(_l("Record code (mã hồ sơ)"), validators=[Length(max=40)])
    browser = SelectField(_l("Browser"), choices=BROWSERS, validators=[Optional()])


class DocumentsTriageForm(_Common):
    system = SelectField(_l("Which software?"), validators=[DataRequired()], choices=_choices(
        ("ioffice", _l("VNPT-iOffice")), ("eoffice", _l("E-Office")), ("other", _l("Other"))))
    action = SelectField(_l("What were you doing?"), validators=[DataRequired()], choices=_choices(
        ("sign", _l("Signing a document (specialised signature)")),
        ("open", _l("Opening a document or its PDF")),
        ("send", _l("Forwarding or issuing a document")),
        ("receive", _l("Receiving through the inter-agency axis")),
        ("account", _l("Account or permissions after the reorganisation")),
        ("other", _l("Something else"))))
    document = StringField(_l("Document number and symbol"), validators=[Length(max=80)],
                           description=_l("For example 123/UBND-VP"))
    browser = SelectField(_l("Browser"), choices=BROWSERS, validators=[Optional()])


class SmartCityTriageForm(_Common):
    feature = SelectField(_l("Which part of the app?"), validators=[DataRequired()],
                          choices=_choices(
        ("login", _l("Signing in or the account")),
        ("data_store", _l("Personal data store (reusing documents)")),
        ("services", _l("Filing a service in the app")),
        ("feedback", _l("Feedback and reports")), ("other", _l("Something else"))))
    phone = SelectField(_l("Phone"), choices=_choices(
        ("android", _l("Android")), ("ios", _l("iPhone")), ("web", _l("Web browser"))),
        validators=[Optional()])
    app_version = StringField(_l("App version"), validators=[Length(max=30)])


TRIAGE_FORMS = {"one_stop": OneStopTriageForm, "public_portal": PortalTriageForm,
                "documents": DocumentsTriageForm, "smart_city": SmartCityTriageForm}


class PageCheckForm(Form):
    """Settings of ``egov_page``: which page, what status, what text it must contain."""

    url = StringField(_l("Page address"), validators=[Optional(), Length(max=300)],
                      description=_l("Empty: the asset's address."))
    keyword = StringField(_l("Text the page must contain"), validators=[DataRequired(),
                                                                        Length(max=100)])
    expect_status = IntegerField(_l("Expected status code"), default=200,
                                 validators=[NumberRange(100, 599)])
