"""The REST API under /api/v1: other systems (the 1022 hotline's, the Smart City app, the
city's monitoring) file and follow tickets and read assets, checks and the status board.

Built on flask-smorest: marshmallow schemas validate input and document the API as an
OpenAPI 3.1 document (``/api/v1/openapi.json``), browsable at ``/api/v1/docs`` with the
Swagger UI files of the swagger-ui-py package, served by the app (no CDN).
"""

from __future__ import annotations

import http
import importlib.util
import os

from flask import Blueprint, Flask, abort, render_template, send_from_directory, url_for
from flask_smorest import Api

from ..extensions import csrf
from . import problems
from .schemas import ProblemSchema

PREFIX = "/api/v1"
SETTINGS = {
    "API_TITLE": "Ward Helpdesk API",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
}
DESCRIPTION = """Tickets, assets and health checks of Da Nang's ward public administration
centres, for other systems.

Authenticate with a token an administrator made on /admin/api-tokens:
`Authorization: Bearer whd_...`. A token reaches its wards only, reads, or reads and
writes; each token has its own rate limit. Errors are `application/problem+json`
(RFC 9457), in Vietnamese unless `Accept-Language: en`.
"""


class HelpdeskApi(Api):
    """flask-smorest's Api with errors documented as problem documents, and the app's
    own error handlers (webapp/errors.py) left in place."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """webapp/errors.py answers problems under /api/ and pages elsewhere."""

    def _register_responses(self) -> None:
        from flask_smorest.utils import prepare_response
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (RFC 9457 problem details).",
                    "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


api = HelpdeskApi(spec_kwargs={"info": {"description": DESCRIPTION},
                               "security": [{"bearerAuth": []}]})


def init_app(app: Flask) -> None:
    """Attach the API and its documentation to *app*."""
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "An integration's token (made on /admin/api-tokens)."})
    from . import catalog, tickets  # noqa: F401 (their blueprints register below)
    from .blueprint import BLUEPRINTS
    for bp in BLUEPRINTS:
        api.register_blueprint(bp, url_prefix=PREFIX + (bp.url_prefix or ""))
    app.register_blueprint(_docs_blueprint())
    csrf.exempt("api-docs")


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
