"""Translations for text made outside a web request: core, plugins, CLI and scheduler.

Message ids are English; Vietnamese is the default locale. Every package that ships
user-facing text keeps a ``translations/`` folder (the gettext layout Babel uses), and
plugins' folders are added when they load, so one lookup serves core, plugins and web.
The web layer sets the locale of each request with :func:`set_locale`.
"""

from __future__ import annotations

import contextlib
import os
from contextvars import ContextVar, Token
from typing import Any, Iterator

from babel.support import LazyProxy, NullTranslations, Translations

DEFAULT_LOCALE = "vi"
SUPPORTED_LOCALES = ("vi", "en")
DOMAIN = "messages"

_current_locale: ContextVar[str] = ContextVar("helpdesk_locale", default=DEFAULT_LOCALE)
_directories: list[str] = [os.path.join(os.path.dirname(__file__), "translations")]
_cache: dict[str, NullTranslations] = {}


def add_translation_directory(path: str) -> None:
    """Merge the catalogs under *path* (``<locale>/LC_MESSAGES/messages.mo``) into lookups."""
    path = os.path.abspath(path)
    if os.path.isdir(path) and path not in _directories:
        _directories.append(path)
        _cache.clear()


def translation_directories() -> list[str]:
    """All folders whose catalogs are merged, core first."""
    return list(_directories)


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
    """The merged catalog of *locale* (default: the current one)."""
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


class WTFormsTranslations:
    """Adapter that lets WTForms translate its built-in messages through these catalogs."""

    def gettext(self, string: str) -> str:
        return translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations().ngettext(singular, plural, n)


_ = gettext
_l = lazy_gettext
