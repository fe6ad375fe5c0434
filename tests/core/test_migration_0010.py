"""Migration 0010 adds the integrations' token table, which a downgrade removes again."""

from __future__ import annotations

from sqlalchemy import inspect

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def test_api_token_table_comes_and_goes(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    try:
        assert runner.invoke(args=["db", "upgrade", "0009"]).exit_code == 0
        assert not inspect(engine).has_table("api_token")
        assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
        columns = {c["name"] for c in inspect(engine).get_columns("api_token")}
        assert {"token_hash", "scope", "ward_ids", "all_wards", "last_used_at",
                "revoked_at"} <= columns
        assert runner.invoke(args=["db", "downgrade", "0009"]).exit_code == 0
        assert not inspect(engine).has_table("api_token")
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
