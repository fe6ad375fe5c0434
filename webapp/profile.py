"""Your profile: the phone number and e-mail address colleagues reach you at.

Ticket text masks phone numbers and e-mail addresses (personal data of citizens), so a
call-back number typed into a comment is masked too; the ticket page shows the
reporter's and the assignee's contact from their profiles instead.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import EmailField, StringField
from wtforms.validators import Length, Optional

from helpdesk_core import i18n
from helpdesk_core.errors import ValidationFailed
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.services import notify_rules, outbox, tickets, users

from . import registry
from .admin_forms import ConfirmForm, TranslatedForm
from .extensions import db
from .web import flash_error

bp = Blueprint("profile", __name__, url_prefix="/profile")


class ContactForm(TranslatedForm):
    """The contact details a user keeps up to date themselves."""

    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=users.PHONE_MAX)],
                        render_kw={"inputmode": "tel", "autocomplete": "tel",
                                   "placeholder": "0905 123 456"})
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=users.EMAIL_MAX)],
                       render_kw={"autocomplete": "email"})


@bp.route("/", methods=["GET", "POST"])
@login_required
def edit():
    """Show and change the current user's phone number and e-mail address."""
    user = current_user._get_current_object()
    form = ContactForm(obj=user)
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                users.update_contact(user, phone=form.phone.data or "",
                                     email=form.email.data or "")
                tickets.commit(db.session)
                flash(i18n.gettext("Your contact details are saved."), "success")
                return redirect(url_for("profile.edit"))
            except ValidationFailed as exc:
                tickets.rollback(db.session)
                flash_error(exc, form)
        else:
            flash(i18n.gettext("Please check the highlighted answers."), "error")
        status = 400
    return _render(form, user, status)


def _render(form: ContactForm, user, status: int = 200):
    reg = registry()
    channels = [(key, reg.channels[key]) for key in outbox.user_channels(reg)]
    return render_template("profile/edit.html", form=form, user=user, channels=channels,
                           kinds=[(kind, notify_rules.KIND_LABELS[kind])
                                  for kind in notify_rules.PREFERENCE_KINDS],
                           enabled=outbox.enabled_pairs(db.session, reg, user),
                           preferences_form=ConfirmForm()), status


@bp.route("/notifications", methods=["POST"])
@login_required
def notifications():
    """Save which notifications the current user gets on which channel (checkboxes)."""
    if not ConfirmForm().validate():
        abort(400)
    user = current_user._get_current_object()
    reg = registry()
    chosen = [(channel, kind) for channel in outbox.user_channels(reg)
              for kind in notify_rules.PREFERENCE_KINDS
              if request.form.get(f"notify-{channel}-{kind}")]
    outbox.save_preferences(db.session, reg, user, chosen)
    db.session.commit()
    flash(i18n.gettext("Your notification choices are saved."), "success")
    return redirect(url_for("profile.edit") + "#notifications")
