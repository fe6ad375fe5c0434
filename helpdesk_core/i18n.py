"""Translations for text made outside a web request: core, plugins, CLI and scheduler.

Message ids are English; Vietnamese is the default locale. Every package that ships
user-facing text keeps a ``translations/`` folder (the gettext layout Babel uses).

The core's catalog merges the core's folder and the web layer's (core first): that is
what :func:`gettext` and :func:`lazy_gettext` read. Each plugin has a catalog of its own
(a :class:`Translator`, got with ``translator(__name__)``) that looks up the plugin's
folder first, then the core's catalog: a plugin's strings can never change the core's,
the web layer's or another plugin's, whatever order the plugins load in.
The web layer sets the locale of each request with :func:`set_locale`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from contextvars import ContextVar, Token
from typing import Any, Iterator

from babel.support import LazyProxy, NullTranslations, Translations

DEFAULT_LOCALE = "vi"
SUPPORTED_LOCALES = ("vi", "en")
DOMAIN = "messages"

_current_locale: ContextVar[str] = ContextVar("helpdesk_locale", default=DEFAULT_LOCALE)
_directories: list[str] = [os.path.join(os.path.dirname(__file__), "translations")]
_cache: dict[str, NullTranslations] = {}
_translators: dict[str, "Translator"] = {}
_translators_lock = threading.Lock()


def add_translation_directory(path: str) -> None:
    """Merge the catalogs under *path* (``<locale>/LC_MESSAGES/messages.mo``) into the
    core's catalog. For the core's own packages (the web layer); plugins use
    :func:`translator` instead, so they cannot change the core's strings."""
    path = os.path.abspath(path)
    if os.path.isdir(path) and path not in _directories:
        _directories.append(path)
        clear_cache()


def translation_directories() -> list[str]:
    """The folders merged into the core's catalog, core first (no plugin's among them)."""
    return list(_directories)


def clear_cache() -> None:
    """Forget every loaded catalog (after a ``.mo`` file changed, e.g. in tests)."""
    _cache.clear()
    for each in list(_translators.values()):
        each._cache.clear()


def get_locale() -> str:
    """The locale of the current context (a request, a CLI call, a scheduler job)."""
    return _current_locale.get()


def set_locale(locale: str | None) -> Token[str]:
    """Set the locale of the current context; unknown locales fall back to the default.

    Returns a token for :func:`reset_locale`, so a request can leave things as it found them.
    """
    return _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def reset_locale(token: Token[str]) -> None:
    """Undo a :func:`set_locale`."""
    _current_locale.reset(token)


@contextlib.contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Run a block in *locale*, then restore the previous one."""
    token = _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def translations(locale: str | None = None) -> NullTranslations:
    """The core's merged catalog of *locale* (default: the current one)."""
    locale = locale or get_locale()
    if locale not in _cache:
        merged: NullTranslations | None = None
        for directory in _directories:
            catalog = Translations.load(directory, [locale], DOMAIN)
            if not isinstance(catalog, Translations):
                continue  # no compiled catalog for this locale here
            if merged is None:
                merged = catalog
            else:
                merged.merge(catalog)
        _cache[locale] = merged or NullTranslations()
    return _cache[locale]


