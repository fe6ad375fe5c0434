"""The page a one-time link opens: the account's owner sets their password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from wtforms import PasswordField
from wtforms.validators import EqualTo

from helpdesk_core import i18n
from helpdesk_core.errors import NotFound, ValidationFailed
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.services import password_links

from .admin_forms import TranslatedForm
from .extensions import db
from .web import now

bp = Blueprint("password_link", __name__)


class SetPasswordForm(TranslatedForm):
    """The new password, twice."""

    password = PasswordField(_l("New password"))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[EqualTo("password", message=_l(
                                "The two passwords differ."))])


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Show the form while the link is valid; set the password once."""
    try:
        link = password_links.find(db.session, token, now())
    except NotFound as missing:
        db.session.rollback()
        return render_template("auth/set_password.html", form=None,
                               problem=missing.localized()), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            password_links.redeem(db.session, token, form.password.data or "", now())
            db.session.commit()
        except ValidationFailed as failure:
            db.session.rollback()
            form.password.errors = list(failure.field_errors.get("password", []))
        else:
            flash(i18n.gettext("Your password is set. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, login=link.user.login,
                           problem=None)
