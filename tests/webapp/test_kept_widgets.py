"""The kept widgets (webapp/kept_widgets.py) render exactly what WTForms renders, in each
locale, and never keep a typed text."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice
from wtforms.widgets import CheckboxInput, FileInput, Select, TextArea, TextInput

from helpdesk_core import i18n
from webapp import kept_widgets
from webapp.ticket_forms import (AttachmentForm, CommentForm, ReasonForm, SimilarForm,
                                 TemplateForm)


def plain(field, widget, **attrs):
    """The field as WTForms' own widget renders it."""
    kept, field.widget = field.widget, widget
    try:
        return str(field(**attrs))
    finally:
        field.widget = kept


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
def test_kept_widgets_render_as_wtforms_does(app, locale):
    with app.test_request_context(), i18n.use_locale(locale):
        for _ in range(2):  # the first rendering keeps, the second reads what was kept
            for name in ("escalate", "resolve"):
                form = ReasonForm(prefix=name, formdata=None)
                assert str(form.reason()) == plain(form.reason, TextArea())
                attrs = {"aria-invalid": "true", "aria-describedby": "x-err"}
                assert str(form.reason(**attrs)) == plain(form.reason, TextArea(), **attrs)
            comment = CommentForm(formdata=None)
            assert str(comment.body()) == plain(comment.body, TextArea())
            for ticked in (False, True):
                comment.internal.data = ticked
                assert str(comment.internal()) == plain(comment.internal, CheckboxInput())
            for typed in ({}, {"q": "máy in"}):
                search = SimilarForm(MultiDict(typed)).q
                assert str(search()) == plain(search, TextInput())
            photo = AttachmentForm(formdata=None).photo
            attrs = {"data-max-bytes": 5, "data-too-large": i18n.gettext("Comment")}
            assert str(photo(**attrs)) == plain(photo, FileInput(), **attrs)
            for chosen in (None, "b", "a"):
                form = TemplateForm(formdata=None, data={"template": chosen} if chosen else None)
                form.template.choices = [SelectChoice("a", i18n.gettext("Comment")),
                                         SelectChoice("b", "<b> & \"c\"")]
                assert str(form.template()) == plain(form.template, Select())


def test_a_typed_text_is_rendered_each_time_and_not_kept(app):
    with app.test_request_context():
        kept_widgets._kept.clear()
        form = ReasonForm(MultiDict({"cancel-reason": "Số điện thoại 0912 345 678"}),
                          prefix="cancel")
        html = str(form.reason())
        assert "0912 345 678" in html and html == plain(form.reason, TextArea())
        assert not kept_widgets._kept
        empty = ReasonForm(prefix="cancel", formdata=None)
        assert "0912" not in str(empty.reason()) and len(kept_widgets._kept) == 1
