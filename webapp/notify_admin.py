"""Administration of notifications (administrators only): each channel's settings and a
test message, the outbox with its states and dead letters, webhook endpoints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import (BooleanField, PasswordField, SelectChoice, SelectMultipleField,
                     StringField)
from wtforms.validators import DataRequired, Length, Optional

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import Notification, NotificationStatus, Role, Ward
from helpdesk_core.services import channel_settings, notify_rules, outbox, webhooks

from . import registry
from .admin_forms import ConfirmForm, TranslatedForm
from .extensions import db
from .input_guard import int_arg, search_arg
from .web import flash_error, form_meta, now, redirect_target, roles_required, save_form

bp = Blueprint("notify_admin", __name__, url_prefix="/admin/notifications")
admins_only = roles_required(Role.ADMIN)
PER_PAGE = 50

STATUS_LABELS = {
    NotificationStatus.QUEUED: i18n.N_("Queued"),
    NotificationStatus.SENDING: i18n.N_("Sending"),
    NotificationStatus.SENT: i18n.N_("Sent"),
    NotificationStatus.DEAD: i18n.N_("Dead letter"),
    NotificationStatus.HELD: i18n.N_("Held for the digest"),
}
KIND_LABELS = dict(notify_rules.KIND_LABELS, **{notify_rules.DIGEST: i18n.N_("Morning digest"),
                                                notify_rules.TEST: i18n.N_("Test")})


def _secret_key() -> str:
    from flask import current_app
    return current_app.config["SECRET_KEY"]


def _channel(key: str) -> Any:
    channel = registry().channels.get(key)
    if channel is None:
        abort(404)
    return channel


@bp.route("/")
@admins_only
def index():
    """The channels and how many messages are in each state."""
    return render_template("admin/notify_index.html", channels=registry().channels,
                           counts=outbox.counts(db.session), labels=STATUS_LABELS,
                           test_form=ConfirmForm())


@bp.route("/channels/<channel>", methods=["GET", "POST"])
@admins_only
def channel_settings_edit(channel: str):
    """A channel's settings (its own form); secrets are never shown back."""
    known = _channel(channel)
    form_class = known.settings_form
    form, stored_secrets = None, set()
    if form_class is not None:
        shown, stored_secrets = channel_settings.shown_settings(db.session, registry(), channel,
                                                                _secret_key())
        form = (form_class(request.form, meta=form_meta()) if request.method == "POST"
                else form_class(data=shown, meta=form_meta()))
    elif request.method == "POST":
        abort(404)
    if form is not None and request.method == "POST":
        if form.validate():
            try:
                channel_settings.save_settings(
                    db.session, registry(), channel,
                    {k: v for k, v in form.data.items() if k != "csrf_token"}, _secret_key())
                db.session.commit()
            except HelpdeskError as error:
                db.session.rollback()
                flash_error(error, form)
            else:
                flash(i18n.gettext("The channel's settings are saved."), "success")
                return redirect(url_for("notify_admin.channel_settings_edit", channel=channel))
        else:
            flash(i18n.gettext("Please check the highlighted answers."), "error")
    return render_template("admin/notify_channel.html", channel=known, form=form,
                           stored_secrets=stored_secrets, test_form=ConfirmForm(),
                           secret_names=[f.name for f in (form or [])
                                         if channel_settings.is_secret(f.name)])


@bp.route("/channels/<channel>/test", methods=["POST"])
@admins_only
def channel_test(channel: str):
    """Queue a test message to the administrator's own address on *channel*."""
    known = _channel(channel)
    if not ConfirmForm().validate():
        abort(400)
    addresses = known.addresses(db.session, current_user) if known.addresses else []
    if not addresses:
        flash(i18n.gettext("You have no address on this channel (for e-mail: set yours on "
                           "your profile). Webhooks are tested from their endpoint."), "error")
        return redirect(url_for("notify_admin.channel_settings_edit", channel=channel))
    for address in addresses:
        outbox.send_test(db.session, registry(), channel, address, now(),
                         locale=current_user.locale or "vi", user_id=current_user.id)
    db.session.commit()
    flash(i18n.gettext("Test queued: it goes out within seconds. Its fate is in the outbox."),
          "success")
    return redirect(url_for("notify_admin.outbox_list", kind=notify_rules.TEST))


@bp.route("/outbox")
@admins_only
def outbox_list():
    """The outbox, newest first, filtered by status, channel and kind."""
    status = search_arg("status")
    channel = search_arg("channel")
    kind = search_arg("kind")
    status = status if status in NotificationStatus.ALL else ""
    kind = kind if kind in KIND_LABELS else ""
    channel = channel if channel in registry().channels else ""
    query = outbox.listing(db.session, status=status, channel=channel, kind=kind)
    page = db.paginate(query, page=int_arg("page", 1, minimum=1), per_page=PER_PAGE,
                       max_per_page=PER_PAGE, error_out=False)
    return render_template("admin/notify_outbox.html", page=page, status=status,
                           channel=channel, kind=kind, labels=STATUS_LABELS,
                           kinds=KIND_LABELS, channels=registry().channels,
                           retry_form=ConfirmForm())


