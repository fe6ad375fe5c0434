"""The REST API under /api/v1: other systems (the 1022 hotline's, the Smart City app, the
city's monitoring) file and follow tickets and read assets, checks and the status board.

Built on flask-smorest: marshmallow schemas validate input and document the API as an
OpenAPI 3.1 document (``/api/v1/openapi.json``), browsable at ``/api/v1/docs`` with the
Swagger UI files of the swagger-ui-py package, served by the app (no CDN).

The routes and the document are built on the first request under /api/
(webapp/api/document.py): flask-smorest, marshmallow, apispec and PyYAML take about 3 MB in
each web worker, most of which never serves the API. The browsable documentation's page
is registered at once, as the administration links to it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import Any, Callable, Iterable

import click
from flask import Blueprint, Flask, abort, render_template, send_from_directory, url_for

from ..extensions import csrf

PREFIX = "/api/v1"
SETTINGS = {
    "API_TITLE": "Ward Helpdesk API",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
}
_BUILT = "helpdesk-api-built"
_LOCK = threading.Lock()


def init_app(app: Flask) -> None:
    """Attach the API to *app*: its documentation's page now, its routes on the first
    request under /api/ (:func:`build`)."""
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(_docs_blueprint())
    csrf.exempt("api-docs")
    app.wsgi_app = _BuildOnFirstRequest(app, app.wsgi_app)
    app.cli.add_command(_OpenApiCommands(app))


def build(app: Flask) -> None:
    """Attach the API's routes and OpenAPI document to *app*, unless done already.

    Called on the first request under /api/, and by what lists every route of the app
    (tests of each route's permissions, ``flask openapi``)."""
    with _LOCK:
        if app.extensions.get(_BUILT):
            return
        from .document import attach
        # Flask refuses new routes once a request was served (a page before the first
        # API call); nothing else of the app changes, and each route is complete once
        # added. Flask resets the same flag when its own server stops.
        served = app._got_first_request
        app._got_first_request = False
        try:
            attach(app)
        finally:
            app._got_first_request = served
        app.extensions[_BUILT] = True


class _BuildOnFirstRequest:
    """The app's WSGI callable: builds the API before the first request under /api/."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("PATH_INFO", "").startswith("/api/") \
                and not self.app.extensions.get(_BUILT):
            build(self.app)
        return self.wsgi_app(environ, start_response)


class _OpenApiCommands(click.Group):
    """flask-smorest's ``openapi`` commands (print, write the document), the API built
    when one is asked for."""

    def __init__(self, app: Flask) -> None:
        super().__init__("openapi", help="OpenAPI commands.")
        self.app = app

    def _commands(self) -> click.Group:
        build(self.app)
        from flask_smorest.spec import openapi_cli
        return openapi_cli

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._commands().get_command(ctx, cmd_name)


def _swagger_ui_folder() -> str:
    """Swagger UI's files inside the swagger-ui-py package (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return os.path.join(list(spec.submodule_search_locations)[0], "static")


SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js")


def _docs_blueprint() -> Blueprint:
    bp = Blueprint("api_docs_ui", __name__, url_prefix=PREFIX + "/docs")
    folder = _swagger_ui_folder()

    @bp.route("/")
    def page():
        """Browsable documentation of the API (Swagger UI, from the app's own files)."""
        return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))

    @bp.route("/static/<name>")
    def asset(name: str):
        if name not in SWAGGER_FILES or not folder:
            abort(404)
        return send_from_directory(folder, name, max_age=24 * 3600)

    return bp
