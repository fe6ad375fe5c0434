"""Plugin pages: each plugin's :class:`~helpdesk_core.pages.Page` list mounted as a
blueprint under ``/p/<plugin>/``, behind the login and the wards in scope, in the app's
layout, each view inside its own guard."""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import Any, Callable

from flask import (Blueprint, Flask, abort, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from helpdesk_core import i18n
from helpdesk_core.errors import HelpdeskError
from helpdesk_core.models import Ward
from helpdesk_core.pages import Page, PageRequest, Redirect, Render
from helpdesk_core.services import plugin_settings, scope

from . import outage
from .errors import render_error
from .extensions import db
from .web import form_meta, local_target, now, today

log = logging.getLogger(__name__)
PREFIX = "/p"
# A path of this site: no scheme, no "//" or "/\\" (another host to a browser), no
# whitespace or control characters (browsers drop them, and "/\t/host" becomes "//host").
def endpoint(plugin: str, key: str) -> str:
    """The Flask endpoint of page *key* of *plugin*."""
    return f"plugin_{plugin}.{key}"


def register(app: Flask) -> None:
    """Mount every loaded plugin's pages, and the menu links they ask for."""
    registry = app.extensions["helpdesk"]
    for plugin, pages in registry.pages.items():
        bp = Blueprint(f"plugin_{plugin}", __name__, url_prefix=f"{PREFIX}/{plugin}",
                       template_folder=_template_folder(registry, plugin))
        for page in pages:
            bp.add_url_rule(page.path, endpoint=page.key, methods=list(page.methods),
                            view_func=_view(registry, plugin, page))
        app.register_blueprint(bp)

    @app.context_processor
    def _plugin_nav() -> dict[str, Any]:
        # A function: only the main menu asks, once per language and role (webapp/layout.py).
        return {"plugin_nav": lambda: _nav_links(registry)}


def _template_folder(registry: Any, plugin: str) -> str | None:
    module = sys.modules.get(getattr(registry.pm.get_plugin(plugin), "__name__", ""), None)
    folder = os.path.join(os.path.dirname(getattr(module, "__file__", "") or ""), "templates")
    return folder if os.path.isdir(folder) else None


def _nav_links(registry: Any) -> list[tuple[Any, str]]:
    if not current_user or not current_user.is_authenticated:
        return []
    return [(page.nav_label, url_for(endpoint(plugin, page.key)))
            for plugin, pages in sorted(registry.pages.items()) for page in pages
            if page.nav_label is not None and current_user.role in page.roles
            and "<" not in page.path]


def _view(registry: Any, plugin: str, page: Page) -> Callable[..., Any]:
    @login_required
    def view(**values: Any) -> Any:
        if current_user.role not in page.roles:
            abort(403)
        try:
            return _respond(registry, plugin, page.view(_page_request(registry, plugin), **values))
        except HTTPException:
            raise
        except HelpdeskError as error:  # NotFound from check_ward: a 404 like any page
            db.session.rollback()
            abort(error.status_code)
        except Exception as exc:
            if outage.is_database_unavailable(exc):
                raise  # the app's outage page, as for any other page
            db.session.rollback()
            registry.record_failure(plugin, f"page:{page.key}", exc)
            return render_error(500)

    view.__name__ = f"{plugin}_{page.key}"
    return functools.wraps(page.view, assigned=("__doc__",))(view)


def _page_request(registry: Any, plugin: str) -> PageRequest:
    settings = (plugin_settings.settings_of(db.session, registry, plugin)
                if plugin in registry.settings_forms else {})

    def bind(form_class: type, **kwargs: Any) -> Any:
        formdata = request.form if request.method == "POST" else None
        return form_class(formdata, meta=form_meta(), **kwargs)

    ward_ids = scope.ward_ids_for(db.session, current_user, today())
    wards = select(Ward).order_by(Ward.name, Ward.id)
    if ward_ids is not None:
        wards = wards.where(Ward.id.in_(ward_ids or [-1]))
    return PageRequest(
        plugin=plugin, user=current_user._get_current_object(), ward_ids=ward_ids,
        wards=list(db.session.scalars(wards)),
        session=db.session, method=request.method, args=request.args.to_dict(),
        form=request.form.to_dict(), settings=settings, now=now(), registry=registry,
        _bind=bind, _url_for=lambda key, **v: url_for(endpoint(plugin, key), **v))


def _respond(registry: Any, plugin: str, result: Any) -> Response | tuple[str, int]:
    """Turn what a view returned into a response; anything else is the plugin's bug."""
    if isinstance(result, Redirect):
        if local_target(result.to):  # a path of this site, judged like login's "next"
            return redirect(result.to)
        return redirect(url_for(endpoint(plugin, result.to), **dict(result.values)))
    if isinstance(result, Render):
        if not result.template.startswith(f"{plugin}/") or ".." in result.template:
            raise ValueError(f"template {result.template!r} is not under {plugin}/")
        if not isinstance(result.status, int) or not 200 <= result.status < 600:
            raise ValueError(f"status {result.status!r} is not an HTTP status")
        own = i18n.translator(registry.pm.get_plugin(plugin).__name__)
        context = dict(result.context)
        context.update(_=own.gettext, plugin=plugin)
        return render_template(result.template, **context), result.status
    raise TypeError(f"a page view returned {type(result).__name__}, not Render or Redirect")
