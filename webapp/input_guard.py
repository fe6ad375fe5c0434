"""Hostile input stopped at the door: ids in URLs, integer query arguments, form fields.

The database refuses what Python accepts: NUL bytes in text (PostgreSQL), integers past
its columns (PostgreSQL ``integer`` is 32-bit, SQLite stops at 64), and Python's own
dates stop at year 1 and 9999. Each check lives here once and applies to every route,
every query argument read through :func:`int_arg`, and every form built on
:class:`SafeForm` or with :func:`webapp.web.form_meta` (the plugins' forms).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from flask import Flask, abort, request
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter, ValidationError as RouteMismatch
from wtforms import (DateField, DateTimeField, FloatField, IntegerField, SelectField,
                     TextAreaField)
from wtforms.validators import ValidationError

from helpdesk_core import i18n

INT32_MAX = 2 ** 31 - 1  # ids and counts are 32-bit ``integer`` columns
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
SEARCH_MAX = 200  # longer searches only make LIKE patterns that SQLite refuses
FLOAT_LIMIT = 1e9  # timeouts, ratios: anything larger is a typo or an attack

# NUL anywhere; in one-line fields any other C0 control character (tab and line ends
# aside) and DEL: invisible, never typed on purpose, and they break logs and exports.
_NUL = re.compile("\x00")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGITS = re.compile(r"[0-9]{1,10}")
_INTEGER = re.compile(r"-?[0-9]+")


# --- URLs and query strings -------------------------------------------------------------

class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: past a 32-bit id is "not found", before any query."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = INT32_MAX, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, INT32_MAX if max is None else max, signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-")) > len(str(INT32_MAX)):
            raise RouteMismatch()  # Python would parse a 5,000-digit number slowly
        return super().to_python(value)


def parse_id(value: Any) -> int | None:
    """*value* as a row id (ASCII digits, 1 .. 2**31-1), else None."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= INT32_MAX else None


def int_arg(name: str, default: int | None = None, minimum: int = 0) -> int | None:
    """The query argument *name* as an integer, for every view that reads one.

    Missing or not a number: *default* (as ``request.args.get(type=int)`` did). A number
    outside ``minimum .. 2**31-1`` can name nothing that exists: 400, before any query.
    """
    raw = request.args.get(name, "").strip()
    if not _INTEGER.fullmatch(raw):
        return default
    if len(raw.lstrip("-")) > len(str(INT32_MAX)) or not minimum <= int(raw) <= INT32_MAX:
        abort(400)
    return int(raw)


def search_arg(name: str = "q") -> str:
    """The search text of the query string, trimmed to :data:`SEARCH_MAX` characters."""
    return request.args.get(name, "").strip()[:SEARCH_MAX]


def _refuse_nul_in_query() -> None:
    """A NUL byte in a query string (a search, a filter) is never typed: 400.

    Not under ``/api/``: the REST API validates its own query against its OpenAPI
    document and answers in problem+json (NUL is dropped from search text there).
    """
    raw = request.query_string
    if b"%00" not in raw and b"\x00" not in raw:  # how a NUL comes: most queries have none
        return
    if request.path.startswith("/api/"):
        return
    for key, values in request.args.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            abort(400)


def register(app: Flask) -> None:
    """Install the id converter (before any blueprint adds routes) and the query check."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul_in_query)


# --- forms --------------------------------------------------------------------------------

def _no_control_characters(form: Any, field: Any) -> None:
    pattern = _NUL if isinstance(field, TextAreaField) else _CONTROL
    if any(isinstance(raw, str) and pattern.search(raw) for raw in field.raw_data or ()):
        raise ValidationError(i18n.gettext(
            "Please remove the invisible control characters from this answer."))


def _integer_in_range(form: Any, field: Any) -> None:
    if isinstance(field.data, int) and not -INT32_MAX - 1 <= field.data <= INT32_MAX:
        raise ValidationError(i18n.gettext("Number must be between %(min)s and %(max)s.",
                                           min=-INT32_MAX - 1, max=INT32_MAX))


def _float_in_range(form: Any, field: Any) -> None:
    if isinstance(field.data, float) and not (math.isfinite(field.data)
                                              and abs(field.data) <= FLOAT_LIMIT):
        raise ValidationError(i18n.gettext("Number must be between %(min)s and %(max)s.",
                                           min=f"{-FLOAT_LIMIT:.0f}", max=f"{FLOAT_LIMIT:.0f}"))


def _date_in_range(form: Any, field: Any) -> None:
    value = field.data
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date) and not DATE_MIN <= value <= DATE_MAX:
        raise ValidationError(i18n.gettext(
            "Choose a date between %(start)s and %(end)s.",
            start=DATE_MIN.strftime("%d/%m/%Y"), end=DATE_MAX.strftime("%d/%m/%Y")))


def _guards_for(field: Any) -> list:
    guards = [_no_control_characters]
    if isinstance(field, IntegerField) or (isinstance(field, SelectField)
                                           and field.coerce is int):
        guards.append(_integer_in_range)
    if isinstance(field, FloatField):
        guards.append(_float_in_range)
    if isinstance(field, (DateField, DateTimeField)):
        guards.append(_date_in_range)
    return guards


def guarded_bind(form: Any, unbound_field: Any, options: dict) -> Any:
    """Bind a field and add the input guards to its validators (``Meta.bind_field``)."""
    field = unbound_field.bind(form=form, **options)
    # A new list: the one given to the field class is shared by every form instance.
    field.validators = [*field.validators, *_guards_for(field)]
    return field


class SafeForm(FlaskForm):
    """The base of every Flask-WTF form of the app: input guards on every field, and
    WTForms' own messages in the user's language."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict) -> Any:
            return guarded_bind(form, unbound_field, options)

        def get_translations(self, form: Any) -> Any:
            return i18n.WTFormsTranslations()
