"""WTForms widgets that keep what they rendered, for forms shown on every request.

The ticket page shows the same empty reason boxes and the same checklist picker each
time; WTForms builds each attribute and option with ``Markup.format`` (and inspects the
option renderer's signature on every select). These widgets render through WTForms the
first time and then return the kept HTML for the same field name, attributes, flags and
value (the options, for a select), so the output is WTForms' own, byte for byte.
"""

from __future__ import annotations

from typing import Any, Hashable

from markupsafe import Markup
from wtforms.widgets import CheckboxInput, FileInput, Select, TextArea, TextInput

KEPT_MAX = 512  # field shapes kept per process (a few KB each); past it, start again

_kept: dict[Hashable, Markup] = {}


def _render(key: Hashable | None, field: Any, kwargs: dict[str, Any], render: Any) -> Markup:
    """The kept HTML for *key*, rendering it with *render* the first time."""
    if key is None:
        return render(field, **kwargs)
    try:
        return _kept[key]
    except KeyError:
        pass
    except TypeError:  # an attribute value that cannot be a key (a list): just render
        return render(field, **kwargs)
    html = render(field, **kwargs)
    if len(_kept) >= KEPT_MAX:
        _kept.clear()
    _kept[key] = html
    return html


def _shape(widget: Any, field: Any, kwargs: dict[str, Any]) -> tuple:
    """What a widget's output depends on besides the value: the field's id, name, flags
    and the attributes given when rendering it."""
    return (type(widget), getattr(widget, "multiple", None), field.id, field.name,
            tuple(sorted(vars(field.flags).items())), tuple(sorted(kwargs.items())))


class KeptTextArea(TextArea):
    """:class:`wtforms.widgets.TextArea`, kept while the box is empty (a re-shown text,
    personal data, is rendered each time and never kept)."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        key = None if field._value() else _shape(self, field, kwargs)
        return _render(key, field, kwargs, super().__call__)


class KeptSelect(Select):
    """:class:`wtforms.widgets.Select` (without option groups), kept per options: their
    values, labels (in the request's language), which one is selected."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        key = None
        if not field.has_groups():
            options = tuple((c.value, str(c.label), c.selected,
                             tuple(sorted((c.render_kw or {}).items())))
                            for c in field.iter_choices())
            key = (_shape(self, field, kwargs), options)
        return _render(key, field, kwargs, super().__call__)


class KeptFileInput(FileInput):
    """:class:`wtforms.widgets.FileInput`: a file input never shows a value, so its HTML
    is the field's shape alone."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        return _render(_shape(self, field, kwargs), field, kwargs, super().__call__)


class KeptCheckbox(CheckboxInput):
    """:class:`wtforms.widgets.CheckboxInput`, kept while it shows no sent value."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        key = None if field.raw_data else (
            _shape(self, field, kwargs), bool(getattr(field, "checked", field.data)))
        return _render(key, field, kwargs, super().__call__)


class KeptTextInput(TextInput):
    """:class:`wtforms.widgets.TextInput`, kept while it is empty (a typed search is
    rendered each time and never kept)."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        key = None if field._value() or "value" in kwargs else _shape(self, field, kwargs)
        return _render(key, field, kwargs, super().__call__)
