"""Migration 0014 adds the ratings and the stored monthly reports; a downgrade removes them."""

from __future__ import annotations

from sqlalchemy import inspect

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def test_rating_and_report_tables_come_and_go(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    try:
        assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
        assert not inspect(engine).has_table("ticket_rating")
        assert runner.invoke(args=["db", "upgrade", "0014"]).exit_code == 0
        inspector = inspect(engine)
        assert {"rating", "comment", "student_id", "rater_id"} <= {
            c["name"] for c in inspector.get_columns("ticket_rating")}
        assert {"month", "xlsx", "pdf", "summary"} <= {
            c["name"] for c in inspector.get_columns("monthly_report")}
        assert "ix_ticket_rating_student_at" in {
            i["name"] for i in inspector.get_indexes("ticket_rating")}
        assert runner.invoke(args=["db", "downgrade", "0010"]).exit_code == 0
        inspector = inspect(engine)
        assert not inspector.has_table("ticket_rating")
        assert not inspector.has_table("monthly_report")
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
