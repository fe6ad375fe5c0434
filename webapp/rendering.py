"""What every template gets: gettext, the date filters, labels and the locale.

The pages render many rows, each with a few labels and a date, so these run hundreds of
times a request (issue 18). They read the request's locale from the core's context
variable (set once per request in ``create_app``) instead of Flask-Babel's helpers,
which look the locale and time zone up again through Flask's proxies on every call.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Callable
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, parse_pattern
from flask import Flask, url_for
from jinja2 import pass_eval_context
from markupsafe import Markup

from helpdesk_core import i18n
from helpdesk_core.services import workflow

DATETIME_PATTERN = "dd/MM/yyyy HH:mm"  # Babel's notation, the same in every locale
DATE_PATTERN = "dd/MM/yyyy"


@functools.lru_cache(maxsize=None)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@functools.lru_cache(maxsize=None)
def _pattern(pattern: str) -> DateTimePattern:
    return parse_pattern(pattern)


@functools.lru_cache(maxsize=None)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(value: dt.datetime, tz_name: str) -> dt.datetime:
    """*value* in the zone *tz_name*; a naive value is UTC (as Flask-Babel reads it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(_zone(tz_name))


def format_datetime(value: dt.datetime | None, tz_name: str,
                    pattern: str = DATETIME_PATTERN) -> str:
    """*value* as *pattern* in the zone *tz_name* and the current locale ("" for none)."""
    if not value:
        return ""
    return _pattern(pattern).apply(local_time(value, tz_name), _locale(i18n.get_locale()))


def format_date(value: dt.date | dt.datetime | None, tz_name: str,
                pattern: str = DATE_PATTERN) -> str:
    """A date (a datetime is first moved to *tz_name*) as *pattern* ("" for none)."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = local_time(value, tz_name)
    return _pattern(pattern).apply(value, _locale(i18n.get_locale()))


def status_label(status: str) -> str:
    """A ticket status in the current locale."""
    return i18n.gettext(workflow.STATUS_LABELS.get(status, status))


def sla_badge(state: str) -> Markup:
    """The badge of an SLA state (``queries.sla_state``): overdue, at risk or nothing."""
    if state == "breached":
        return Markup('<span class="badge badge-breached">%s</span>') % i18n.gettext("Overdue")
    if state == "at_risk":
        return Markup('<span class="badge badge-risk">%s</span>') % i18n.gettext("At risk")
    return Markup()


def status_badge(status: str) -> Markup:
    """A ticket's status as a badge."""
    return Markup('<span class="badge status-%s">%s</span>') % (status, status_label(status))


def waiting_badge(ticket: Any) -> Markup:
    """Words, not a colour alone: screen readers and colour-blind eyes read it too."""
    if not ticket.citizen_waiting:
        return Markup()
    return citizen_waiting_badge()


def citizen_waiting_badge() -> Markup:
    """The badge :func:`waiting_badge` gives a ticket a citizen waits for."""
    return (Markup('<span class="badge badge-waiting"><span aria-hidden="true">👤 </span>'
                   '%s</span>') % i18n.gettext("A citizen is waiting"))


def format_datetime_digits(value: dt.datetime | None, tz_name: str) -> str:
    """What :func:`format_datetime` gives with :data:`DATETIME_PATTERN` ("" for none), by
    plain string formatting: that pattern is digits and signs in every locale, and a list
    has a date on each row (babel's pattern engine cost a long queue a few tenths of a
    millisecond). A test compares the two."""
    if not value:
        return ""
    value = local_time(value, tz_name)
    # %-formatting: half the time of an f-string with format specs.
    return "%02d/%02d/%04d %02d:%02d" % (value.day, value.month, value.year, value.hour,
                                         value.minute)


class Memo(dict):
    """``function(key)`` for each key, computed the first time it is looked up: a table's
    rows share a few badges (one per status, per SLA state), and a row looking one up in
    a dict costs Jinja far less than calling a function."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        super().__init__()
        self._function = function

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._function(key)
        return value


@pass_eval_context
def _gettext(eval_ctx: Any, message: str, **variables: Any) -> str:
    """Jinja's newstyle ``_()`` in one call (its own goes through two more layers): the
    text is a format string, its placeholders filled with escaped values."""
    text = i18n.translations().gettext(message)
    if eval_ctx.autoescape:
        text = Markup(text)
    if not variables and "%" not in text:
        return text  # what ``%`` gives it (a page has dozens of labels: ~1.5 us each)
    return text % variables


def _ngettext(singular: str, plural: str, num: int) -> str:
    # Jinja's newstyle gettext fills the placeholders itself (escaping them).
    return i18n.translations().ngettext(singular, plural, num)


# The decimal sign of each supported locale, as CLDR gives it (a test compares): asking
# babel loads the locale's whole CLDR data, 3.5 MB kept in every worker for one character.
DECIMAL_SIGNS = {"vi": ",", "en": "."}


@functools.lru_cache(maxsize=None)
def _decimal_sign(locale: str) -> str:
    if locale in DECIMAL_SIGNS:
        return DECIMAL_SIGNS[locale]
    from babel.numbers import get_decimal_symbol
    return get_decimal_symbol(locale)


def format_percent(value: float | None) -> str:
    """A share with one decimal ("95,3 %"), or "–". The locale's decimal sign, read once:
    babel's format_decimal per cell cost a long table milliseconds."""
    if value is None:
        return "–"
    locale = i18n.get_locale()
    if abs(value) >= 1000:  # grouping: leave it to babel
        from babel.numbers import format_decimal
        return f"{format_decimal(value, '#,##0.0', locale=locale)} %"
    return f"{value:.1f}".replace(".", _decimal_sign(locale)) + " %"


def install(app: Flask, categories: Callable[[], Any]) -> None:
    """Set up *app*'s templates; *categories* gives the registry's categories."""
    # Replaces the callables Flask-Babel installed: same catalogs (the core's merged
    # ones, BABEL_TRANSLATION_DIRECTORIES), read in the locale the request set.
    app.jinja_env.install_gettext_callables(
        gettext=lambda message: i18n.translations().gettext(message), ngettext=_ngettext,
        pgettext=lambda context, message: i18n.translations().pgettext(context, message),
        npgettext=lambda context, singular, plural, num: i18n.translations().npgettext(
            context, singular, plural, num),
        newstyle=True)
    app.jinja_env.globals.update({"_": _gettext, "gettext": _gettext})
    config = app.config
    app.add_template_filter(lambda value: format_datetime(value, config["TIMEZONE"]), "dt")
    app.add_template_filter(lambda value: format_date(value, config["TIMEZONE"]), "d")
    app.add_template_filter(_prompted, "prompted")
    app.add_template_filter(format_percent, "percent")
    # Python, not macros: the lists show them on every row (a macro call costs more).
    app.jinja_env.globals.update(sla_badge=sla_badge, status_badge=status_badge,
                                 waiting_badge=waiting_badge, id_url=id_url)
    # Long lists: the same dates as |dt, for a date on each row; badges looked up per row.
    app.add_template_filter(lambda value: format_datetime_digits(value, config["TIMEZONE"]),
                            "dt_digits")
    app.jinja_env.globals.update(memo=Memo)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "status_label": status_label,
            "categories": categories(),
            "current_locale": i18n.get_locale(),
            "supported_locales": i18n.SUPPORTED_LOCALES,
        }


