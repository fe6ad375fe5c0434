"""``helpdesk db upgrade`` upgrades the core, then each loaded plugin's own tables.

Each plugin's Alembic revisions live in its package (``PluginStorage.versions``), on a
branch labelled with its name, recorded in a version table of its own
(``alembic_version_<plugin>``): the core's ``alembic_version`` never holds a plugin's
revision, so switching a plugin off or uninstalling it leaves the core's upgrade working.
"""

from __future__ import annotations

from typing import Any

import click
from alembic import command
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import Migrate
from flask_migrate.cli import db as migrate_group

from . import MIGRATIONS_DIR
from .extensions import db

migrate = Migrate()


def upgrade_plugins(sql: bool = False) -> list[str]:
    """Upgrade every loaded plugin's branch to its head; return the plugins' names."""
    registry = current_app.extensions["helpdesk"]
    done = []
    for name, storage in sorted(registry.storages.items()):
        config = migrate.get_config()
        config.set_main_option("path_separator", "os")  # one folder; spaces allowed
        config.set_main_option("version_locations", str(storage.versions))
        config.attributes["plugin_storage"] = (name, storage)  # read by migrations/env.py
        command.upgrade(config, f"{name}@head", sql=sql)
        done.append(name)
    return done


def attach(app: Flask) -> click.Group:
    """Flask-Migrate on *app*, and its ``db`` group whose ``upgrade`` upgrades the plugins
    too; returns that group."""
    # Batch mode lets Alembic alter SQLite tables (it rebuilds them).
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    core_upgrade = migrate_group.commands["upgrade"]
    group = click.Group("db", commands=dict(migrate_group.commands),
                        params=list(migrate_group.params), callback=migrate_group.callback,
                        help=migrate_group.help)

    @with_appcontext
    def upgrade(**options: Any) -> None:
        click.get_current_context().invoke(core_upgrade, **options)
        if options.get("revision") in (None, "head", "heads"):
            for name in upgrade_plugins(sql=bool(options.get("sql"))):
                click.echo(f"plugin {name}: up to date")

    group.add_command(click.Command(
        "upgrade", callback=upgrade, params=list(core_upgrade.params),
        help="Upgrade the core, then every loaded plugin's own tables."), "upgrade")
    app.cli.add_command(group, "db")
    return group
