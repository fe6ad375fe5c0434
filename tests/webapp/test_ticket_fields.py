"""The ticket page's kept form fields (webapp/ticket_fields.py): what the field macro
writes, in the reader's language, never a form someone sent back."""

from __future__ import annotations

from flask import render_template_string

from webapp.ticket_forms import CommentForm, ReasonForm

REASON = ('{% from "_forms.html" import field %}'
          '{{ field(f.reason, hint=_("Required: it is kept in the history.")) }}')
BODY = '{% from "_forms.html" import field %}{{ field(f.body) }}'


def page(client, ticket_id: int) -> str:
    response = client.get(f"/tickets/{ticket_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_kept_fields_are_what_the_field_macro_writes(app, client, world, login):
    login("student_a")
    client.post(f"/tickets/{world.ticket_a}/do/claim")
    for _ in range(2):  # the first showing keeps them, the second shows the kept ones
        html = page(client, world.ticket_a)
        with app.test_request_context("/"):
            reason = render_template_string(
                REASON, f=ReasonForm(prefix="escalate", formdata=None))
            comment = render_template_string(BODY, f=CommentForm(formdata=None))
        assert 'for="escalate-reason"' in reason and reason in html
        assert 'for="body"' in comment and comment in html


def test_a_form_sent_back_is_shown_as_sent_and_the_next_showing_is_empty(
        client, world, login):
    login("student_a")
    client.post(f"/tickets/{world.ticket_a}/do/claim")
    page(client, world.ticket_a)  # the empty box is kept
    typed = "Mất mạng cả phường " * 300  # longer than a reason may be
    response = client.post(f"/tickets/{world.ticket_a}/do/escalate",
                           data={"escalate-reason": typed})
    sent_back = response.get_data(as_text=True)
    assert response.status_code == 400
    assert typed.strip() in sent_back and 'id="escalate-reason-err"' in sent_back
    assert 'class="action-details details-escalate" open' in sent_back
    html = page(client, world.ticket_a)
    assert "Mất mạng cả phường" not in html and 'id="escalate-reason-err"' not in html
    assert 'class="action-details details-escalate">' in html


def test_kept_fields_follow_the_reader_language(client, world, login):
    login("student_a")
    client.post(f"/tickets/{world.ticket_a}/do/claim")
    html = page(client, world.ticket_a)
    assert '<label for="escalate-reason">Lý do</label>' in html
    client.post("/language/en", data={"next": "/"})
    html = page(client, world.ticket_a)
    assert '<label for="escalate-reason">Reason</label>' in html
    assert "Required: it is kept in the history." in html and "Lý do" not in html
    assert '<label for="body">Comment</label>' in html
