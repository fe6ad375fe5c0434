"""The ``helpdesk`` command: a Flask CLI group with the helpdesk's own commands."""

from __future__ import annotations

import logging
import pathlib
import signal
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, routes_command, shell_command
from sqlalchemy import select

from helpdesk_core import PLUGIN_API_VERSION, i18n
from helpdesk_core.errors import HelpdeskError
from helpdesk_core.models import Role, Ticket, Ward
from helpdesk_core.plugin_api import STAGE_API
from helpdesk_core.services import users

from .extensions import db


def _create_app() -> Flask:
    from . import create_app
    return create_app()


def main() -> None:
    cli = FlaskGroup(create_app=_create_app, add_default_commands=False,
                     help="Ward Helpdesk: serve, schedule checks, manage data.")
    cli.add_command(shell_command)
    cli.add_command(routes_command)
    cli(prog_name="helpdesk")


def _fail(error: HelpdeskError) -> None:
    details = getattr(error, "field_errors", {}) or {}
    lines = [error.localized()] + [f"  {field}: {' '.join(map(str, msgs))}"
                                   for field, msgs in details.items()]
    raise click.ClickException("\n".join(lines))


class _MigrationsGroup(click.Group):
    """``db``: Flask-Migrate's commands, with Alembic loaded when a ``db`` command is
    looked up, not by every web worker (webapp/plugin_storage.py attaches them)."""

    def __init__(self, app: Flask) -> None:
        super().__init__("db", help="Perform database migrations.")
        self._app = app
        self._group: click.Group | None = None

    def _loaded(self) -> click.Group:
        if self._group is None:
            from . import plugin_storage
            self._group = plugin_storage.attach(self._app)
            # The group's own options (-d, -x) and callback, as Flask-Migrate defines them.
            self.params, self.callback = self._group.params, self._group.callback
        return self._group

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._loaded()
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._loaded().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._loaded().get_command(ctx, cmd_name)


