"""Forms of the administration pages (and the base class that translates WTForms' own
messages through the project's catalogs, since WTForms ships no Vietnamese)."""

from __future__ import annotations

from typing import Any

from wtforms import (BooleanField, DateField, FloatField, IntegerField, PasswordField,
                     RadioField, SelectChoice, SelectField, StringField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import TextInput

from helpdesk_core import i18n
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import Criticality, Role

from .input_guard import SafeForm

DATE_FORMAT = "%d/%m/%Y"

REQUIRED = _l("Please fill in this field.")


class TranslatedForm(SafeForm):
    """A Flask-WTF form whose built-in messages follow the user's language."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            return i18n.WTFormsTranslations()


def _date(label: Any, required: bool = True) -> DateField:
    # A text box: the browser's date picker would show and send its own format.
    return DateField(label, format=DATE_FORMAT, widget=TextInput(),
                     validators=[InputRequired(REQUIRED)] if required else [Optional()],
                     render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(Role.STAFF, _l("Ward staff")), SelectChoice(Role.STUDENT, _l("Student")),
            SelectChoice(Role.COORDINATOR, _l("Coordinator")),
            SelectChoice(Role.ADMIN, _l("Administrator")),
            SelectChoice(Role.UNIVERSITY, _l("University coordinator"))]


def locale_choices() -> list[SelectChoice]:
    return [SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")]


CRITICALITY_LABELS = {Criticality.LOW: _l("Low"), Criticality.NORMAL: _l("Normal"),
                      Criticality.HIGH: _l("High"), Criticality.CRITICAL: _l("Critical")}


class IdSelectField(SelectField):
    """A select of rows, its options' values the ids as text.

    A form filled from an object (``obj=asset``) finds the related row (``asset.ward``)
    under the field's name: the field keeps that row's id, so the page pre-selects it
    and saving unchanged keeps it. (A plain SelectField would keep ``str(row)``, select
    nothing, and the browser would send the first option back.)
    """

    def process_data(self, value: Any) -> None:
        ident = getattr(value, "id", value)
        self.data = "" if ident is None else str(ident)


class WardForm(TranslatedForm):
    code = StringField(_l("Code (ticket number prefix)"),
                       validators=[DataRequired(REQUIRED), Length(max=10)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    morning_start = StringField(_l("Morning opens"), default="07:30",
                                validators=[DataRequired(REQUIRED)])
    morning_end = StringField(_l("Morning closes"), default="11:30",
                              validators=[DataRequired(REQUIRED)])
    afternoon_start = StringField(_l("Afternoon opens"), default="13:30",
                                  validators=[DataRequired(REQUIRED)])
    afternoon_end = StringField(_l("Afternoon closes"), default="17:00",
                                validators=[DataRequired(REQUIRED)])
    saturday_morning = BooleanField(_l("Open on Saturday morning"))
    auto_assign = BooleanField(_l("Assign new tickets automatically to the students on duty"))
    active = BooleanField(_l("Active"), default=True)


class CalendarDayForm(TranslatedForm):
    ward = IdSelectField(_l("Applies to"), validate_choice=False)
    day = _date(_l("Date"))
    is_working = RadioField(_l("Kind of day"), choices=[
        SelectChoice("off", _l("Day off")), SelectChoice("working", _l("Make-up working day"))],
        default="off", validators=[InputRequired(REQUIRED)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class UserCreateForm(TranslatedForm):
    login = StringField(_l("Login"), validators=[DataRequired(REQUIRED), Length(max=80)])
    name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    role = SelectField(_l("Role"), choices=role_choices, validate_choice=False)
    ward = IdSelectField(_l("Ward (staff only)"), validate_choice=False)
    locale = SelectField(_l("Language"), choices=locale_choices, validate_choice=False)
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=120)])


class UserEditForm(TranslatedForm):
    name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    role = SelectField(_l("Role"), choices=role_choices, validate_choice=False)
    ward = IdSelectField(_l("Ward (staff only)"), validate_choice=False)
    locale = SelectField(_l("Language"), choices=locale_choices, validate_choice=False)
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=120)])
    active = BooleanField(_l("Active (may log in)"))


class PasswordResetForm(TranslatedForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED)])


class AssignmentForm(TranslatedForm):
    student = IdSelectField(_l("Student"), validate_choice=False)
    ward = IdSelectField(_l("Ward"), validate_choice=False)
    batch = IdSelectField(_l("Batch"), validate_choice=False)
    university_org = IdSelectField(_l("University"), validate_choice=False)
    university = StringField(_l("University (as written)"), validators=[Length(max=120)],
                             description=_l("Leave empty to use the university chosen "
                                            "above."))
    starts_on = _date(_l("From"))
    ends_on = _date(_l("To"))
    on_duty = BooleanField(_l("On duty"), default=True)


class AssetForm(TranslatedForm):
    ward = IdSelectField(_l("Ward"), validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    kind = StringField(_l("Kind (e.g. printer, router, kiosk)"),
                       validators=[DataRequired(REQUIRED), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=120)])
    vendor = StringField(_l("Vendor"), validators=[Optional(), Length(max=80)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=80)])
    serial = StringField(_l("Serial number"), validators=[Optional(), Length(max=80)])
    address = StringField(_l("Network address (host, host:port or URL)"),
                          validators=[Optional(), Length(max=255)])
    criticality = SelectField(_l("Criticality"), default=Criticality.NORMAL, choices=lambda: [
        SelectChoice(key, CRITICALITY_LABELS[key]) for key in Criticality.ALL],
        validate_choice=False)
    service_key = SelectField(
        _l("Shared service it reaches (city-wide incidents)"), default="",
        choices=lambda: _service_choices(), validate_choice=False,
        description=_l("Failing from several wards at once, it becomes one city-wide "
                       "incident."))
    active = BooleanField(_l("Active"), default=True)
    # The device this one sits behind (same ward): its outage covers this one's.
    depends_on = IdSelectField(_l("Sits behind (depends on)"), validate_choice=False)


def _service_choices() -> list[SelectChoice]:
    from .incidents import service_choices  # incidents imports this module
    return service_choices(_l("None"))


class CheckForm(TranslatedForm):
    interval_seconds = IntegerField(_l("Interval (seconds)"), default=300,
                                    validators=[InputRequired(REQUIRED)])
    timeout_seconds = FloatField(_l("Timeout (seconds)"), default=5.0,
                                 validators=[InputRequired(REQUIRED)])
    failure_threshold = IntegerField(_l("Failures before a ticket is filed"), default=3,
                                     validators=[InputRequired(REQUIRED)])
    recovery_threshold = IntegerField(_l("Successes before it counts as recovered"), default=2,
                                      validators=[InputRequired(REQUIRED)])
    enabled = BooleanField(_l("Enabled"), default=True)


class SlaPolicyForm(TranslatedForm):
    priority = SelectField(_l("Priority"), choices=lambda: [
        SelectChoice(str(p), f"P{p}") for p in (1, 2, 3, 4)], validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    response_minutes = IntegerField(_l("Response target (working minutes)"),
                                    validators=[InputRequired(REQUIRED)])
    resolution_minutes = IntegerField(_l("Resolution target (working minutes)"),
                                      validators=[InputRequired(REQUIRED)])
    at_risk_ratio = FloatField(_l("At risk after this share of the target (e.g. 0.8)"),
                               default=0.8, validators=[InputRequired(REQUIRED)])
    escalate_on_breach = BooleanField(_l("Escalate on breach"))


class ConfirmForm(TranslatedForm):
    """A button that only carries the CSRF token (deleting, switching)."""
