"""Channel settings: what administrators save for each notification channel, secrets
encrypted with the application's secret.

A field whose name ends in ``password``, ``secret``, ``token`` or ``key`` (the channel
contract, :class:`~helpdesk_core.channels.Channel`) is stored as a Fernet token
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key derived from
``SECRET_KEY`` with HKDF, and never shown back. Changing ``SECRET_KEY`` makes the stored
secrets unreadable: they then count as not set and must be typed again. The same
helpers (:func:`encrypt`, :func:`decrypt`) keep webhook endpoints' secrets.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy.orm import Session
from wtforms import Form

from .. import i18n
from ..errors import NotFound, ValidationFailed
from ..models import ChannelSetting, utcnow
from ..plugins import PluginRegistry

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

SECRET_SUFFIXES = ("password", "secret", "token", "key")
_PREFIX = "enc:"  # marks an encrypted value in the JSON column


def _fernet(secret_key: str) -> Fernet:
    """The Fernet of *secret_key*: a 32-byte key derived with HKDF-SHA256."""
    # cryptography: loaded when a secret is read or written, not by every web worker.
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    if not secret_key:
        raise ValueError("SECRET_KEY is empty: channel secrets cannot be encrypted")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"ward-helpdesk channel settings").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt(secret_key: str, value: str) -> str:
    """*value* encrypted for storage (``"enc:<Fernet token>"``); empty stays empty."""
    if not value:
        return ""
    return _PREFIX + _fernet(secret_key).encrypt(value.encode()).decode()


def decrypt(secret_key: str, stored: str) -> str:
    """The plain value of :func:`encrypt`'s output; "" when empty or unreadable (a
    changed ``SECRET_KEY``)."""
    if not stored or not stored.startswith(_PREFIX):
        return ""
    from cryptography.fernet import InvalidToken
    try:
        return _fernet(secret_key).decrypt(stored[len(_PREFIX):].encode()).decode()
    except InvalidToken:
        return ""


def is_secret(name: str) -> bool:
    """True for a field kept encrypted and never shown back."""
    return name.lower().endswith(SECRET_SUFFIXES)


def _form(form_class: type[Form], data: Mapping[str, Any] | None = None) -> Form:
    return form_class(data=dict(data) if data is not None else None,
                      meta={"csrf": False,
                            "get_translations": lambda _: i18n.WTFormsTranslations()})


def _form_class(registry: PluginRegistry, channel: str) -> type[Form]:
    known = registry.channels.get(channel)
    if known is None or known.settings_form is None:
        raise NotFound("This channel has no settings.")
    return known.settings_form


def _json_safe(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def settings_of(session: Session, registry: PluginRegistry, channel: str,
                secret_key: str) -> dict[str, Any]:
    """The channel's settings for its ``send``: the form's defaults, overlaid with what
    was saved, secrets decrypted. A channel without a settings form gets ``{}``."""
    known = registry.channels.get(channel)
    if known is None:
        raise NotFound("This channel has no settings.")
    if known.settings_form is None:
        return {}
    values = {k: v for k, v in _form(known.settings_form).data.items() if k != "csrf_token"}
    row = session.get(ChannelSetting, channel)
    stored = row.settings if row is not None and isinstance(row.settings, dict) else {}
    for name, value in stored.items():
        if name in values:
            values[name] = decrypt(secret_key, value) if is_secret(name) else value
    return values


def shown_settings(session: Session, registry: PluginRegistry, channel: str,
                   secret_key: str) -> tuple[dict[str, Any], set[str]]:
    """Settings for the administrators' form: secrets blanked, and which of them are set."""
    values = settings_of(session, registry, channel, secret_key)
    stored = {name for name, value in values.items() if is_secret(name) and value}
    return {k: ("" if is_secret(k) else v) for k, v in values.items()}, stored


def save_settings(session: Session, registry: PluginRegistry, channel: str,
                  data: Mapping[str, Any], secret_key: str) -> ChannelSetting:
    """Validate *data* with the channel's settings form and store it, secrets encrypted.

    A secret sent empty keeps its stored value.

    :raises NotFound: no such channel, or it has no settings form.
    :raises ValidationFailed: field errors keyed by field name; nothing stored.
    """
    form_class = _form_class(registry, channel)
    current = settings_of(session, registry, channel, secret_key)
    data = dict(data)
    for name in list(current):
        if is_secret(name) and not data.get(name):
            data[name] = current.get(name)
    form = _form(form_class, data)
    if not form.validate():
        raise ValidationFailed("Please check the highlighted answers.",
                               field_errors={k: [str(e) for e in v]
                                             for k, v in form.errors.items()})
    row = session.get(ChannelSetting, channel)
    before = dict(row.settings) if row is not None and isinstance(row.settings, dict) else {}
    stored: dict[str, Any] = {}
    for name, value in form.data.items():
        if name == "csrf_token":
            continue
        if not is_secret(name):
            stored[name] = _json_safe(value)
        elif str(value or "") == current.get(name) and name in before:
            stored[name] = before[name]  # unchanged: keep its ciphertext (a new one differs)
        else:
            stored[name] = encrypt(secret_key, str(value or ""))
    if row is None:
        row = ChannelSetting(channel=channel, settings={})
        session.add(row)
    if stored != before:
        row.settings = stored
        row.updated_at = utcnow()
    session.flush()
    return row
