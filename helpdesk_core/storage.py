"""A plugin's own tables: where its Alembic migrations are, and what they create."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PluginStorage:
    """A plugin's own tables and their Alembic migrations.

    :param versions: the folder of the plugin's Alembic revision files. The first one
        has ``branch_labels = ("<plugin>",)`` and ``down_revision = None`` (add
        ``depends_on = "0001"`` when a table refers to a core table).
    :param metadata: the plugin's ``sqlalchemy.MetaData`` (for ``--autogenerate`` and
        tests); its tables' names start with ``"<plugin>_"``.
    """

    versions: str
    metadata: Any = None

    def version_table(self, plugin: str) -> str:
        """The table recording the plugin's revision: its own, so a plugin removed
        later leaves no revision the core cannot find."""
        return f"alembic_version_{plugin}"


def valid_storage(plugin: str, storage: Any) -> bool:
    """Whether *storage* is a :class:`PluginStorage` with an existing folder and tables
    named after *plugin*."""
    if not isinstance(storage, PluginStorage) or not os.path.isdir(str(storage.versions)):
        return False
    tables = getattr(storage.metadata, "tables", {}) if storage.metadata is not None else {}
    return all(name.startswith(f"{plugin}_") for name in tables)
