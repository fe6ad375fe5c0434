"""Migration 0017 adds the Web Push subscriptions and the VAPID key; a downgrade removes
them again."""

from __future__ import annotations

from sqlalchemy import inspect

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def test_push_tables_come_and_go(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    try:
        assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
        assert not inspect(engine).has_table("push_subscription")
        assert runner.invoke(args=["db", "upgrade", "0017"]).exit_code == 0
        columns = {c["name"] for c in inspect(engine).get_columns("push_subscription")}
        assert {"user_id", "endpoint", "p256dh", "auth", "user_agent", "created_at",
                "last_success_at"} <= columns
        assert {c["name"] for c in inspect(engine).get_columns("vapid_key")} == {
            "id", "private_key", "public_key", "created_at"}
        assert runner.invoke(args=["db", "downgrade", "0010"]).exit_code == 0
        assert not inspect(engine).has_table("push_subscription")
        assert not inspect(engine).has_table("vapid_key")
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
