"""The Zalo page: a user links the Zalo id the ward's OA knows them by (the opt-in);
an administrator can set it for anyone and sees who is linked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import column, select, table
from wtforms import Form, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from helpdesk_core import PageRequest, Redirect, Render, translator

from . import channel
from .tables import links

_ = translator(__name__).gettext
_l = translator(__name__).lazy_gettext

# The core's accounts, read by name only (a plugin imports no core models): who is who
# on the administrator's list, and the login an administrator types.
_accounts = table("user_account", column("id"), column("login"), column("name"))


class LinkForm(Form):
    """A Zalo id for the OA: for oneself, or (administrators) for the login given."""

    action = HiddenField(default="link")
    login = StringField(_l("Login"), validators=[Length(max=80)])
    zalo_user_id = StringField(
        _l("Zalo user id for the ward's OA"),
        validators=[DataRequired(), Length(max=40),
                    Regexp(channel.ZALO_ID, message=_l("A Zalo user id is made of digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"})


class UnlinkForm(Form):
    action = HiddenField(default="unlink")


def link(request: PageRequest, **_values):
    """Show and change the user's link; administrators also any user's."""
    admin = request.user.role == "admin"
    form = request.bind(LinkForm)
    unlink_form = request.bind(UnlinkForm)
    if request.method == "POST" and request.form.get("action") == "unlink":
        if unlink_form.validate():
            channel.unlink(request.session, request.user.id)
            request.session.commit()
            return Redirect("link")
    elif request.method == "POST" and form.validate():
        target = request.user.id
        login = (form.login.data or "").strip()
        if admin and login:
            target = request.session.scalar(select(_accounts.c.id).where(
                _accounts.c.login == login))
            if target is None:
                form.login.errors = list(form.login.errors) + [_("No account has this login.")]
        if target is not None:
            channel.link(request.session, target, form.zalo_user_id.data.strip(),
                         request.user.id)
            request.session.commit()
            return Redirect("link")
    mine = request.session.scalar(select(links.c.zalo_user_id).where(
        links.c.user_id == request.user.id))
    linked = []
    if admin:
        linked = [(row.login, row.name, row.zalo_user_id,
                   dt.datetime.fromtimestamp(row.linked_at, dt.timezone.utc))
                  for row in request.session.execute(
                      select(_accounts.c.login, _accounts.c.name, links.c.zalo_user_id,
                             links.c.linked_at)
                      .join(_accounts, _accounts.c.id == links.c.user_id)
                      .order_by(_accounts.c.login))]
    if not admin:
        del form.login
    return Render("zalo/link.html", {"form": form, "unlink_form": unlink_form, "mine": mine,
                                     "admin": admin, "linked": linked},
                  status=400 if request.method == "POST" else 200)
