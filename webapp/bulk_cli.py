"""``helpdesk import FILE [--dry-run]`` and ``helpdesk export KIND [FILE]``."""

from __future__ import annotations

import pathlib

import click
from flask import Flask, current_app

from helpdesk_core import i18n
from helpdesk_core.services import bulk

from .extensions import db
from .web import now

SET_PASSWORD_PATH = "/password/set/"


def link(base_url: str, token: str) -> str:
    """The address of a one-time password link."""
    return base_url.rstrip("/") + SET_PASSWORD_PATH + token


def register(app: Flask) -> None:
    """Attach the import and export commands to *app*'s CLI."""

    @app.cli.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
    @click.option("--dry-run", is_flag=True, help="Show what would change; store nothing.")
    @click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
                  help="Where the app serves: new accounts' password links start with it.")
    def import_command(file: pathlib.Path, dry_run: bool, base_url: str) -> None:
        """Import wards, calendars, accounts, placements, devices and checks (XLSX or CSV)."""
        data = file.read_bytes()[:bulk.reader.MAX_BYTES + 1]
        bars: list = []

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(click.progressbar(length=max(total, 1),
                                              label=i18n.gettext("Rows")).__enter__())
            bars[0].update(done - bars[0].pos)
        try:
            outcome = bulk.import_file(db.session, current_app.extensions["helpdesk"], data,
                                       file.name, now(), apply=not dry_run, progress=progress)
        finally:
            if bars:
                bars[0].__exit__(None, None, None)
        _report(outcome, base_url)
        if outcome.errors:
            raise SystemExit(1)

    @app.cli.command("export")
    @click.argument("kind", type=click.Choice(["all", *bulk.BY_KEY]))
    @click.argument("file", required=False, type=click.Path(dir_okay=False,
                                                            path_type=pathlib.Path))
    @click.option("--template", is_flag=True, help="Write an empty template instead.")
    def export_command(kind: str, file: pathlib.Path | None, template: bool) -> None:
        """Export one kind (CSV or XLSX by FILE's extension; CSV to standard output)."""
        fmt = "xlsx" if file is not None and file.suffix.lower() == ".xlsx" else "csv"
        if kind == "all" and fmt == "csv":
            raise click.ClickException(i18n.gettext("Export all kinds to an .xlsx file."))
        data = (bulk.template(kind, fmt) if template else
                bulk.export(db.session, current_app.extensions["helpdesk"], kind, fmt))
        db.session.rollback()
        if file is None:
            click.echo(data.decode("utf-8-sig"), nl=False)
        else:
            file.write_bytes(data)


def _report(outcome: bulk.Outcome, base_url: str) -> None:
    for error in outcome.errors:
        where = ", ".join(part for part in (
            error.sheet, i18n.gettext("row %(row)d", row=error.row) if error.row else "",
            error.column) if part)
        click.echo(f"{where}: {error.message}" if where else error.message, err=True)
    for row in outcome.rows:
        if row.action in (bulk.CREATED, bulk.CHANGED):
            click.echo(f"{row.sheet}, {i18n.gettext('row %(row)d', row=row.row)}: "
                       f"{_action_label(row.action)} {row.key}")
    click.echo(i18n.gettext("%(created)d to create, %(changed)d to change, %(unchanged)d "
                            "unchanged, %(errors)d errors.",
                            created=outcome.count(bulk.CREATED),
                            changed=outcome.count(bulk.CHANGED),
                            unchanged=outcome.count(bulk.UNCHANGED),
                            errors=len(outcome.errors)))
    if outcome.applied:
        click.echo(i18n.gettext("Imported."))
        if outcome.links:
            click.echo(i18n.gettext("One-time links to set a password (shown only now):"))
            for user, token in outcome.links:
                click.echo(f"  {user.login}: {link(base_url, token)}")
    elif not outcome.errors:
        click.echo(i18n.gettext("Dry run: nothing was stored."))
    else:
        click.echo(i18n.gettext("Nothing was stored."), err=True)


def _action_label(action: str) -> str:
    return {bulk.CREATED: i18n.gettext("create"), bulk.CHANGED: i18n.gettext("change")}[action]
