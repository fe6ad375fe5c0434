"""The models' partial indexes are partial on both engines (models.partial_index: the
PostgreSQL WHERE is added only when the index is created there)."""

from __future__ import annotations

from sqlalchemy import text

from helpdesk_core.models import Base


def _partial_index_names() -> set[str]:
    return {index.name for table in Base.metadata.tables.values() for index in table.indexes
            if "partial_where" in index.info}


def test_every_partial_index_is_created_with_its_where(database):
    names = _partial_index_names()
    assert {"ix_ticket_open_queue", "ix_ticket_waiting", "uq_ticket_open_health_asset",
            "uq_incident_open_service"} <= names
    with database.engine.connect() as conn:
        if database.kind == "postgresql":
            rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes"))
        else:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        made = {name: sql for name, sql in rows if name in names}
    assert set(made) == names
    assert all(" WHERE " in sql.upper() for sql in made.values()), made
