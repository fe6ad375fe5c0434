"""A plugin's own pages: what it declares, what its views get and return.

Plain objects, no Flask: the web layer turns a :class:`Page` into a route under
``/p/<plugin>/``, hands each view a :class:`PageRequest` and turns what the view returns
(:class:`Render` or :class:`Redirect`) into a response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .contracts import Text, valid_key
from .errors import NotFound

ALL_ROLES = ("staff", "student", "coordinator", "admin")
# A page path below the plugin's prefix, in Werkzeug's rule syntax: "/", "/counters",
# "/counters/<int:counter_id>". Only the int and string converters: nothing that
# matches across slashes or reaches outside the prefix.
_PATH = re.compile(r"^/([a-z0-9_\-]+|<(int|string):[a-z_][a-z0-9_]*>)"
                   r"(/([a-z0-9_\-]+|<(int|string):[a-z_][a-z0-9_]*>))*/?$|^/$")


@dataclass(frozen=True)
class Page:
    """A page of a plugin, served at ``/p/<plugin><path>`` to logged-in users.

    :param key: slug naming the page (``request.url_for(key)``), unique in the plugin.
    :param path: below the plugin's prefix, e.g. ``"/"`` or ``"/counters/<int:counter_id>"``
        (converters ``int`` and ``string`` only).
    :param view: ``view(request: PageRequest, **path_values)`` returning :class:`Render`
        or :class:`Redirect`; raise :class:`~helpdesk_core.errors.NotFound` for "404".
    :param methods: ``("GET",)`` or ``("GET", "POST")``; every POST needs the form's
        CSRF token, as everywhere in the app.
    :param roles: the roles that may open it; others get 403.
    :param nav_label: if set, a link in the main menu for those roles.
    """

    key: str
    path: str
    view: Callable[..., Any]
    methods: tuple[str, ...] = ("GET",)
    roles: tuple[str, ...] = ALL_ROLES
    nav_label: Text | None = None


def valid_page(page: Any) -> bool:
    """Whether *page* is a :class:`Page` the web layer can mount safely."""
    return (isinstance(page, Page) and valid_key(page.key) and callable(page.view)
            and isinstance(page.path, str) and bool(_PATH.match(page.path))
            and bool(page.methods) and set(page.methods) <= {"GET", "POST"}
            and bool(page.roles) and set(page.roles) <= set(ALL_ROLES))


@dataclass(frozen=True)
class Render:
    """Render *template* (from the plugin's ``templates/`` folder, named
    ``"<plugin>/<file>"``) with *context*. The template extends ``"base.html"`` and
    fills ``{% block content %}``; ``_()`` in it uses the plugin's own catalog."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True)
class Redirect:
    """Send the browser to *to*: a page key of this plugin, or a path of this site
    starting with ``/`` (never another site). *values* fill the page's path."""

    to: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class PageRequest:
    """What a plugin page view gets: who asks, the wards they may see, the input.

    :param plugin: the plugin's name.
    :param user: the logged-in :class:`~helpdesk_core.models.User`.
    :param ward_ids: the wards in the user's scope today; None means every ward
        (coordinators, administrators). Show nothing outside it: :meth:`check_ward`.
    :param wards: those wards (``.id``, ``.code``, ``.name``), by name.
    :param session: the request's SQLAlchemy session (the app commits nothing for you:
        call ``session.commit()`` after a change).
    :param method: ``"GET"`` or ``"POST"``.
    :param args: the query string, one value per name.
    :param form: the posted fields, one value per name (use :meth:`bind` for a form).
    :param settings: the plugin's settings (see ``helpdesk_register_settings``).
    :param now: the current time, aware UTC.
    :param registry: the :class:`~helpdesk_core.PluginRegistry`.
    """

    plugin: str
    user: Any
    ward_ids: frozenset[int] | None
    wards: list[Any]
    session: Any
    method: str
    args: Mapping[str, str]
    form: Mapping[str, str]
    settings: Mapping[str, Any]
    now: Any
    registry: Any
    _bind: Callable[..., Any] = field(repr=False, default=None)
    _url_for: Callable[..., str] = field(repr=False, default=None)

    def in_scope(self, ward_id: int | None) -> bool:
        """Whether the user may see things of ward *ward_id*."""
        return self.ward_ids is None or ward_id in self.ward_ids

    def check_ward(self, ward_id: int | None) -> None:
        """Raise :class:`NotFound` (a 404 page) unless *ward_id* is in scope."""
        if not self.in_scope(ward_id):
            raise NotFound("Not found.")

    def not_found(self) -> None:
        """Raise :class:`NotFound`: the page answers 404, as for anything out of scope."""
        raise NotFound("Not found.")

    def bind(self, form_class: type, **kwargs: Any) -> Any:
        """An instance of the ``wtforms.Form`` subclass bound to the posted data, with
        CSRF on and messages in the user's language (render ``form.csrf_token``)."""
        return self._bind(form_class, **kwargs)

    def url_for(self, key: str, **values: Any) -> str:
        """The address of this plugin's page *key*."""
        return self._url_for(key, **values)
