"""The Flask front end used at each ward centre: ``create_app`` builds it.

This package's own module stays light: gunicorn's master imports it for its settings
(``webapp.gunicorn_conf``) and, serving without ``preload_app``, never builds the app;
each worker does (webapp/factory.py).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from flask import Flask

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def create_app(test_config: Mapping[str, Any] | None = None) -> "Flask":
    """Build the app: defaults, instance config, ``HELPDESK_*`` env, then *test_config*."""
    from . import lean_imports
    lean_imports.install()
    from .factory import create_app as build
    return build(test_config)


def registry():
    """The plugin registry of the current app."""
    from flask import current_app
    return current_app.extensions["helpdesk"]