def gettext(message: str, **variables: Any) -> str:
    """Translate *message* into the current locale, then fill ``%(name)s`` placeholders."""
    text = translations().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural-aware :func:`gettext`; ``num`` is available as ``%(num)d``."""
    variables.setdefault("num", num)
    return translations().ngettext(singular, plural, num) % variables


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    """A string translated when it is shown, in the locale current at that moment.

    Use it for text defined at import time: labels, form fields, category names.
    """
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def N_(message: str) -> str:
    """Mark *message* for extraction without translating it (translated later by id)."""
    return message


class Translator:
    """The translations of one plugin: its own catalog first, then the core's.

    Get one with :func:`translator`; every module of a plugin gets the same object.
    Its lazy strings remember the translator, so a label made at import time is looked
    up in this plugin's catalog when it is shown, in the locale current at that moment.

    :param directory: the plugin's ``translations/`` folder (``<locale>/LC_MESSAGES/
        messages.mo`` inside); None, or a folder that does not exist: the core's only.
    :param name: who this is, for logs and ``repr``.
    """

    def __init__(self, directory: str | None, name: str = "") -> None:
        self.directory = os.path.abspath(directory) if directory else None
        self.name = name or (self.directory or "core")
        self._cache: dict[str, NullTranslations] = {}

    def __repr__(self) -> str:
        return f"<Translator {self.name} {self.directory}>"

    def translations(self, locale: str | None = None) -> NullTranslations:
        """This plugin's catalog of *locale* with the core's catalog as fallback."""
        locale = locale or get_locale()
        found = self._cache.get(locale)
        if found is None:
            core = translations(locale)
            found = core
            if self.directory and os.path.isdir(self.directory):
                own = Translations.load(self.directory, [locale], DOMAIN)
                if isinstance(own, Translations):  # else: none for this locale here
                    own.add_fallback(core)
                    found = own
            self._cache[locale] = found
        return found

    def gettext(self, message: str, **variables: Any) -> str:
        """Translate *message* (this plugin's catalog, then the core's), then fill
        ``%(name)s`` placeholders."""
        text = self.translations().gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        """Plural-aware :meth:`gettext`; ``num`` is available as ``%(num)d``."""
        variables.setdefault("num", num)
        return self.translations().ngettext(singular, plural, num) % variables

    def lazy_gettext(self, message: str, **variables: Any) -> LazyProxy:
        """A string translated by this plugin's catalog when it is shown."""
        return LazyProxy(self.gettext, message, enable_cache=False, **variables)

    N_ = staticmethod(N_)


def translator(module_name: str, directory: str | None = None) -> Translator:
    """The :class:`Translator` of the plugin that holds module *module_name*.

    Call it as ``translator(__name__)`` in any module of a plugin. The catalog is the
    ``translations/`` folder of the nearest enclosing package (or beside the module)
    that has one: ``plugins.network.resolutions`` finds ``plugins/network/translations``.
    Give *directory* to name the folder yourself.
    """
    owner = module_name
    if directory is None:
        owner, directory = _find_translations(module_name)
    key = os.path.abspath(directory) if directory else ""
    with _translators_lock:
        found = _translators.get(key)
        if found is None:
            found = _translators[key] = Translator(directory,
                                                   name=owner if directory else "core")
    return found


def _find_translations(module_name: str) -> tuple[str, str | None]:
    """The package owning the ``translations/`` folder nearest to *module_name*
    (walking up its packages), and that folder; ``(module_name, None)`` if none."""
    parts = module_name.split(".")
    while parts:
        module = sys.modules.get(".".join(parts))
        path = getattr(module, "__file__", None)
        if path:
            candidate = os.path.join(os.path.dirname(path), "translations")
            if os.path.isdir(candidate):
                return ".".join(parts), candidate
        parts.pop()
    return module_name, None


# WTForms' built-in messages, translated in the core's catalog: the core validates
# plugins' forms itself (the API, the CLI), and WTForms ships no Vietnamese.
WTFORMS_MESSAGES = (
    N_("This field is required."), N_("Not a valid integer value."),
    N_("Not a valid float value."), N_("Not a valid date value."), N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."), N_("The CSRF token is missing."),
    N_("The CSRF token is invalid."), N_("The CSRF token has expired."),
    N_("The CSRF tokens do not match."), N_("Number must be between %(min)s and %(max)s."),
    N_("Number must be at least %(min)s."), N_("Number must be at most %(max)s."),
    N_("Invalid input."),
)


class WTFormsTranslations:
    """Adapter that lets WTForms translate its built-in messages through these catalogs."""

    def gettext(self, string: str) -> str:
        return translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations().ngettext(singular, plural, n)


_ = gettext
_l = lazy_gettext
