"""Migration 0006 adds the one-time form keys, unique, and takes them away again."""

from __future__ import annotations

from sqlalchemy import inspect

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def form_key_indexes(engine) -> dict[str, list]:
    inspector = inspect(engine)
    return {table: [(i["name"], i["column_names"], bool(i["unique"]))
                    for i in inspector.get_indexes(table) if "form_key" in i["column_names"]]
            for table in ("ticket", "ticket_event")}


def test_form_keys_up_and_down(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    try:
        assert runner.invoke(args=["db", "upgrade", "0006"]).exit_code == 0
        assert form_key_indexes(engine) == {
            "ticket": [("uq_ticket_form_key", ["form_key"], True)],
            "ticket_event": [("uq_ticket_event_form_key", ["form_key"], True)]}
        result = runner.invoke(args=["db", "downgrade", "--", "-1"])
        assert result.exit_code == 0, result.output
        engine.dispose()
        assert form_key_indexes(engine) == {"ticket": [], "ticket_event": []}
        assert "form_key" not in {c["name"] for c in inspect(engine).get_columns("ticket")}
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
