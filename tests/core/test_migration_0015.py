"""Migration 0015 merges a device's open health tickets into its oldest, then indexes them."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, Table, select
from sqlalchemy.exc import IntegrityError

from helpdesk_core.db import make_engine

from .test_migration_0002 import T0, filled
from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def test_a_devices_open_health_tickets_become_one(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
    engine = make_engine(empty_database_url)
    when = T0.replace(tzinfo=None) if engine.dialect.name == "sqlite" else T0
    try:
        metadata = MetaData()
        ward = Table("ward", metadata, autoload_with=engine)
        asset = Table("asset", metadata, autoload_with=engine)
        check = Table("asset_check", metadata, autoload_with=engine)
        ticket = Table("ticket", metadata, autoload_with=engine)
        with engine.begin() as conn:
            conn.execute(ward.insert().values(filled(ward, {"id": 1, "code": "A", "name": "A"},
                                                     when)))
            for asset_id in (1, 2):
                conn.execute(asset.insert().values(filled(asset, {
                    "id": asset_id, "ward_id": 1, "category": "network", "kind": "router",
                    "name": f"portal {asset_id}"}, when)))
            # Asset 1: HTTP and certificate checks, each with its open ticket (the bug).
            for check_id, asset_id in ((1, 1), (2, 1), (3, 2)):
                conn.execute(check.insert().values(filled(check, {
                    "id": check_id, "asset_id": asset_id, "check_type": "http",
                    "config": {}, "state_changes": [], "timeout_seconds": 2.0}, when)))
            for seq, (asset_id, check_id, status) in enumerate(
                    ((1, 1, "new"), (1, 2, "assigned"), (1, 1, "closed"), (2, 3, "new")),
                    start=1):
                conn.execute(ticket.insert().values(filled(ticket, {
                    "id": seq, "ward_id": 1, "year": 2026, "seq": seq, "number": f"T{seq}",
                    "category": "network", "title": "x", "priority": 1, "status": status,
                    "source": "health_check", "asset_id": asset_id, "check_id": check_id,
                    "paused_minutes": 0.0, "response_paused_minutes": 0.0}, when)))
        assert runner.invoke(args=["db", "upgrade", "0015"]).exit_code == 0
        metadata = MetaData()
        ticket = Table("ticket", metadata, autoload_with=engine)
        event = Table("ticket_event", metadata, autoload_with=engine)
        with engine.connect() as conn:
            statuses = dict(conn.execute(select(ticket.c.number, ticket.c.status)).all())
            [merged] = conn.execute(select(event)).mappings().all()
        if engine.dialect.name == "sqlite":  # its schema was edited in place
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert statuses == {"T1": "new", "T2": "resolved", "T3": "closed", "T4": "new"}
        assert (merged["ticket_id"], merged["old_value"], merged["new_value"]) == \
            (2, "assigned", "resolved")
        assert "T1" in merged["body"] and merged["data"]["merged_into"] == 1
        # The new index: a second open health ticket of device 2 is refused.
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(ticket.insert().values(filled(ticket, {
                "ward_id": 1, "year": 2026, "seq": 9, "number": "T9", "category": "network",
                "title": "x", "priority": 1, "status": "new", "source": "health_check",
                "asset_id": 2, "check_id": 3, "paused_minutes": 0.0,
                "response_paused_minutes": 0.0}, when)))
        assert runner.invoke(args=["db", "downgrade", "0010"]).exit_code == 0
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
