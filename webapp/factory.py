"""The app factory: ``create_app`` (re-exported by ``webapp``) builds the Flask app."""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask, g, request, session
from flask_babel import get_locale
from flask_login import current_user

from helpdesk_core import i18n
from helpdesk_core.db import reset_reads_only, set_reads_only
from helpdesk_core.plugins import load_registry

from . import config as config_module
from .extensions import babel, csrf, db, limiter, login_manager
from .web import READS_FIRST

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, instance config, ``HELPDESK_*`` env, then *test_config*."""
    # The package's name: root and instance paths, the logger and app.name as before.
    app = Flask("webapp", instance_relative_config=True)
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("HELPDESK")
    if test_config:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    config_module.finish(app.config, app.instance_path)
    _trust_proxies(app)

    disabled = [name.strip() for name in str(app.config["DISABLED_PLUGINS"]).split(",")
                if name.strip()]
    disabled += [name for name in _disabled_in_database(app.config["SQLALCHEMY_DATABASE_URI"])
                 if name not in disabled]
    registry = load_registry(blocked=disabled, trace=bool(app.config["TRACE_HOOKS"]))
    app.extensions["helpdesk"] = registry

    db.init_app(app)
    # Flask-Migrate (Alembic) is attached when a `db` command runs (webapp/cli.py).
    i18n.add_translation_directory(os.path.join(os.path.dirname(__file__), "translations"))
    # The core's and the web layer's catalogs only: each plugin has its own (i18n.translator).
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(i18n.translation_directories())
    babel.init_app(app, locale_selector=_select_locale,
                   timezone_selector=lambda: app.config["TIMEZONE"])
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = i18n.N_("Please log in to continue.")
    login_manager.localize_callback = i18n.gettext

    @login_manager.user_loader
    def load_user(session_id: str):
        """The account of a session or remember cookie; None once that session ended."""
        from helpdesk_core.services import users

        from .incidents import ANY_OPEN
        from .web import today
        # With the ward: staff pages and the front desk need it (one query, not two);
        # whether any city-wide incident is open, for the banner (incidents.open_now); and
        # a student's wards today, which nearly every page of theirs asks (scope).
        user, first_open = users.session_account(db.session, session_id, with_ward=True,
                                                 extra=ANY_OPEN, today=today())
        if user is not None:
            g.any_open_incident = first_open is not None
        return user

    @app.before_request
    def _set_core_locale() -> None:
        # Pages (GET, HEAD) only read: on SQLite their transactions take no write lock,
        # so the web workers read side by side (bench/RESULTS.md). Forms POST; those
        # marked web.reads_first read first too and take the lock to write (web.writing).
        view = app.view_functions.get(request.endpoint or "")
        if request.method in ("GET", "HEAD") or getattr(view, READS_FIRST, False):
            g.reads_only_token = set_reads_only(True)
        g.core_locale_token = i18n.set_locale(str(get_locale()))

    @app.teardown_request
    def _reset_core_locale(_error: BaseException | None) -> None:
        # Threads are reused across requests: leave the next one the default locale.
        token = g.pop("core_locale_token", None)
        if token is not None:
            i18n.reset_locale(token)
        token = g.pop("reads_only_token", None)
        if token is not None:
            reset_reads_only(token)

    from . import (access_log, admin, auth, city, dashboard, errors, headers, health, input_guard,
                   main, profile, stickers, tickets)
    input_guard.register(app)  # before the blueprints: their routes use its id converter
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(tickets.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(city.bp)
    app.register_blueprint(admin.bp)
    from . import bulk, password_link
    app.register_blueprint(bulk.bp)
    app.register_blueprint(password_link.bp)
    app.register_blueprint(access_log.bp)
    app.register_blueprint(profile.bp)
    from . import pwa
    app.register_blueprint(pwa.bp)
    app.register_blueprint(stickers.bp)
    from . import counter, incidents, programme, roster, skills
    app.register_blueprint(roster.bp)
    app.register_blueprint(skills.bp)
    app.register_blueprint(counter.bp)
    incidents.register(app)
    app.register_blueprint(programme.bp)
    app.register_blueprint(programme.public)
    from . import plugin_pages
    plugin_pages.register(app)
    _install_settings_reader(app)
    _install_session_source(app)
    from . import api, api_tokens_admin
    api.init_app(app)
    app.register_blueprint(api_tokens_admin.bp)
    from . import notify_admin
    app.register_blueprint(notify_admin.bp)
    errors.register(app)
    headers.register(app)
    from . import layout, rendering
    rendering.install(app, lambda: app.extensions["helpdesk"].categories)
    layout.install(app)

    from . import cli
    cli.register(app)

    if app.config["SCHEDULER"] and not app.config["SCHEDULER_AFTER_FORK"]:
        from . import scheduler
        scheduler.start(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, the client is the address the nearest of
    them appended to X-Forwarded-For (rate limits count per client address)."""
    from werkzeug.middleware.proxy_fix import ProxyFix
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)


def _disabled_in_database(url: str) -> list[str]:
    """Plugins switched off on the administration page (read once, at startup).

    A database that does not exist yet, has no ``plugin_setting`` table (before
    ``db upgrade``) or is unreachable disables nothing; the app still starts.
    """
    from sqlalchemy import inspect

    from helpdesk_core.db import make_engine
    from helpdesk_core.services import admin as admin_service
    from helpdesk_core.db import make_session_factory
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("plugin_setting"):
            return []
        with make_session_factory(engine)() as session:
            return admin_service.disabled_plugins(session)
    except Exception as exc:  # startup must not depend on this optional switch
        log.warning("could not read plugin settings: %s", exc.__class__.__name__)
        return []
    finally:
        engine.dispose()


def _install_settings_reader(app: Flask) -> None:
    """``helpdesk_core.plugin_settings(name)`` reads this app's database."""
    from flask import current_app, has_app_context

    from helpdesk_core import settings
    from helpdesk_core.services import plugin_settings

    def read(name: str) -> Mapping[str, Any]:
        registry = app.extensions["helpdesk"]
        if has_app_context() and current_app._get_current_object() is app:
            return plugin_settings.settings_of(db.session, registry, name)
        with app.app_context():  # the scheduler's threads, the CLI
            return plugin_settings.settings_of(db.session, registry, name)

    settings.install_reader(read)


def _install_session_source(app: Flask) -> None:
    """``helpdesk_core.plugin_session()`` opens sessions on this app's database (a
    channel's ``send`` in the scheduler keeps its state there)."""
    from helpdesk_core.db import make_session_factory
    from helpdesk_core.plugin_db import install_session_source

    with app.app_context():
        install_session_source(make_session_factory(db.engine))


def _select_locale() -> str:
    if request.path.startswith("/api/"):
        # Other systems, not people: no account or session, Accept-Language decides.
        return request.accept_languages.best_match(i18n.SUPPORTED_LOCALES,
                                                   default=i18n.DEFAULT_LOCALE)
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in i18n.SUPPORTED_LOCALES:
        return chosen
    return i18n.DEFAULT_LOCALE
