"""Small helpers shared by the blueprints: clock, roles, translating domain errors, the
usual "validate, save, commit" of a form."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import unicodedata
from typing import Any, Callable, Iterator, Sequence, TypeVar
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError, ValidationFailed
from helpdesk_core.db import reset_reads_only, set_reads_only
from helpdesk_core.services import events

from .extensions import db

T = TypeVar("T")


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


READS_FIRST = "helpdesk_reads_first"


def reads_first(view: Callable) -> Callable:
    """Mark a form's view (POST) that reads in a deferred transaction and writes only
    inside :func:`writing`: on SQLite it then holds the one write lock for its writes,
    not for the user, the form and the checks before them (``webapp.create_app``)."""
    setattr(view, READS_FIRST, True)
    return view


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """End the read transaction of a :func:`reads_first` view (it wrote nothing); the
    block's transaction begins with the write lock (SQLite's BEGIN IMMEDIATE), so it
    queues for the lock instead of failing on a read snapshot another writer outdated.
    PostgreSQL locks rows, not the database: the reads and writes share one transaction
    (a commit and a begin fewer)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.commit()
    token = set_reads_only(False)
    try:
        yield
    finally:
        reset_reads_only(token)


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


def flash_error(error: HelpdeskError, *forms: Any) -> None:
    """Show a domain error; put field errors on the forms' fields so nothing is lost."""
    if isinstance(error, ValidationFailed):
        for form in forms:
            if form is None:
                continue
            for name, messages in error.field_errors.items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = list(field.errors or []) + [str(m) for m in messages]
    flash(error.localized(), "error")


def save_form(form: FlaskForm, save: Callable[[], T], success: str | Callable[[T], str],
              extra_forms: Sequence[FlaskForm] = ()) -> T | None:
    """The usual form POST: validate *form* (and *extra_forms*), call the service, commit.

    :param save: calls the service and returns what it saved (never None).
    :param success: flashed once the change is committed; a function of what *save*
        returned when the message names it.
    :returns: what *save* returned; None when the form was not submitted (a GET) or
        when nothing was stored: then the session is rolled back and the user told why
        ("check the highlighted answers", or the domain error, its field errors put on
        the forms' fields), and the caller shows the form again (usually with 400).

    The commit runs the plugins' ticket-event hooks (:func:`events.commit`).
    """
    if not form.is_submitted():
        return None
    valid = form.validate()
    for extra in extra_forms:
        valid = extra.validate() and valid
    if not valid:
        flash(i18n.gettext("Please check the highlighted answers."), "error")
        return None
    try:
        saved = save()
        events.commit(db.session)
    except HelpdeskError as error:
        events.rollback(db.session)
        flash_error(error, form, *extra_forms)
        return None
    flash(success(saved) if callable(success) else success, "success")
    return saved


# Percent-decoding rounds a target is checked through: "%252F" hides "/" two levels deep.
DECODE_ROUNDS = 3


def local_target(value: str | None) -> str | None:
    """*value* if it is a path of this site ("/tickets/?status=new"), else None.

    Browsers drop tabs and newlines from a URL, read "\\" as "/" and fold some Unicode
    look-alikes, so "/\\evil.example" or "/<tab>/evil.example" lead to another host. Refused:
    a scheme or host, a backslash, anything but a single leading slash, and control,
    format or line-separator characters, in the value as given and after each
    percent-decoding and NFKC folding.
    """
    if not value:
        return None
    candidate = value
    for _ in range(DECODE_ROUNDS + 1):
        for form in (candidate, unicodedata.normalize("NFKC", candidate)):
            if not _plain_path(form):
                return None
        decoded = unquote(candidate)
        if decoded == candidate:
            return value
        candidate = decoded
    return None  # still encoded after every round: no page of ours looks like that


def _plain_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
           for ch in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def redirect_target(*candidates: str | None) -> str:
    """The first candidate that is a page of this site (a full URL of this host counts
    as its path, as a Referer is), else the home page."""
    host = request.host_url  # "http://host/"
    for value in candidates:
        if value and value.startswith(host):
            value = "/" + value[len(host):]
        target = local_target(value)
        if target is not None:
            return target
    return url_for("main.home")
