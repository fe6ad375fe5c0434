"""QR stickers: the printable sheet of a ward (administrators) and what a scan opens.

A code is ``<public URL>/d/<device id>``. Staff of the device's ward land on the filing
form with the category and the device chosen; students, coordinators and administrators
on the device's page (its checks and tickets). Anything else gets a page that says why,
in the user's language.
"""

from __future__ import annotations

import io
import logging
import re

from flask import (Blueprint, Flask, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user, login_required

from helpdesk_core import i18n
from helpdesk_core import fonts
from helpdesk_core.errors import HelpdeskError, NotFound
from helpdesk_core.models import Asset, Role, Ward
from helpdesk_core.services import stickers as service

from . import registry
from .extensions import db
from .health import STATUS_LABELS
from .web import now, roles_required, today

bp = Blueprint("stickers", __name__)
log = logging.getLogger(__name__)

SCAN_PREFIX = "/d/"          # short: the shorter the URL, the coarser (easier) the code
_WARD_ID = re.compile(r"[0-9]{1,9}")


NO_PUBLIC_URL = i18n.N_("Set HELPDESK_PUBLIC_URL (for example https://helpdesk.example.vn) so "
                        "the stickers' codes lead to the app, or pass --base-url.")


class PublicUrlMissing(HelpdeskError):
    """Outside a request, nothing says where the app is reached."""


def public_base_url(app: Flask, request_root: str | None = None) -> str:
    """Where phones reach the app: ``PUBLIC_URL``, else ``PREFERRED_URL_SCHEME`` and
    ``SERVER_NAME``, else the address of the request being served (*request_root*)."""
    configured = str(app.config.get("PUBLIC_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    server = app.config.get("SERVER_NAME")
    if server:
        scheme = app.config.get("PREFERRED_URL_SCHEME") or "http"
        root = str(app.config.get("APPLICATION_ROOT") or "/").rstrip("/")
        return f"{scheme}://{server}{root}"
    if request_root:
        return request_root.rstrip("/")
    raise PublicUrlMissing(NO_PUBLIC_URL)


def scan_url(base: str, asset: Asset) -> str:
    """The URL a device's sticker carries: nothing in it but the device's public code."""
    return base + SCAN_PREFIX + service.asset_code(asset)


def ward_sheet(app: Flask, ward: Ward, base: str) -> bytes:
    """The PDF of *ward*'s stickers; raises HelpdeskError when it cannot be made."""
    from helpdesk_core import stickers as sheets  # ReportLab and segno: loaded on use
    font = fonts.find_font(app.config.get("STICKER_FONT") or None)
    labels = [sheets.Label(name=a.name, ward=ward.name, url=scan_url(base, a),
                           detail=a.location, code=_printed_code(a))
              for a in service.sticker_assets(db.session, ward)]
    if not labels:
        raise NotFound("%(ward)s has no devices in service: there is nothing to "
                               "print.", ward=ward.name)
    title = i18n.gettext("QR stickers of %(ward)s", ward=ward.name)
    return sheets.render_sheets(labels, font, title=title)


def _printed_code(asset: Asset) -> str:
    return i18n.gettext("Device no. %(code)s", code=service.asset_code(asset))


@bp.route("/admin/assets/stickers")
@roles_required(Role.ADMIN)
def sheet():
    """The ward's sticker sheet (``?ward=<id>``) as a PDF download."""
    value = request.args.get("ward", "")
    ward = db.session.get(Ward, int(value)) if _WARD_ID.fullmatch(value) else None
    if ward is None:
        flash(i18n.gettext("Choose a ward to print its devices' QR stickers."), "error")
        return redirect(url_for("admin.assets"))
    try:
        pdf = ward_sheet(current_app, ward, public_base_url(current_app, request.url_root))
    except HelpdeskError as error:
        log.warning("no stickers for ward %s: %s", ward.code, error)
        flash(error.localized(), "error")
        return redirect(url_for("admin.assets", ward=ward.id))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"stickers-{ward.code}.pdf")


@bp.route(SCAN_PREFIX + "<asset_id>")
@login_required
def scan(asset_id: str):
    """What a scanned sticker opens, for the logged-in user (login keeps this target).

    *asset_id* is any text: what is not a device's code gets a message, never a 500.
    """
    try:
        found = service.scan(db.session, current_user, asset_id, today(),
                             set(registry().categories))
    except HelpdeskError as error:
        return render_template("stickers/problem.html", message=error.localized(),
                               staff=current_user.role == Role.STAFF), error.status_code
    asset = found.asset
    if found.action == "file":
        return redirect(url_for("tickets.file", category=asset.category, asset=asset.id))
    checks = sorted(asset.checks, key=lambda c: c.id)
    return render_template("stickers/device.html", asset=asset, checks=checks,
                           tickets=service.asset_tickets(db.session, asset),
                           status_labels=STATUS_LABELS, now=now(),
                           check_types=registry().check_types)


def cli_sheet(app: Flask, ward_code: str, base_url: str | None) -> tuple[Ward, bytes]:
    """For ``helpdesk stickers``: the ward with code *ward_code* and its PDF."""
    ward = service.ward_by_code(db.session, ward_code)
    base = base_url.rstrip("/") if base_url else public_base_url(app)
    return ward, ward_sheet(app, ward, base)
