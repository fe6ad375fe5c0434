"""The REST API's routes and OpenAPI document, on flask-smorest (webapp/api builds them on
the first request under /api/).

marshmallow schemas validate input and document the API as an OpenAPI 3.1 document
(``/api/v1/openapi.json``).
"""

from __future__ import annotations

import http
import importlib

from flask import Flask
from flask_smorest import Api

from . import PREFIX, problems
from .schemas import ProblemSchema

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


def attach(app: Flask) -> None:
    """Attach the API's routes and its OpenAPI document to *app* (once: webapp/api)."""
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "An integration's token (made on /admin/api-tokens)."})
    for module in ("catalog", "tickets"):  # importing them adds their blueprints
        importlib.import_module(f"{__package__}.{module}")
    from .blueprint import BLUEPRINTS
    for bp in BLUEPRINTS:
        api.register_blueprint(bp, url_prefix=PREFIX + (bp.url_prefix or ""))
