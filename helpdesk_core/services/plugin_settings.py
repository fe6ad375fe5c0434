"""Plugin settings: defaults from the plugin's form, validated changes, secrets kept."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any, Mapping

from sqlalchemy.orm import Session
from wtforms import Form, PasswordField

from .. import i18n
from ..errors import NotFound, ValidationFailed
from ..models import PluginSetting
from ..plugins import PluginRegistry


def _form(form_class: type[Form], data: Mapping[str, Any] | None = None) -> Form:
    return form_class(data=dict(data) if data is not None else None,
                      meta={"csrf": False,
                            "get_translations": lambda _: i18n.WTFormsTranslations()})


def secret_fields(form_class: type[Form]) -> set[str]:
    """Names of the fields never shown back (password fields)."""
    return {name for name, field in _form(form_class)._fields.items()
            if isinstance(field, PasswordField)}


def _settings_form(registry: PluginRegistry, name: str) -> type[Form]:
    form_class = registry.settings_forms.get(name)
    if form_class is None:
        raise NotFound("This plugin has no settings.")
    return form_class


def settings_of(session: Session, registry: PluginRegistry, name: str) -> dict[str, Any]:
    """The settings of plugin *name*: its form's defaults, overlaid with what an
    administrator saved (fields the form no longer has are left out). Secrets included:
    this is for the plugin, not for display."""
    form_class = _settings_form(registry, name)
    values = {k: v for k, v in _form(form_class).data.items() if k != "csrf_token"}
    row = session.get(PluginSetting, name)
    stored = row.settings if row is not None and isinstance(row.settings, dict) else {}
    values.update({k: v for k, v in stored.items() if k in values})
    return values


def _json_safe(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def save_settings(session: Session, registry: PluginRegistry, name: str,
                  data: Mapping[str, Any]) -> PluginSetting:
    """Validate *data* with plugin *name*'s settings form and store it.

    A secret (password field) sent empty keeps its stored value.

    :raises NotFound: the plugin is not loaded or has no settings form.
    :raises ValidationFailed: field errors keyed by the form's field names; nothing stored.
    """
    form_class = _settings_form(registry, name)
    current = settings_of(session, registry, name)
    data = dict(data)
    for secret in secret_fields(form_class):
        if not data.get(secret):
            data[secret] = current.get(secret)
    form = _form(form_class, data)
    if not form.validate():
        raise ValidationFailed("Please check the highlighted answers.",
                               field_errors={k: [str(e) for e in v]
                                             for k, v in form.errors.items()})
    row = session.get(PluginSetting, name)
    if row is None:
        row = PluginSetting(name=name, enabled=True, settings={})
        session.add(row)
    row.settings = {k: _json_safe(v) for k, v in form.data.items() if k != "csrf_token"}
    session.flush()
    return row
