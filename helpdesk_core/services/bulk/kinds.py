"""What every kind of import row shares: the context of one import and the Kind protocol."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import i18n
from ...errors import ValidationFailed
from ...models import User, Ward
from ...plugins import PluginRegistry
from .columns import Column


@dataclass
class Context:
    """One import: the session, the plugins, and lookups filled once, kept up to date."""

    session: Session
    registry: PluginRegistry
    now: dt.datetime
    wards: dict[str, Ward] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    new_accounts: list[User] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    def load(self) -> None:
        self.wards = {w.code: w for w in self.session.scalars(select(Ward))}
        self.users = {u.login: u for u in self.session.scalars(select(User))}

    def ward(self, code: str, column: str, required: bool = True) -> Ward | None:
        """The ward of *code*, or a row error on *column* when it is unknown."""
        code = (code or "").upper()
        if not code:
            if required:
                refuse(column, i18n.gettext("This column must not be empty."))
            return None
        if code not in self.wards:
            refuse(column, i18n.gettext("No ward has the code %(code)s.", code=code))
        return self.wards[code]


def refuse(column: str, message: str) -> None:
    raise ValidationFailed("Please check the highlighted answers.",
                           field_errors={column: [message]})


class Kind:
    """One kind of row: its sheet, columns, natural key, and how it is found and saved.

    ``fields`` maps a service's field names to this kind's column keys where they differ.
    """

    key: str = ""
    sheet: str = ""
    columns: tuple[Column, ...] = ()
    fields: dict[str, str] = {}

    def natural_key(self, values: dict[str, Any]) -> tuple:
        raise NotImplementedError

    def find(self, ctx: Context, values: dict[str, Any]) -> Any | None:
        """The existing object of this row (by natural key), or None."""
        raise NotImplementedError

    def current(self, ctx: Context, obj: Any) -> dict[str, Any]:
        """The object's values under the column keys, as ``parse`` would give them."""
        raise NotImplementedError

    def save(self, ctx: Context, obj: Any | None, values: dict[str, Any]) -> Any:
        """Create (*obj* None) or change the object through the services."""
        raise NotImplementedError

    def export(self, session: Session, registry: PluginRegistry) -> Iterable[dict[str, Any]]:
        """Every object of this kind, as values under the column keys."""
        raise NotImplementedError

    def same(self, ctx: Context, obj: Any, values: dict[str, Any]) -> bool:
        """Whether saving *values* would change nothing."""
        return self.current(ctx, obj) == values

    def column_of(self, field_name: str) -> str:
        key = self.fields.get(field_name, field_name)
        return key if any(c.key == key for c in self.columns) else self.columns[0].key
