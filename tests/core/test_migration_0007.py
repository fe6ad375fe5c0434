"""Migration 0007 marks tickets filed before it whose urgency was a citizen waiting."""

from __future__ import annotations

from sqlalchemy import MetaData, Table, select

from helpdesk_core.db import make_engine

from .test_migration_0002 import T0, filled
from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def test_existing_tickets_get_citizen_waiting_from_their_urgency(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0006"]).exit_code == 0
    engine = make_engine(empty_database_url)
    when = T0.replace(tzinfo=None) if engine.dialect.name == "sqlite" else T0
    try:
        metadata = MetaData()
        ward = Table("ward", metadata, autoload_with=engine)
        ticket = Table("ticket", metadata, autoload_with=engine)
        assert "citizen_waiting" not in ticket.columns
        with engine.begin() as conn:
            conn.execute(ward.insert().values(filled(ward, {"id": 1, "code": "A", "name": "A"},
                                                     when)))
            for seq, urgency in enumerate(("citizen_waiting", "today", "normal"), start=1):
                conn.execute(ticket.insert().values(filled(ticket, {
                    "ward_id": 1, "year": 2026, "seq": seq, "number": urgency,
                    "category": "network", "title": urgency, "priority": 2, "status": "new",
                    "urgency": urgency, "paused_minutes": 0.0,
                    "response_paused_minutes": 0.0}, when)))
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        metadata = MetaData()
        ticket = Table("ticket", metadata, autoload_with=engine)
        with engine.connect() as conn:
            marks = dict(conn.execute(select(ticket.c.number, ticket.c.citizen_waiting)).all())
        assert marks == {"citizen_waiting": True, "today": False, "normal": False}
        assert runner.invoke(args=["db", "downgrade", "0006"]).exit_code == 0
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
