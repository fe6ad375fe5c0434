"""Forms of the students' programme: batches, universities and their coordinators, the
ward's end-of-batch evaluation."""

from __future__ import annotations

from typing import Any

from wtforms import (BooleanField, PasswordField, RadioField, SelectChoice, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional

from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import Batch

from .admin_forms import REQUIRED, TranslatedForm, _date


class BatchForm(TranslatedForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)],
                       render_kw={"placeholder": "Đợt 1 – 2025"})
    starts_on = _date(_l("From"))
    ends_on = _date(_l("To"))
    wards = SelectMultipleField(_l("Wards served"), coerce=int, choices=[],
                                render_kw={"size": 10})
    issuing_unit = StringField(_l("Issuing unit (printed on the certificates)"),
                               validators=[Length(max=200)])
    criteria = TextAreaField(
        _l("Evaluation criteria"), render_kw={"rows": 6},
        description=_l("One per line: the criterion, a semicolon, then its scale (5 or 10). "
                       "For example: Tinh thần trách nhiệm; 5"))


class UniversityForm(TranslatedForm):
    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED), Length(max=20)],
                       render_kw={"placeholder": "DTU"})
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=160)])
    active = BooleanField(_l("Active"), default=True)


class UniversityAccountForm(TranslatedForm):
    login = StringField(_l("Login"), validators=[DataRequired(REQUIRED), Length(max=80)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED),
                                                         Length(max=200)])


def evaluation_form(batch: Batch, formdata: Any = None, data: dict | None = None) -> Any:
    """The ward's form for *batch*: a score (radio buttons 1..scale) and a comment per
    criterion, then an overall comment. Scores are checked by the service."""

    class EvaluationForm(TranslatedForm):
        pass

    for criterion in batch.criteria:
        setattr(EvaluationForm, f"score_{criterion.id}", RadioField(
            criterion.name, choices=[SelectChoice(str(n), str(n))
                                     for n in range(1, criterion.scale_max + 1)],
            validate_choice=False))
        setattr(EvaluationForm, f"note_{criterion.id}", StringField(
            _l("Comment on “%(name)s”", name=criterion.name), validators=[Length(max=500)]))
    EvaluationForm.comment = TextAreaField(_l("Overall comment"), validators=[Length(max=4000)],
                                           render_kw={"rows": 4})
    return EvaluationForm(formdata=formdata, data=data)
