"""Configuration: secret key kept in the instance folder, env overrides, SQLite pragmas."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from helpdesk_core.db import make_engine, normalize_url
from webapp import config as config_module


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    settings: dict = {}
    config_module.ensure_secret_key(settings, str(tmp_path))
    key = settings["SECRET_KEY"]
    assert len(key) >= 64
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again: dict = {}
    config_module.ensure_secret_key(again, str(tmp_path))
    assert again["SECRET_KEY"] == key


def test_configured_secret_key_wins(tmp_path):
    settings = {"SECRET_KEY": "from-env"}
    config_module.ensure_secret_key(settings, str(tmp_path))
    assert settings["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_database_url_defaults_to_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = config_module.database_url({}, str(tmp_path))
    assert url == f"sqlite:///{tmp_path}/helpdesk.db"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/helpdesk")
    assert config_module.database_url({}, str(tmp_path)) == "postgresql+psycopg://u@db/helpdesk"
    assert normalize_url("postgresql://u@db/x") == "postgresql+psycopg://u@db/x"


def test_environment_overrides_defaults(monkeypatch, database):
    from webapp import create_app
    monkeypatch.setenv("HELPDESK_TIMEZONE", "Asia/Bangkok")
    monkeypatch.setenv("HELPDESK_PREFERRED_URL_SCHEME", "https")
    app = create_app({"DATABASE_URL": database.url, "SECRET_KEY": "x"})
    assert app.config["TIMEZONE"] == "Asia/Bangkok"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