@bp.route("/outbox/<int:notification_id>/retry", methods=["POST"])
@admins_only
def retry(notification_id: int):
    """Put a dead letter back in the queue."""
    if db.session.get(Notification, notification_id) is None:
        abort(404)
    if not ConfirmForm().validate():
        abort(400)
    try:
        outbox.retry(db.session, notification_id, now())
        db.session.commit()
        flash(i18n.gettext("Queued again."), "success")
    except HelpdeskError as error:
        db.session.rollback()
        flash_error(error)
    return redirect(redirect_target(request.referrer, url_for("notify_admin.outbox_list")))


# --- webhook endpoints -------------------------------------------------------------------

class EndpointForm(TranslatedForm):
    """A city system's webhook endpoint."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("Who receives it, e.g. “1022 hotline”."))
    url = StringField(_l("Address (URL)"), validators=[DataRequired(), Length(max=500)],
                      render_kw={"placeholder": "https://…", "inputmode": "url"})
    secret = PasswordField(_l("Shared secret"), validators=[Optional(), Length(max=200)],
                           description=_l("At least 16 characters; it signs every delivery. "
                                          "Never shown again; leave empty to keep it."))
    kinds = SelectMultipleField(_l("Kinds of notification"), choices=[
        SelectChoice(kind, _l(notify_rules.KIND_LABELS[kind])) for kind in webhooks.SUBSCRIBABLE])
    all_wards = BooleanField(_l("Every ward"), default=True)
    wards = SelectMultipleField(_l("Wards"), coerce=int, choices=[])
    active = BooleanField(_l("Active"), default=True)


def _ward_choices() -> list[SelectChoice]:
    rows = db.session.execute(select(Ward.id, Ward.name, Ward.code).order_by(Ward.name)).all()
    return [SelectChoice(i, f"{name} ({code})") for i, name, code in rows]


@bp.route("/webhooks", methods=["GET", "POST"])
@admins_only
def webhooks_page():
    """The endpoints, and the form that adds one."""
    return _webhook_page(None)


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@admins_only
def webhook_edit(endpoint_id: int):
    """The endpoints, and the form that changes one."""
    endpoint = db.session.get(webhooks.WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return _webhook_page(endpoint)


def _webhook_page(endpoint: Any):
    data = None
    if endpoint is not None and request.method == "GET":
        data = {"name": endpoint.name, "url": endpoint.url, "kinds": list(endpoint.kinds),
                "all_wards": endpoint.all_wards, "wards": list(endpoint.ward_ids),
                "active": endpoint.active}
    form = EndpointForm(data=data) if data else EndpointForm()
    form.wards.choices = _ward_choices()
    status = 200

    def save() -> webhooks.WebhookEndpoint:
        return webhooks.save_endpoint(
            db.session, _secret_key(), name=form.name.data or "", url=form.url.data or "",
            secret=form.secret.data or "", kinds=form.kinds.data or [],
            all_wards=form.all_wards.data, ward_ids=form.wards.data or [],
            active=form.active.data, endpoint=endpoint)
    if form.is_submitted():
        if save_form(form, save, lambda saved: i18n.gettext("Endpoint %(name)s saved.",
                                                            name=saved.name)) is not None:
            return redirect(url_for("notify_admin.webhooks_page"))
        status = 400
    ward_names = dict(db.session.execute(select(Ward.id, Ward.name)).all())
    return render_template("admin/notify_webhooks.html", form=form, endpoint=endpoint,
                           endpoints=webhooks.endpoints(db.session), ward_names=ward_names,
                           kinds=KIND_LABELS, confirm_form=ConfirmForm()), status


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@admins_only
def webhook_delete(endpoint_id: int):
    endpoint = db.session.get(webhooks.WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    if not ConfirmForm().validate():
        abort(400)
    webhooks.delete_endpoint(db.session, endpoint)
    db.session.commit()
    flash(i18n.gettext("Endpoint deleted."), "success")
    return redirect(url_for("notify_admin.webhooks_page"))


@bp.route("/webhooks/<int:endpoint_id>/test", methods=["POST"])
@admins_only
def webhook_test(endpoint_id: int):
    """Queue a signed test delivery to one endpoint."""
    endpoint = db.session.get(webhooks.WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    if not ConfirmForm().validate():
        abort(400)
    if webhooks.CHANNEL not in registry().channels:
        abort(404)
    outbox.send_test(db.session, registry(), webhooks.CHANNEL, endpoint.url, now(),
                     endpoint_id=endpoint.id)
    db.session.commit()
    flash(i18n.gettext("Test queued: it goes out within seconds. Its fate is in the outbox."),
          "success")
    return redirect(url_for("notify_admin.outbox_list", kind=notify_rules.TEST))
