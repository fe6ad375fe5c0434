"""Migration 0016 adds the city-wide incidents' tables and the devices' service key, which
a downgrade removes again."""

from __future__ import annotations

from sqlalchemy import inspect

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def test_incident_tables_and_service_key_come_and_go(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    try:
        assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
        assert not inspect(engine).has_table("incident")
        result = runner.invoke(args=["db", "upgrade", "0016"])
        assert result.exit_code == 0, result.output
        inspector = inspect(engine)
        assert {"incident", "incident_ticket", "incident_dismissal"} <= set(
            inspector.get_table_names())
        assert "service_key" in {c["name"] for c in inspector.get_columns("asset")}
        assert "uq_incident_open_service" in {i["name"] for i in
                                              inspector.get_indexes("incident")}
        result = runner.invoke(args=["db", "downgrade", "0010"])
        assert result.exit_code == 0, result.output
        inspector = inspect(engine)
        assert not inspector.has_table("incident")
        assert "service_key" not in {c["name"] for c in inspector.get_columns("asset")}
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
