"""Forms of the tickets area: filing at the front desk, comments, actions, checklists."""

from __future__ import annotations

import re
import secrets

from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.services.ratings import RATING_COMMENT_MAX
from helpdesk_core.services.tickets import COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX

from .input_guard import SafeForm
from .kept_widgets import (KeptCheckbox, KeptFileInput, KeptSelect, KeptTextArea,
                           KeptTextInput)

_FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_form_key() -> str:
    """A random one-time key for a form, made when the form is shown."""
    return secrets.token_urlsafe(24)


class OnceForm(SafeForm):
    """A form that must take effect once, however often it is sent.

    The hidden ``form_key`` is made when the form is shown and kept when it comes back
    with errors; the service returns what the key already made instead of doing it again
    (a clerk sending again after a timeout, a double click).
    """

    form_key = HiddenField(default=new_form_key)

    @property
    def once_key(self) -> str | None:
        """The key sent with the form, or None if it is missing or not one of ours."""
        key = self.form_key.data or ""
        return key if _FORM_KEY.fullmatch(key) else None


class FileTicketForm(OnceForm):
    """What the front desk asks besides the category's own triage questions."""

    title = StringField(_l("What is the problem? (a short title)"),
                        validators=[DataRequired(message=_l("Please give a short title.")),
                                    Length(max=TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"})
    description = TextAreaField(_l("Details (optional)"),
                                validators=[Optional(), Length(max=DESCRIPTION_MAX)],
                                render_kw={"rows": 3, "maxlength": DESCRIPTION_MAX})
    citizen_waiting = BooleanField(_l("A citizen is waiting"))
    whole_centre = BooleanField(_l("The whole centre is affected"))
    asset = SelectField(_l("Which device? (optional)"), coerce=int, default=0)
    photo = FileField(_l("Photo or PDF (optional)"),
                      description=_l("Take a photo of the screen or the device."),
                      render_kw={"accept": "image/*,application/pdf", "capture": "environment"})

    @property
    def urgency(self) -> str:
        return "citizen_waiting" if self.citizen_waiting.data else "normal"

    @property
    def impact(self) -> str:
        return "center" if self.whole_centre.data else "person"


class ReasonForm(SafeForm):
    """One lifecycle action (claim, resolve, reopen, ...): a reason where it needs one.

    Several of these sit on one page, so each gets the action as prefix (unique ids). The
    token is the page's plain ``csrf_token``, checked by the app-wide CSRFProtect before
    the view runs; a prefixed per-form token would only duplicate it.
    """

    class Meta:
        csrf = False

    # Kept widgets: several of these render on every showing of a ticket.
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=COMMENT_MAX)],
                           render_kw={"rows": 2}, widget=KeptTextArea())
    assignee = SelectField(_l("Student"), coerce=int, default=0, validate_choice=False,
                           widget=KeptSelect())


class CommentForm(OnceForm):
    body = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=COMMENT_MAX)],
                         render_kw={"rows": 3}, widget=KeptTextArea())
    internal = BooleanField(_l("Internal note (ward staff do not see it)"),
                            widget=KeptCheckbox())


class TemplateForm(SafeForm):
    template = SelectField(_l("Checklist"), validate_choice=False, widget=KeptSelect())


class StepForm(SafeForm):
    done = BooleanField(_l("Done"))
    # The checklist the page showed: the first tick of a suggested one chooses it.
    template = HiddenField()


class AttachmentForm(SafeForm):
    photo = FileField(_l("Photo or PDF"),
                      render_kw={"accept": "image/*,application/pdf", "capture": "environment"},
                      widget=KeptFileInput())


class SimilarForm(SafeForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(_l("Search resolved tickets"), widget=KeptTextInput())


class RatingForm(SafeForm):
    """The confirm form's optional rating: each of its five buttons sends ``rating``.

    Like :class:`ReasonForm`, it relies on the page's app-wide CSRF token.
    """

    class Meta:
        csrf = False

    rating = StringField(_l("Rating"), validators=[Optional(), Length(max=2)])
    rating_comment = TextAreaField(
        _l("A word on the help you got (optional)"),
        validators=[Optional(), Length(max=RATING_COMMENT_MAX)],
        render_kw={"rows": 2, "maxlength": RATING_COMMENT_MAX}, widget=KeptTextArea())


class IncidentLinkForm(SafeForm):
    """A coordinator links the ticket to an open city-wide incident, or takes it out.

    Like :class:`ReasonForm`, it relies on the page's app-wide CSRF token.
    """

    class Meta:
        csrf = False

    incident = SelectField(_l("Open city-wide incident"), coerce=int,
                           validators=[InputRequired()], widget=KeptSelect())
