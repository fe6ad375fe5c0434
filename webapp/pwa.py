"""The installable web app (PWA): the manifest, the service worker at the site's root,
and the page shown offline when nothing is cached.

All three are public: browsers fetch the manifest without cookies, and the service
worker and the offline page must work for whoever opens the site. None shows data.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory, url_for

from helpdesk_core import i18n

bp = Blueprint("pwa", __name__)

THEME_COLOR = "#0b3d6e"  # the top bar's colour: the phone's status bar matches it
BACKGROUND_COLOR = "#f6f8fa"


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest: name, icons, start page, standalone display."""
    def icon(name: str, size: int, purpose: str = "any") -> dict[str, str]:
        return {"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}",
                "type": "image/png", "purpose": purpose}

    root = url_for("main.home")
    response = jsonify({
        "id": root,
        "name": i18n.gettext("Ward Helpdesk"),
        "short_name": i18n.gettext("Helpdesk"),
        "description": i18n.gettext("IT support requests of the ward's public service centre"),
        "lang": i18n.get_locale(),
        "start_url": root,
        "scope": root,
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [icon("icon-192.png", 192), icon("icon-512.png", 512),
                  icon("icon-maskable-512.png", 512, "maskable")],
    })
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
def service_worker():
    """The service worker, served from the root so its scope is the whole site."""
    response = send_from_directory(current_app.static_folder, "sw.js",
                                   mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = url_for("main.home")
    return response


@bp.route("/offline")
def offline():
    """What the service worker shows offline when no queue page was saved yet."""
    return render_template("offline.html")
