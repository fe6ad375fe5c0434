"""The parts of the base layout that are the same on every page: rendered once per
language and role, then kept (``layout_part(name)`` in ``base.html``).

The head's links and the main menu are two dozen ``url_for`` calls and as many
translations that give the same HTML on every page of a role in a language; rendering
them was about half of what the layout cost each page. A kept part depends on nothing
else: the templates under ``_layout/`` may use the language, ``current_user.role``, the
plugins' menu links (fixed when the app starts) and ``url_for`` of fixed endpoints, never
the request's query, the user's name, a CSRF token or flashed messages (base.html keeps
those). With templates reloading (debug), no part is kept. The layout's other links to
fixed pages (``layout_url``) are built once too.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from helpdesk_core import i18n

PARTS = frozenset({"head", "nav"})


def layout_part(name: str) -> Markup:
    """The part *name* of the layout (``_layout/<name>.html``) for this language and role."""
    if name not in PARTS:
        raise KeyError(name)
    app = current_app._get_current_object()
    user = current_user._get_current_object()
    role = user.role if user.is_authenticated else None
    key = (name, i18n.get_locale(), role, request.script_root)
    kept: dict = app.extensions["layout_parts"]
    html = kept.get(key)
    if html is None:
        html = Markup(render_template(f"_layout/{name}.html"))
        if not app.jinja_env.auto_reload:
            kept[key] = html
    return html


def layout_url(endpoint: str, **values: str) -> str:
    """``url_for(endpoint, **values)``, built once: the layout's links to fixed pages."""
    app = current_app._get_current_object()
    key = ("url", endpoint, tuple(sorted(values.items())), request.script_root)
    kept: dict = app.extensions["layout_parts"]
    url = kept.get(key)
    if url is None:
        url = kept[key] = url_for(endpoint, **values)
    return url


def install(app: Flask) -> None:
    """``layout_part`` and ``layout_url`` for *app*'s templates, with an empty store of
    kept parts."""
    app.extensions["layout_parts"] = {}
    app.jinja_env.globals.update(layout_part=layout_part, layout_url=layout_url)