def register(app: Flask) -> None:
    """Attach the commands to *app*'s CLI."""
    app.cli.add_command(_MigrationsGroup(app))  # `db upgrade` upgrades the plugins' tables too
    from . import bulk_cli
    bulk_cli.register(app)

    @app.cli.command("run")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @click.option("--no-scheduler", is_flag=True, help="Serve without the embedded scheduler.")
    def run(host: str, port: int, no_scheduler: bool) -> None:
        """Serve the app (development server) with the scheduler embedded."""
        if not no_scheduler:
            from . import scheduler
            scheduler.start(current_app._get_current_object())
        from werkzeug.serving import run_simple

        from .dev_server import MaskedRequestHandler
        click.echo(f"Ward Helpdesk: http://{host}:{port}/")
        # app.run() refuses to run inside the flask CLI; serve the same way it would,
        # with personal data masked in the request log.
        run_simple(host, port, current_app._get_current_object(), threaded=True,
                   use_reloader=False, use_debugger=False,
                   request_handler=MaskedRequestHandler)

    @app.cli.command("scheduler")
    def run_scheduler() -> None:
        """Run the scheduler alone (production: one such process next to the web workers).

        Of several such processes on one database one leads; the others stand by.
        """
        from . import scheduler
        if not logging.getLogger().handlers:  # a production process: say what it does
            logging.basicConfig(level=logging.INFO,
                                format="%(asctime)s %(levelname)s %(name)s: %(message)s")
            logging.getLogger("apscheduler").setLevel(logging.WARNING)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        scheduler.settle_gc()
        candidate = scheduler.start(current_app._get_current_object())
        click.echo("scheduler leading; Ctrl+C stops it" if candidate.leading else
                   "scheduler standing by (another process leads); Ctrl+C stops it")
        stop.wait()
        candidate.stop()

    @app.cli.command("check")
    @click.argument("asset_ref", metavar="ASSET")
    @click.option("--no-record", is_flag=True,
                  help="Only show the results; store nothing and file no ticket.")
    def check_asset(asset_ref: str, no_record: bool) -> None:
        """Run the health checks of ASSET (its id or exact name) once and show the results.

        Exits with status 1 when a check fails (or cannot run), 0 otherwise."""
        from helpdesk_core.services import health
        from . import scheduler
        asset = _find_asset(asset_ref)
        if asset is None:
            raise click.ClickException(i18n.gettext(
                "There is no device with the id or name “%(asset)s”.", asset=asset_ref))
        app = current_app._get_current_object()
        registry = current_app.extensions["helpdesk"]
        click.echo(f"{asset.name} ({asset.address})")
        check_ids = [(check.id, check.check_type) for check in asset.checks]
        if not check_ids:
            click.echo(i18n.gettext("This device has no health checks."))
        failed = False
        for check_id, check_type in check_ids:
            outcome = health.check_now(db.session, registry, check_id, record=not no_record,
                                       force=True, policy=scheduler.health_policy(app))
            if outcome is None:
                click.echo(f"  {check_type}: " + i18n.gettext(
                    "skipped (disabled, or running elsewhere right now)"))
                continue
            failed = failed or outcome.status in ("failure", "error")
            latency = "" if outcome.latency_ms is None else f" ({outcome.latency_ms:.0f} ms)"
            line = f"  {check_type}: {outcome.status.upper()} {outcome.message}{latency}"
            ticket = db.session.get(Ticket, outcome.ticket_id) if outcome.ticket_id else None
            if ticket is not None:
                line += " " + i18n.gettext("[ticket %(number)s]", number=ticket.number)
            click.echo(line)
        if failed:  # scripts and monitoring read the exit status
            raise SystemExit(1)

    @app.cli.command("demo")
    @click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
                  help="Where the app will serve; demo checks watch its /healthz.")
    def demo(base_url: str) -> None:
        """Load demo wards, people, assets and tickets (safe to run again)."""
        from helpdesk_core import demo as demo_data
        created = demo_data.load(db.session, current_app.extensions["helpdesk"], base_url)
        click.echo("Demo data loaded." if created else "Demo data was already there.")
        click.echo("Demo logins (password for all: %s):" % demo_data.PASSWORD)
        for login, role, where in demo_data.LOGINS:
            click.echo(f"  {login:<18} {role:<12} {where}")

    @app.cli.command("stickers")
    @click.argument("ward_code")
    @click.argument("file", required=False,
                    type=click.Path(dir_okay=False, path_type=pathlib.Path))
    @click.option("--base-url", help="Where phones reach the app (default: "
                  "HELPDESK_PUBLIC_URL, else SERVER_NAME).")
    def stickers(ward_code: str, file: pathlib.Path | None, base_url: str | None) -> None:
        """Write the QR stickers of ward WARD_CODE as a PDF (default stickers-CODE.pdf)."""
        from .stickers import cli_sheet
        try:
            ward, pdf = cli_sheet(current_app._get_current_object(), ward_code, base_url)
        except HelpdeskError as error:
            _fail(error)
        target = file or pathlib.Path(f"stickers-{ward.code}.pdf")
        try:
            target.write_bytes(pdf)
        except OSError as error:
            raise click.ClickException(f"{target}: {error.strerror}") from error
        click.echo(i18n.gettext("Wrote the stickers of %(ward)s to %(file)s.",
                                ward=ward.name, file=str(target)))

    @app.cli.command("plugins")
    def list_plugins() -> None:
        """List loaded plugins, the hooks each implements, and any failures.

        Plugins left out for not fitting the plugin API are listed as DISABLED, old
        hook names that still work as DEPRECATED (both on stderr, with the reason).
        """
        registry = current_app.extensions["helpdesk"]
        click.echo(i18n.gettext("Plugin API %(version)s", version=PLUGIN_API_VERSION))
        for name in registry.plugin_names():
            click.echo(f"{name}: {', '.join(registry.hooks_of(name))}")
        for failure in registry.failures:
            if failure.stage == STAGE_API:
                click.echo(f"DISABLED {failure.plugin}: {failure.error}", err=True)
            else:
                click.echo(f"FAILED {failure.plugin} ({failure.stage}): {failure.error}",
                           err=True)
        for notice in registry.deprecations:
            click.echo(f"DEPRECATED {notice.plugin}: {notice.error}", err=True)

    plugin_group = AppGroup("plugin", help="Write plugins.")
    app.cli.add_command(plugin_group)

    @plugin_group.command("new")
    @click.argument("name")
    @click.option("--label", help="Category name in English (default: from NAME).")
    @click.option("--label-vi", help="Category name in Vietnamese (default: the English one).")
    @click.option("--dir", "parent", default=".", show_default=True,
                  type=click.Path(file_okay=False, path_type=pathlib.Path),
                  help="Where to create the package's folder.")
    def new_plugin(name: str, label: str | None, label_vi: str | None,
                   parent: pathlib.Path) -> None:
        """Create a working plugin package NAME (category key) in a new folder."""
        from .scaffold import ScaffoldError, write_plugin
        try:
            root = write_plugin(name, parent, label, label_vi)
        except ScaffoldError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Created {root}. Next:\n  cd {root}\n  pip install -e .\n"
                   "  python -m pytest")

    user_group = AppGroup("user", help="Manage accounts.")
    app.cli.add_command(user_group)

    from .notify import outbox_group
    app.cli.add_command(outbox_group)

    @user_group.command("create")
    @click.option("--login", required=True)
    @click.option("--name", required=True)
    @click.option("--role", required=True, type=click.Choice(Role.ALL))
    @click.option("--ward", "ward_code", help="Ward code (staff only), e.g. HCH.")
    @click.option("--locale", default=i18n.DEFAULT_LOCALE, type=click.Choice(i18n.SUPPORTED_LOCALES))
    @click.password_option()
    def create_user(login: str, name: str, role: str, ward_code: str | None, locale: str,
                    password: str) -> None:
        """Create an account."""
        ward = None
        if ward_code:
            ward = db.session.scalar(select(Ward).where(Ward.code == ward_code.upper()))
            if ward is None:
                raise click.ClickException(f"No ward with code {ward_code}.")
        try:
            user = users.create_user(db.session, login=login, name=name, password=password,
                                     role=role, ward=ward, locale=locale)
            db.session.commit()
        except HelpdeskError as error:
            db.session.rollback()
            _fail(error)
        click.echo(f"Created {user.login} ({user.role}).")


def _find_asset(ref: str):
    from helpdesk_core.models import Asset
    ref = ref.strip()
    asset = db.session.get(Asset, int(ref)) if ref.isdigit() else None
    if asset is None:
        asset = db.session.scalars(select(Asset).where(Asset.name == ref)
                                   .order_by(Asset.id).limit(1)).first()
    return asset


if __name__ == "__main__":
    sys.exit(main())
