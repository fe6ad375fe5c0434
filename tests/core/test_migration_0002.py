"""Migration 0002 gives tickets filed before it an sla_next_at from their due times."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import Session

from helpdesk_core.db import make_engine
from helpdesk_core.models import Ticket

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)

T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)


def filled(table: Table, values: dict, when: dt.datetime) -> dict:
    """*values* plus a plain value for every other NOT NULL column (the 0001 schema)."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        if isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, Integer):
            row[column.name] = 0
        elif isinstance(column.type, JSON):
            row[column.name] = {}
        elif isinstance(column.type, DateTime):
            row[column.name] = when
        elif isinstance(column.type, (String, Text)):
            row[column.name] = ""
        else:
            row[column.name] = None
    return row


def test_open_tickets_get_their_next_sla_moment(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0001"]).exit_code == 0

    engine = make_engine(empty_database_url)
    sqlite = engine.dialect.name == "sqlite"

    def moment(value: dt.datetime):
        return value.replace(tzinfo=None) if sqlite else value

    try:
        metadata = MetaData()
        ward = Table("ward", metadata, autoload_with=engine)
        ticket = Table("ticket", metadata, autoload_with=engine)
        assert "sla_next_at" not in ticket.columns
        rows = {
            # number: (status, responded, paused, response due, resolution due)
            "A-1": ("new", None, None, T0 + HOUR, T0 + 4 * HOUR),
            "A-2": ("in_progress", T0, None, T0 + HOUR, T0 + 4 * HOUR),
            "A-3": ("waiting_reporter", T0, T0, T0 + HOUR, T0 + 4 * HOUR),
            "A-4": ("closed", T0, None, T0 + HOUR, T0 + 4 * HOUR),
        }
        with engine.begin() as conn:
            conn.execute(ward.insert().values(filled(ward, {"id": 1, "code": "A", "name": "A"},
                                                     moment(T0))))
            for seq, (number, (status, responded, paused, response, resolution)) in enumerate(
                    rows.items(), start=1):
                conn.execute(ticket.insert().values(filled(ticket, {
                    "ward_id": 1, "year": 2026, "seq": seq, "number": number,
                    "category": "network", "title": number, "priority": 3, "status": status,
                    "responded_at": responded and moment(responded),
                    "paused_at": paused and moment(paused),
                    "response_due_at": moment(response),
                    "resolution_due_at": moment(resolution)}, moment(T0))))

        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        with Session(engine) as session:
            stored = {t.number: t for t in session.query(Ticket)}
            assert stored["A-1"].sla_next_at == T0 + HOUR
            assert stored["A-2"].sla_next_at == T0 + 4 * HOUR
            assert stored["A-3"].sla_next_at is None
            assert stored["A-4"].sla_next_at is None
            assert all(t.paused_minutes == 0 and t.response_at_risk is False
                       for t in stored.values())
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
