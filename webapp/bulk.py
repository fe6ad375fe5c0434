"""Administration: import and export of wards, calendars, accounts, placements, devices
and checks (the rules live in helpdesk_core.services.bulk)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import SubmitField

from helpdesk_core.i18n import lazy_gettext as _l
from helpdesk_core.models import Role
from helpdesk_core.services import bulk

from . import registry
from .admin_forms import TranslatedForm
from .bulk_cli import SET_PASSWORD_PATH
from .extensions import db
from .web import now, roles_required

bp = Blueprint("bulk", __name__, url_prefix="/admin/bulk")
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ImportForm(TranslatedForm):
    """The file, and whether to check it only or import it."""

    file = FileField(_l("File (.xlsx or .csv)"))
    check = SubmitField(_l("Check (dry run)"))
    apply = SubmitField(_l("Import"))


def _kinds() -> list[tuple[str, str]]:
    return [(kind.key, kind.sheet) for kind in bulk.KINDS]


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def page():
    """The upload form; after a POST, the row-by-row result of the check or import."""
    form = ImportForm()
    outcome, filename = None, ""
    if form.validate_on_submit():
        upload = form.file.data
        is_file = isinstance(upload, FileStorage)
        filename = (upload.filename or "") if is_file else ""
        data = upload.read(bulk.reader.MAX_BYTES + 1) if is_file else b""
        outcome = bulk.import_file(db.session, registry(), data, filename, now(),
                                   apply=bool(form.apply.data))
    links = [(user.login, request.url_root.rstrip("/") + SET_PASSWORD_PATH + token)
             for user, token in (outcome.links if outcome else [])]
    return render_template("admin/bulk.html", form=form, outcome=outcome, links=links,
                           filename=filename, kinds=_kinds(), actions=bulk)


def _file(kind: str, fmt: str) -> tuple[str, str]:
    if fmt not in bulk.FORMATS or (kind != "all" and kind not in bulk.BY_KEY) \
            or (kind == "all" and fmt == "csv"):
        abort(404)
    return kind, fmt


@bp.route("/template/<kind>.<fmt>")
@roles_required(Role.ADMIN)
def template(kind: str, fmt: str):
    """An empty file of one kind with its headers and description row."""
    kind, fmt = _file(kind, fmt)
    return _download(bulk.template(kind, fmt), f"mau-{kind}.{fmt}", fmt)


@bp.route("/export/<kind>.<fmt>")
@roles_required(Role.ADMIN)
def export(kind: str, fmt: str):
    """Everything of one kind, in the import's format."""
    kind, fmt = _file(kind, fmt)
    return _download(bulk.export(db.session, registry(), kind, fmt), f"{kind}.{fmt}", fmt)


def _download(data: bytes, name: str, fmt: str) -> Response:
    response = Response(data, mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
