"""Logging in and out, and choosing the language."""

from __future__ import annotations

from flask import (Blueprint, Response, current_app, flash, g, redirect, render_template,
                   request, session, url_for)
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from helpdesk_core import i18n
from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.services import users

from .extensions import db, limiter
from .input_guard import SafeForm
from .web import redirect_target

bp = Blueprint("auth", __name__)


class LoginForm(SafeForm):
    login = StringField(_l("Login"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Stay logged in on this device"))


def _account_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_ADDRESS"]


def _login_tried() -> str:
    """The rate-limit key of the account a login attempt names (known or not)."""
    return "login:" + (request.form.get("login") or "").strip().lower()[:80]


def _failed(_response: Response) -> bool:
    """Only failed logins count against the limits; a correct password costs nothing."""
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, methods=["POST"], key_func=_login_tried, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(db.session, form.login.data, form.password.data)
        if user is None:
            g.login_failed = True
            # One message for both cases, so logins cannot be guessed.
            form.password.errors.append(i18n.gettext("Wrong login or password."))
        else:
            _start_fresh_session()
            login_user(user, remember=form.remember.data)
            return redirect(redirect_target(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def _start_fresh_session() -> None:
    """Forget the anonymous session, its CSRF token included (no session fixation).

    Nothing of it needs to survive: once logged in, the account's language applies.
    """
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Logging out ends the account's sessions on every device, remember cookies included.
    users.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    # Said in the language of the login page that shows it, not the account's.
    from .factory import _select_locale
    with i18n.use_locale(_select_locale()):
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
    return redirect(redirect_target(request.form.get("next"), request.referrer))