# A number no route holds but where the id goes (ids are far smaller).
_ID_PLACEHOLDER = 2_000_000_011


def id_url(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """``url_for(endpoint, **{key: id}, **values)`` for one id after another: the URL is
    built once and each id put in its place (a list of 50 tickets asked the router 100
    times per page). The same URL as ``url_for`` gives, or ``url_for`` itself when the
    placeholder cannot be found once in it."""
    parts = id_url_parts(endpoint, key, **values)
    if parts is None:
        return lambda value: url_for(endpoint, **{key: value}, **values)
    head, tail = parts
    return lambda value: f"{head}{int(value)}{tail}"


def id_url_parts(endpoint: str, key: str, **values: Any) -> tuple[str, str] | None:
    """What comes before and after the id in :func:`id_url`'s URL, or None where the
    placeholder is not found once (then only ``url_for`` knows)."""
    built = url_for(endpoint, **{key: _ID_PLACEHOLDER}, **values)
    head, found, tail = built.partition(str(_ID_PLACEHOLDER))
    if not found or str(_ID_PLACEHOLDER) in tail:
        return None
    return head, tail


def _prompted(field: Any, **attrs: Any) -> Markup:
    """Render a select; a required one with no answer yet starts on “— choose —”.

    Otherwise the browser shows the first choice as if it were the answer, and a
    hurried front desk files it without reading the question.
    """
    html = field(**attrs)
    if (not field.flags.required or field.data not in (None, "")
            or any(str(choice.value) == "" for choice in field.iter_choices())):
        return html  # answered, optional, or the plugin brings its own empty choice
    prompt = Markup('<option value="" selected>{}</option>').format(
        i18n.gettext("— Choose —"))
    head, tail = str(html).split(">", 1)  # attribute values are escaped: no ">"
    return Markup(f"{head}>{prompt}{tail}")
