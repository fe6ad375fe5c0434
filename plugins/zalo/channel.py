"""The Zalo OA channel: a text message from the ward's Official Account to each user
who follows it and linked their Zalo id (pages.py), through client.py."""

from __future__ import annotations

import re
import time
from typing import Any, Mapping, Sequence

from sqlalchemy import delete, select
from wtforms import Form, PasswordField, StringField, URLField
from wtforms.validators import URL, Length, Regexp

from helpdesk_core import DeliveryError, Message, mask_personal_data, translator

from . import client
from .tables import links

_l = translator(__name__).lazy_gettext

KEY = "zalo"
ZALO_ID = r"^[0-9]{1,40}$"  # Zalo's user ids for an OA are long decimal numbers


def _when_given(check: Any) -> Any:
    """Run *check* only on a non-empty value: ``Optional()`` would also skip it when the
    form validates ``data=`` (stored settings), which has no raw input."""
    def validate(form: Form, field: Any) -> None:
        if (field.data or "").strip():
            check(form, field)
    return validate


class ZaloSettingsForm(Form):
    """Credentials of the OA's app (developers.zalo.me); the secret key and refresh
    token are stored encrypted and never shown back (the outbox's settings page)."""

    app_id = StringField(_l("App ID"), validators=[Length(max=40), _when_given(
                             Regexp(r"^[0-9]+$", message=_l("Digits only.")))])
    secret_key = PasswordField(_l("App secret key"), validators=[Length(max=200)])
    refresh_token = PasswordField(
        _l("OA refresh token"), validators=[Length(max=2000)],
        description=_l("From the OA's authorisation of the app. It is renewed by itself "
                       "while the channel is used; paste a new one only if Zalo refuses it."))
    oauth_url = URLField(_l("Zalo OAuth address"), default=client.OAUTH_URL,
                         validators=[_when_given(URL(require_tld=False)), Length(max=200)])
    api_url = URLField(_l("Zalo OA API address"), default=client.API_URL,
                       validators=[_when_given(URL(require_tld=False)), Length(max=200)])


def text_of(message: Message) -> str:
    """One plain text: the subject, the body and the link (Zalo shows links)."""
    parts = [mask_personal_data(message.subject), mask_personal_data(message.text or "")]
    if message.url:
        parts.append(message.url)
    return "\n".join(p for p in parts if p)[:client.TEXT_MAX]


def send(message: Message, settings: Mapping[str, Any]) -> None:
    """Send *message* to the Zalo user id in ``message.address``."""
    if not re.fullmatch(ZALO_ID, message.address or ""):
        raise DeliveryError(str(_l("This is not a Zalo user id.")), permanent=True)
    client.send_text(client.Credentials.of(settings), message.address, text_of(message))


def addresses(session: Any, user: Any) -> list[str]:
    """The user's Zalo id for the OA, if they linked one."""
    found = session.scalar(select(links.c.zalo_user_id).where(links.c.user_id == user.id))
    return [found] if found else []


def addresses_many(session: Any, users: Sequence[Any]) -> dict[int, list[str]]:
    """:func:`addresses` of several users, in one query."""
    if not users:
        return {}
    rows = session.execute(select(links.c.user_id, links.c.zalo_user_id).where(
        links.c.user_id.in_([user.id for user in users])))
    return {user_id: [zalo_id] for user_id, zalo_id in rows if zalo_id}


def forget(session: Any, address: str) -> None:
    """The user unfollowed the OA: drop the link (they link again after following)."""
    session.execute(delete(links).where(links.c.zalo_user_id == address))


def link(session: Any, user_id: int, zalo_user_id: str, by: int | None) -> None:
    """Store *user_id*'s Zalo id (replacing any); the caller commits."""
    session.execute(delete(links).where(links.c.user_id == user_id))
    session.execute(links.insert().values(user_id=user_id, zalo_user_id=zalo_user_id,
                                          linked_at=int(time.time()), linked_by=by))


def unlink(session: Any, user_id: int) -> bool:
    """Drop *user_id*'s Zalo id; False when there was none. The caller commits."""
    return bool(session.execute(delete(links).where(links.c.user_id == user_id)).rowcount)
