"""Migration 0004 gives existing accounts a session version; their passwords still work."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import Session

from helpdesk_core.db import make_engine
from helpdesk_core.models import User
from helpdesk_core.services import users

from ..factories import PASSWORD
from .test_migration_0002 import filled
from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)

T0 = dt.datetime(2026, 3, 10, 2, 0)


def test_existing_accounts_start_at_session_version_one(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0003"]).exit_code == 0
    engine = make_engine(empty_database_url)
    try:
        account = Table("user_account", MetaData(), autoload_with=engine)
        assert "session_version" not in account.columns
        with engine.begin() as conn:
            conn.execute(account.insert().values(filled(account, {
                "login": "canbo.cu", "name": "Cán bộ cũ", "role": "coordinator",
                "password_hash": users.hash_password(PASSWORD), "active": True}, T0)))

        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        with Session(engine) as session:
            user = users.authenticate(session, "canbo.cu", PASSWORD)
            assert user is not None and user.session_version == 1
            assert user.get_id() == f"{user.id}:1"
            assert users.user_for_session(session, user.get_id()) is user
            assert users.user_for_session(session, str(user.id)) is None  # a pre-0004 session
            assert session.query(User).count() == 1
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
