"""Migration 0009 adds the one-time password links and takes them away again."""

from __future__ import annotations

from sqlalchemy import inspect

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def test_password_link_table_comes_and_goes(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    try:
        assert runner.invoke(args=["db", "upgrade", "0009"]).exit_code == 0
        assert "password_link" in inspect(engine).get_table_names()
        columns = {c["name"] for c in inspect(engine).get_columns("password_link")}
        assert {"token_hash", "expires_at", "used_at", "user_id"} <= columns
        assert runner.invoke(args=["db", "downgrade", "0007"]).exit_code == 0
        assert "password_link" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
