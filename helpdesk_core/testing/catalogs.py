"""Translation checks for a plugin's catalog, read from the ``.po`` files themselves.

Every area (the core, the web layer, each plugin) ships ``translations/<locale>/
LC_MESSAGES/*.po``. A plugin's catalog must translate every string its source marks
for translation, and must not give a message id another catalog already translates a
different translation: where catalogs are merged into one lookup, that would change
the other area's text.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import pathlib
from types import ModuleType
from typing import Iterable

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from ..plugins import ENTRY_POINT_GROUP

# gettext, ngettext, N_ ... plus the core's lazy_gettext and its usual alias.
KEYWORDS = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None)
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def package_dir(package: ModuleType | str | pathlib.Path) -> pathlib.Path:
    """The folder of a package given as a module, a folder, or an importable name."""
    if isinstance(package, ModuleType):
        return pathlib.Path(package.__file__).resolve().parent
    path = pathlib.Path(package)
    if path.is_dir():
        return path.resolve()
    spec = importlib.util.find_spec(str(package))
    if spec is None or not spec.origin:
        raise ValueError(f"cannot find the package {package!r}")
    return pathlib.Path(spec.origin).resolve().parent


def compile_catalogs(package: ModuleType | str | pathlib.Path) -> list[pathlib.Path]:
    """Compile every ``translations/*/LC_MESSAGES/*.po`` of *package* into ``.mo`` files
    beside them (what ``pybabel compile -d <package>/translations`` does)."""
    written = []
    for po_path in sorted(package_dir(package).glob("translations/*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog)
        written.append(mo_path)
    return written


def read_catalogs(translations: pathlib.Path, locale: str) -> dict[str, Catalog]:
    """The ``.po`` catalogs of *locale* under a ``translations/`` folder, by file."""
    catalogs = {}
    for po_path in sorted(translations.glob(f"{locale}/LC_MESSAGES/*.po")):
        with po_path.open("rb") as handle:
            catalogs[str(po_path)] = read_po(handle, locale=locale)
    return catalogs


def _key(message) -> tuple[str | None, str]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def _translation(message) -> str | tuple | None:
    """The message's translation, or None when it is empty or fuzzy."""
    if not message.id or "fuzzy" in message.flags:
        return None
    if isinstance(message.string, str):
        return message.string or None
    return tuple(message.string) if all(message.string) else None


def translations_of(catalogs: Iterable[Catalog]) -> dict[tuple[str | None, str], object]:
    """(context, msgid) to translation, for every translated message of *catalogs*."""
    found = {}
    for catalog in catalogs:
        for message in catalog:
            text = _translation(message)
            if text is not None:
                found[_key(message)] = text
    return found


def source_messages(folder: pathlib.Path) -> set[str]:
    """Every message id the Python files and templates under *folder* mark."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


def other_translation_folders(own: pathlib.Path) -> dict[str, pathlib.Path]:
    """The ``translations/`` folders of the core, the web layer and every plugin of the
    ``ward_helpdesk`` entry points, except *own*; by area name. Nothing is imported."""
    folders = {}
    for area in ("helpdesk_core", "webapp"):
        spec = importlib.util.find_spec(area)
        if spec is not None and spec.origin:
            folders[area] = pathlib.Path(spec.origin).resolve().parent / "translations"
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            spec = importlib.util.find_spec(entry_point.module)
        except (ImportError, ValueError):
            continue  # a broken plugin: the registry reports it
        if spec is not None and spec.origin:
            folders[entry_point.name] = pathlib.Path(spec.origin).resolve().parent / "translations"
    return {name: path for name, path in folders.items()
            if path.resolve() != own.resolve() and path.is_dir()}


def catalog_problems(package: ModuleType | str | pathlib.Path, locale: str = "vi",
                     others: dict[str, pathlib.Path] | None = None) -> list[str]:
    """What is wrong with *package*'s catalog of *locale*, one sentence each.

    - a string marked in the source (``_``, ``_l``, ``gettext``, ``N_``...) without a
      translation (missing, empty or fuzzy);
    - a translation whose placeholders don't match its message id;
    - a message id that another catalog (*others*: by default the core's, the web
      layer's and every installed plugin's) translates differently.
    """
    folder = package_dir(package)
    translations = folder / "translations"
    catalogs = read_catalogs(translations, locale)
    if not catalogs:
        return [f"{folder.name} has no {locale} catalog "
                f"({translations}/{locale}/LC_MESSAGES/*.po)"]
    problems = []
    ours = translations_of(catalogs.values())
    translated = {msgid for _context, msgid in ours}
    for msgid in sorted(source_messages(folder) - translated):
        problems.append(f"untranslated: {msgid!r}")
    for path, catalog in catalogs.items():
        for message, errors in catalog.check():
            if errors:
                problems.append(f"{path}: {message.id!r}: " + "; ".join(map(str, errors)))
    others = other_translation_folders(translations) if others is None else others
    for area, other_folder in sorted(others.items()):
        theirs = translations_of(read_catalogs(other_folder, locale).values())
        for key in sorted(set(ours) & set(theirs), key=str):
            if ours[key] != theirs[key]:
                problems.append(f"clash with {area}: {key[1]!r} is {ours[key]!r} here but "
                                f"{theirs[key]!r} in {area}")
    return problems


def assert_catalog(package: ModuleType | str | pathlib.Path, locale: str = "vi",
                   others: dict[str, pathlib.Path] | None = None) -> None:
    """Fail (AssertionError) with every :func:`catalog_problems` of *package*."""
    problems = catalog_problems(package, locale, others)
    assert not problems, "\n".join(problems)
