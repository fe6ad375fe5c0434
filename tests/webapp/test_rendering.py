"""The templates' helpers (webapp/rendering.py): the same text as Flask-Babel's in both
locales, read from the request's locale."""

from __future__ import annotations

import datetime as dt

import flask_babel
import pytest
from flask import render_template_string

from helpdesk_core import i18n
from webapp import rendering

MOMENTS = [
    dt.datetime(2026, 3, 4, 17, 5, tzinfo=dt.timezone.utc),  # the next day in Hà Nội
    dt.datetime(2026, 12, 31, 16, 59, 30, tzinfo=dt.timezone.utc),
    dt.datetime(2026, 1, 9, 2, 0),  # naive: UTC, as the database's columns
]


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
@pytest.mark.parametrize("moment", MOMENTS)
def test_date_filters_match_flask_babel_in_each_locale(app, locale, moment):
    with app.test_request_context(), i18n.use_locale(locale), flask_babel.force_locale(locale):
        page = render_template_string("{{ m|dt }}|{{ m|d }}|{{ day|d }}", m=moment,
                                      day=moment.date())
        assert page == "|".join([flask_babel.format_datetime(moment, "dd/MM/yyyy HH:mm"),
                                 flask_babel.format_date(moment, "dd/MM/yyyy"),
                                 flask_babel.format_date(moment.date(), "dd/MM/yyyy")])


def test_dates_are_shown_in_the_centres_time_zone(app):
    with app.test_request_context():
        page = render_template_string("{{ m|dt }} {{ m|d }} {{ none|dt }}{{ none|d }}",
                                      m=MOMENTS[0], none=None)
    assert page == "05/03/2026 00:05 05/03/2026 "
    assert rendering.format_datetime(MOMENTS[1], "UTC") == "31/12/2026 16:59"


@pytest.mark.parametrize("locale, texts", [
    ("vi", ["Quá hạn", "Chờ tiếp nhận", "Có công dân đang chờ"]),
    ("en", ["Overdue", "New", "A citizen is waiting"]),
])
def test_templates_translate_in_the_locale_the_request_set(app, locale, texts):
    class Waiting:
        citizen_waiting = True

    with app.test_request_context(), i18n.use_locale(locale):
        page = render_template_string(
            "{{ _('Overdue') }}|{{ status_badge('new') }}|{{ waiting_badge(t) }}"
            "|{{ sla_badge('at_risk') }}|{{ sla_badge('') }}|{{ current_locale }}", t=Waiting())
    overdue, status, waiting, at_risk, nothing, current = page.split("|")
    assert overdue == texts[0]
    assert status == f'<span class="badge status-new">{texts[1]}</span>'
    assert waiting == ('<span class="badge badge-waiting"><span aria-hidden="true">👤 </span>'
                       f"{texts[2]}</span>")
    assert at_risk.startswith('<span class="badge badge-risk">') and nothing == ""
    assert current == locale


def test_a_badge_escapes_what_it_is_given(app):
    with app.test_request_context():
        assert "<b>" not in str(rendering.status_badge("<b>"))


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
def test_decimal_signs_are_cldrs_and_cover_every_locale(locale):
    """The table spares loading a locale's CLDR data; it must say what babel says."""
    from babel.numbers import get_decimal_symbol

    assert rendering.DECIMAL_SIGNS[locale] == get_decimal_symbol(locale)
    with i18n.use_locale(locale):
        assert rendering.format_percent(95.25) == f"95{get_decimal_symbol(locale)}2 %"


def test_id_url_gives_what_url_for_gives(app):
    from flask import url_for
    with app.test_request_context("/"):
        show = rendering.id_url("tickets.show", "ticket_id")
        claim = rendering.id_url("tickets.act", "ticket_id", action="claim")
        for ticket_id in (1, 7, 42, 1234567, 2_000_000_010):
            assert show(ticket_id) == url_for("tickets.show", ticket_id=ticket_id)
            assert claim(ticket_id) == url_for("tickets.act", ticket_id=ticket_id,
                                               action="claim")
    with app.test_request_context("/", base_url="http://example.test/helpdesk/"):
        assert rendering.id_url("tickets.show", "ticket_id")(5) == "/helpdesk/tickets/5"


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
@pytest.mark.parametrize("moment", MOMENTS + [None])
def test_dt_digits_gives_what_dt_gives(app, locale, moment):
    """The lists' fast date filter: the same text as |dt in each locale and time zone."""
    with app.test_request_context(), i18n.use_locale(locale):
        assert (render_template_string("{{ m|dt_digits }}", m=moment)
                == render_template_string("{{ m|dt }}", m=moment))
        for zone in ("UTC", "Asia/Ho_Chi_Minh", "America/St_Johns"):
            assert (rendering.format_datetime_digits(moment, zone)
                    == rendering.format_datetime(moment, zone))


def test_a_memo_computes_each_key_once(app):
    calls = []

    def badge(status):
        calls.append(status)
        return rendering.status_badge(status)

    with app.test_request_context(), i18n.use_locale("en"):
        page = render_template_string(
            "{% set badges = memo(badge) %}{% for s in statuses %}{{ badges[s] }}|{% endfor %}",
            badge=badge, statuses=["new", "new", "<b>", "new"])
    assert calls == ["new", "<b>"]
    new = '<span class="badge status-new">New</span>'
    assert page.split("|")[:4] == [new, new, str(rendering.status_badge("<b>")), new]
    assert "<b>" not in page


def test_gettext_without_variables_still_reads_its_text_as_a_format(app):
    """``_()`` skips ``%`` where the text has no ``%``; a ``%%`` still comes out as ``%``,
    as Jinja's newstyle gettext gives it."""
    with app.test_request_context(), i18n.use_locale("en"):
        assert (render_template_string("{{ _('100%% sure') }}|{{ _('No %% here: %(n)s', n='<b>') }}"
                                       "|{{ _('Plain <text>') }}")
                == "100% sure|No % here: &lt;b&gt;|Plain <text>")


def test_the_queues_row_format_keeps_other_braces_and_percent_signs():
    from webapp.queue_table import to_format

    fmt = to_format('<td title="{other} 5%">{title}</td>{number}')
    assert fmt == '<td title="{other} 5%%">%(title)s</td>%(number)s'
    assert fmt % {"title": "%(number)s {title}", "number": 7} == (
        '<td title="{other} 5%">%(number)s {title}</td>7')
