"""Migration 0020 gives SQLite the similar-tickets index that holds what the query reads;
PostgreSQL keeps its own. A downgrade puts SQLite's old index back."""

from __future__ import annotations

from sqlalchemy import inspect

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def _indexes(engine) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("ticket")}


def test_the_similar_index_holds_its_columns_on_sqlite_only(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    plain = ["ward_id", "category", "resolved_at"]
    try:
        assert runner.invoke(args=["db", "upgrade", "0019"]).exit_code == 0
        assert _indexes(engine)["ix_ticket_similar"] == plain
        assert runner.invoke(args=["db", "upgrade", "0020"]).exit_code == 0
        indexes = _indexes(engine)
        if engine.dialect.name == "sqlite":
            assert "ix_ticket_similar" not in indexes
            assert indexes["ix_ticket_similar_rows"] == plain + [
                "status", "number", "title", "search_text"]
        else:
            assert indexes["ix_ticket_similar"] == plain
            assert "ix_ticket_similar_rows" not in indexes
        assert runner.invoke(args=["db", "downgrade", "0019"]).exit_code == 0
        indexes = _indexes(engine)
        assert indexes["ix_ticket_similar"] == plain and "ix_ticket_similar_rows" not in indexes
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
