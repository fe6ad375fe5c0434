"""Logging in and out, and choosing the language."""

from __future__ import annotations

from flask import (Blueprint, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from helpdesk_core import i18n
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.services import users

from .extensions import db, limiter
from .input_guard import SafeForm

bp = Blueprint("auth", __name__)


class LoginForm(SafeForm):
    login = StringField(_l("Login"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Stay logged in on this device"))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(db.session, form.login.data, form.password.data)
        if user is None:
            # One message for both cases, so logins cannot be guessed.
            form.password.errors.append(i18n.gettext("Wrong login or password."))
        else:
            login_user(user, remember=form.remember.data)
            session.pop("locale", None)
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("main.home")
            return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(i18n.gettext("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<locale>", methods=["POST"])
def set_language(locale: str):
    """Switch language; remembered on the account, or in the session before login."""
    if locale in i18n.SUPPORTED_LOCALES:
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
        else:
            session["locale"] = locale
    target = request.form.get("next") or request.referrer or url_for("main.home")
    if not target.startswith("/") and not target.startswith(request.host_url):
        target = url_for("main.home")
    return redirect(target)
