"""Administration of the REST API's integration tokens (administrators only): create one
(its secret is shown once, on the page that answers the form), list them with their last
use, revoke."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from helpdesk_core import i18n
from helpdesk_core.errors import NotFound
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import ApiScope, Role, Ward
from helpdesk_core.services import api_tokens

from .admin_forms import TranslatedForm
from .extensions import db
from .web import now, roles_required, save_form

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")
admins_only = roles_required(Role.ADMIN)


class TokenForm(TranslatedForm):
    """A new integration's token."""

    name = StringField(_l("Integration"), validators=[
        DataRequired(), Length(max=api_tokens.NAME_MAX)],
        description=_l("Who uses it, e.g. “1022 hotline” or “Smart City app”."))
    scope = RadioField(_l("Access"), default=ApiScope.READ, choices=[
        SelectChoice(ApiScope.READ, _l("Read only")),
        SelectChoice(ApiScope.WRITE, _l("Read and write (file, comment, act on tickets)"))])
    all_wards = BooleanField(_l("Every ward"))
    wards = SelectMultipleField(_l("Wards"), coerce=int, choices=[],
                                description=_l("The wards the token may reach."))


class RevokeForm(TranslatedForm):
    """The button that revokes a token (a form for its CSRF token)."""


def _ward_choices() -> list[SelectChoice]:
    rows = db.session.execute(select(Ward.id, Ward.name, Ward.code).order_by(Ward.name)).all()
    return [SelectChoice(i, f"{name} ({code})") for i, name, code in rows]


def _render(form: TokenForm, secret: str | None = None, status: int = 200) -> Any:
    tokens = api_tokens.list_tokens(db.session)
    ward_names = dict(db.session.execute(select(Ward.id, Ward.name)).all())
    return render_template("admin/api_tokens.html", form=form, tokens=tokens, secret=secret,
                           ward_names=ward_names, revoke_form=RevokeForm()), status


@bp.route("/", methods=["GET", "POST"])
@admins_only
def index():
    """The tokens, and the form that makes one."""
    form = TokenForm()
    form.wards.choices = _ward_choices()
    if not form.is_submitted():
        return _render(form)
    made = save_form(form, lambda: api_tokens.create_token(
        db.session, name=form.name.data, scope=form.scope.data,
        ward_ids=form.wards.data or [], all_wards=form.all_wards.data,
        created_by=current_user, now=now()),
        lambda pair: i18n.gettext("Token made for %(name)s. Copy it now: it is not shown "
                                  "again.", name=pair[0].name))
    if made is None:
        return _render(form, status=400)
    secret = made[1]
    fresh = TokenForm(formdata=None)
    fresh.wards.choices = form.wards.choices
    return _render(fresh, secret=secret)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@admins_only
def revoke(token_id: int):
    """Revoke a token for good: the integration's next call gets 401."""
    if not RevokeForm().validate() or token_id > 2**31 - 1:
        abort(400 if token_id <= 2**31 - 1 else 404)
    try:
        token = api_tokens.revoke(db.session, token_id, now())
        db.session.commit()
    except NotFound:
        abort(404)
    flash(i18n.gettext("Token of %(name)s revoked.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))
