"""Migration 0019 adds the index of the waiting tickets oldest first; a downgrade drops it."""

from __future__ import annotations

from sqlalchemy import inspect

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def _indexes(engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("ticket")}


def test_the_waiting_oldest_index_comes_and_goes(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    try:
        assert runner.invoke(args=["db", "upgrade", "0018"]).exit_code == 0
        assert "ix_ticket_waiting_oldest" not in _indexes(engine)
        assert runner.invoke(args=["db", "upgrade", "0019"]).exit_code == 0
        assert "ix_ticket_waiting_oldest" in _indexes(engine)
        assert runner.invoke(args=["db", "downgrade", "0018"]).exit_code == 0
        assert "ix_ticket_waiting_oldest" not in _indexes(engine)
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
