"""Your profile: the phone number and e-mail address colleagues reach you at, and the
phones (browsers) that get notifications by Web Push.

Ticket text masks phone numbers and e-mail addresses (personal data of citizens), so a
call-back number typed into a comment is masked too; the ticket page shows the
reporter's and the assignee's contact from their profiles instead.
"""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required
from wtforms import EmailField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, Optional

from helpdesk_core import i18n
from helpdesk_core.errors import ValidationFailed
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.services import notify_rules, outbox, push, tickets, users

from . import registry
from .admin_forms import ConfirmForm, TranslatedForm
from .extensions import db
from .web import save_form

bp = Blueprint("profile", __name__, url_prefix="/profile")
PUSH_BODY_MAX = 4096  # bytes: a subscription's JSON is a few hundred


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
        if save_form(form, lambda: users.update_contact(user, phone=form.phone.data or "",
                                                        email=form.email.data or ""),
                     i18n.gettext("Your contact details are saved.")) is not None:
            return redirect(url_for("profile.edit"))
        status = 400
    return _render(form, user, status)


class RemoveDeviceForm(TranslatedForm):
    """Stop notifications to one of the user's subscribed browsers (works without JS)."""

    subscription = IntegerField(validators=[DataRequired()])


def _render(form: ContactForm, user, status: int = 200):
    reg = registry()
    channels = [(key, reg.channels[key]) for key in outbox.user_channels(reg)]
    return render_template(
        "profile/edit.html", form=form, user=user,
        devices=push.subscriptions_of(db.session, user),
        vapid_public_key=push.vapid_keys(db.session).public_key,
        remove_form=RemoveDeviceForm(), channels=channels,
        kinds=[(kind, notify_rules.KIND_LABELS[kind]) for kind in notify_rules.PREFERENCE_KINDS],
        enabled=outbox.enabled_pairs(db.session, reg, user),
        preferences_form=ConfirmForm()), status


def _push_hosts() -> tuple[str, ...]:
    configured = [h.strip() for h in str(current_app.config.get("PUSH_SERVICE_HOSTS") or "")
                  .split(",") if h.strip()]
    return tuple(configured) or push.DEFAULT_PUSH_SERVICE_HOSTS


def _json_body():
    """The request's JSON object, or None (not JSON, too large, not an object)."""
    if (request.content_length or 0) > PUSH_BODY_MAX or not request.is_json:
        return None
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _json_error(message: str, status: int = 400):
    return jsonify({"ok": False, "error": message}), status


@bp.route("/push/subscribe", methods=["POST"])
@login_required
def push_subscribe():
    """Store this browser's push subscription (JSON ``PushSubscription.toJSON()``; the
    CSRF token in ``X-CSRFToken``)."""
    data = _json_body()
    if data is None:
        return _json_error(i18n.gettext("The browser sent no subscription."))
    try:
        push.subscribe(db.session, current_user, data,
                       request.headers.get("User-Agent", ""), allowed_hosts=_push_hosts())
        tickets.commit(db.session)
    except ValidationFailed as exc:
        tickets.rollback(db.session)
        return _json_error(exc.localized())
    return jsonify({"ok": True}), 201


@bp.route("/push/unsubscribe", methods=["POST"])
@login_required
def push_unsubscribe():
    """Forget this browser's subscription (JSON ``{"endpoint": ...}``)."""
    data = _json_body()
    endpoint = data.get("endpoint") if data else None
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > push.ENDPOINT_MAX:
        return _json_error(i18n.gettext("The browser sent no subscription."))
    removed = push.unsubscribe(db.session, current_user, endpoint)
    tickets.commit(db.session)
    return jsonify({"ok": True, "removed": removed})


@bp.route("/push/remove", methods=["POST"])
@login_required
def push_remove():
    """Stop notifications to one listed device (a form on the profile page)."""
    form = RemoveDeviceForm()
    if form.validate():
        mine = {row.id: row for row in push.subscriptions_of(db.session, current_user)}
        row = mine.get(form.subscription.data)
        if row is not None:
            push.unsubscribe(db.session, current_user, row.endpoint)
            tickets.commit(db.session)
            flash(i18n.gettext("That device gets no more notifications."), "success")
            return redirect(url_for("profile.edit"))
    flash(i18n.gettext("That device is not in your list."), "error")
    return redirect(url_for("profile.edit"))


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
