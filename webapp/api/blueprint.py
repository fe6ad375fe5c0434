"""What every blueprint of the REST API shares: token authentication first, a rate limit
per token, domain errors as problems, and no CSRF (no cookie authenticates here)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from helpdesk_core.errors import HelpdeskError

from ..extensions import csrf, limiter
from . import auth, problems

BLUEPRINTS: list[Blueprint] = []


def api_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A flask-smorest blueprint named ``api-<name>`` with the API's common behaviour."""
    bp = Blueprint(f"api-{name}", import_name, **options)
    bp.before_request(auth.authenticate)
    bp.register_error_handler(HelpdeskError, problems.from_domain_error)
    limiter.limit(auth.rate_limit, key_func=auth.rate_limit_key)(bp)
    csrf.exempt(bp)
    BLUEPRINTS.append(bp)
    return bp
