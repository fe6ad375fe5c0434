"""Small helpers shared by the blueprints: clock, roles, translating domain errors."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash
from flask_login import current_user, login_required

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError, ValidationFailed


def now() -> dt.datetime:
    """The current time, aware UTC (tests may freeze it with the NOW config key)."""
    frozen = current_app.config.get("NOW")
    return frozen() if callable(frozen) else dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """Today's date in the centre's time zone."""
    return now().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def roles_required(*roles: str) -> Callable:
    """Log in first; then only these roles (others get 403)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def form_meta(**extra: Any) -> dict[str, Any]:
    """``meta`` for plain WTForms classes (plugin forms): CSRF on, messages translated,
    the input guards on every field."""
    from flask_wtf.csrf import _FlaskFormCSRF

    from .input_guard import guarded_bind
    translations = i18n.WTFormsTranslations()
    meta = {"csrf": current_app.config.get("WTF_CSRF_ENABLED", True),
            "csrf_class": _FlaskFormCSRF, "csrf_field_name": "csrf_token",
            "translations": translations,
            # WTForms asks the meta for translations; a plain attribute is never read.
            "get_translations": lambda form: translations,
            "bind_field": guarded_bind}
    meta.update(extra)
    return meta


def flash_error(error: HelpdeskError, form: Any = None) -> None:
    """Show a domain error; put field errors on the form's fields so nothing is lost."""
    if isinstance(error, ValidationFailed) and form is not None:
        for name, messages in error.field_errors.items():
            field = getattr(form, name, None) if hasattr(form, name) else None
            if field is not None:
                field.errors = list(field.errors or []) + [str(m) for m in messages]
    flash(error.localized(), "error")
