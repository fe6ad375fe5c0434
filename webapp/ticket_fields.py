"""The ticket page's form fields as HTML, kept while they show nothing of the ticket.

Most fields on the page are the same empty boxes on every showing (a reason, a comment,
a file, the search): building their WTForms form and calling the ``field`` macro of
``_forms.html`` for each cost more than the rest of the page. They are rendered through
that macro once per app, language and shape, and the kept HTML is shown after that; a
field with a value or errors (a form sent back) is rendered each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable

from flask import current_app
from markupsafe import Markup
from wtforms import SelectChoice

from helpdesk_core import i18n
from helpdesk_core.models import Ticket, User
from helpdesk_core.services import queries, workflow

from .extensions import db
from .ticket_forms import (AttachmentForm, CommentForm, ReasonForm, SimilarForm, TemplateForm,
                           new_form_key)
from .web import today

KEPT_MAX = 256  # shapes kept per app (a few hundred bytes each); past it, start again
_EXTENSION = "ticket_fields"


def field_html(field: Any, hint: str | None = None) -> Markup:
    """What ``{{ field(field, hint=hint) }}`` writes in a template (``_forms.html``)."""
    macro = current_app.jinja_env.get_template("_forms.html").module.field
    return Markup(macro(field, hint=hint))


def kept(key: Hashable, build: Callable[[], Markup]) -> Markup:
    """The HTML kept for *key* in the current language, built by *build* the first time.

    *key* must name everything the HTML depends on besides the app and the language.
    """
    store: dict[Hashable, Markup] = current_app.extensions.setdefault(_EXTENSION, {})
    full = (i18n.get_locale(), key)
    html = store.get(full)
    if html is None:
        if len(store) >= KEPT_MAX:
            store.clear()
        html = store[full] = build()
    return html


def template_hint(message: str) -> Markup:
    """*message* translated as the templates' ``_()`` gives it (trusted catalog text)."""
    return Markup(i18n.gettext(message))


# Forms shown empty: the template writes the page's one CSRF token into each of them (the
# token CSRFProtect checks), so they build no token field of their own (it cost more than
# the rest of the form). Forms sent back with errors are shown as they came.
SHOWN = {"csrf": False}


@dataclass(frozen=True)
class Picker:
    """The checklist picker's field, and whether it came back with errors (shown open)."""

    html: Markup
    errors: bool


def picker(category: str, templates: list[Any], key: str | None,
           posted: TemplateForm | None = None) -> Picker:
    """The checklist picker of *category*'s *templates* on *key* (the one in use, else
    the one suggested), or *posted* as it came back."""
    def build(form: TemplateForm) -> Markup:
        form.template.choices = [SelectChoice(t.key, str(t.title)) for t in templates]
        return field_html(form.template)

    if posted is not None:
        return Picker(build(posted), bool(posted.errors))
    shape = ("template", category, key, tuple(t.key for t in templates))
    return Picker(kept(shape, lambda: build(TemplateForm(
        formdata=None, data={"template": key} if key else None, meta=SHOWN))), False)


def search_field(args: Any) -> tuple[Markup, str]:
    """The similar tickets' search box and the words it holds (*args*: the query string)."""
    if "q" not in args:
        return kept(("similar",), lambda: field_html(SimilarForm(formdata=None).q)), ""
    form = SimilarForm(args)
    return field_html(form.q), form.q.data or ""


def photo_field(posted: AttachmentForm | None = None) -> Markup:
    """The file input of the attachments form, or *posted*'s as it came back."""
    if posted is not None:
        return field_html(posted.photo)
    return kept(("photo",), lambda: field_html(AttachmentForm(formdata=None, meta=SHOWN).photo))


@dataclass(frozen=True)
class CommentFields:
    """The comment form's one-time key and its fields' HTML (*internal*: staff's box)."""

    form_key: str
    body: Markup
    internal: Markup


def comment_fields(posted: CommentForm | None = None) -> CommentFields:
    """A new comment form's fields (a new key each time), or *posted*'s as it came back."""
    if posted is not None:
        return CommentFields(posted.form_key._value(), field_html(posted.body),
                             field_html(posted.internal))
    return CommentFields(
        new_form_key(),
        kept(("comment", "body"), lambda: field_html(CommentForm(formdata=None, meta=SHOWN).body)),
        kept(("comment", "internal"),
             lambda: field_html(CommentForm(formdata=None, meta=SHOWN).internal)))


# The actions whose form has a field (a reason, a student); the others are a button.
NEEDS_REASON = frozenset(k for k, v in workflow.ACTIONS.items() if v.needs_reason)
FORM_ACTIONS = NEEDS_REASON | {"assign"}
_HISTORY_HINT = i18n.N_("Required: it is kept in the history.")
_RESOLVE_HINT = i18n.N_("Required: the reporter reads it before confirming.")


@dataclass(frozen=True)
class ActionFields:
    """The fields of the shown actions that have some (:data:`FORM_ACTIONS`): their HTML
    by action, and the actions whose form came back with a text or errors (shown open)."""

    html: dict[str, Markup]
    opened: frozenset[str]


def _reason_form(name: str, form: ReasonForm | None,
                 students: list[User] | None) -> ReasonForm:
    """*form* (sent back) or a new one, with what the page adds: the students to assign
    to, the resolve box's own label."""
    form = form or ReasonForm(prefix=name, formdata=None)
    if name == "assign":
        form.assignee.choices = [SelectChoice(0, i18n.gettext("Choose a student"))] + [
            SelectChoice(s.id, s.name) for s in students or ()]
    if name == "resolve":  # staff read it before they confirm: say what it is for
        form.reason.label.text = i18n.gettext("What was done")
    return form


def _action_html(name: str, form: ReasonForm) -> Markup:
    """What the page writes for action *name*'s field: the student, else the reason."""
    if name == "assign":
        return field_html(form.assignee)
    return field_html(form.reason, template_hint(
        _RESOLVE_HINT if name == "resolve" else _HISTORY_HINT))


def action_fields(ticket: Ticket, actions: list[str],
                  posted: dict[str, ReasonForm] | None = None) -> ActionFields:
    """The fields of *actions*, *posted* ones (shown again with their errors) in place of
    new ones. An empty reason box is the same on every ticket: its HTML is kept."""
    html: dict[str, Markup] = {}
    opened: set[str] = set()
    for name in actions:
        if name not in FORM_ACTIONS:
            continue
        sent = (posted or {}).get(name)
        if sent is None and name != "assign":
            html[name] = kept(("reason", name), lambda name=name: _action_html(
                name, _reason_form(name, None, None)))
            continue
        students = (queries.ward_students(db.session, ticket.ward_id, today())
                    if name == "assign" else None)
        form = _reason_form(name, sent, students)
        if form.errors or form.reason.data:
            opened.add(name)
        html[name] = _action_html(name, form)
    return ActionFields(html, frozenset(opened))


