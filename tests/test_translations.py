"""Every user-facing string is translated into Vietnamese, with matching placeholders."""

from __future__ import annotations

import pathlib

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from helpdesk_core import i18n

ROOT = pathlib.Path(__file__).resolve().parents[1]
AREAS = [ROOT / "helpdesk_core", ROOT / "webapp",
         *sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists())]
KEYWORDS = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None, **{
    name: None for name in ("HelpdeskError", "NotFound", "PermissionDenied",
                            "TransitionNotAllowed", "Conflict", "ValidationFailed",
                            "PluginError")})
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def source_messages(area: pathlib.Path) -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(area), METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


@pytest.mark.parametrize("area", AREAS, ids=lambda p: p.name)
def test_catalog_translates_every_string_of_its_area(area):
    path = area / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{area.name} has no Vietnamese catalog; run `make messages`"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in catalog
                  if m.id and m.string and "fuzzy" not in m.flags
                  and (isinstance(m.string, str) or all(m.string))}
    untranslated = sorted(source_messages(area) - translated)
    assert not untranslated, f"untranslated in {path}: {untranslated}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check() if errors]
    assert not problems, problems


def test_vietnamese_is_the_default_and_english_falls_back_to_the_source():
    from helpdesk_core.services.workflow import STATUS_LABELS
    assert i18n.DEFAULT_LOCALE == "vi"
    with i18n.use_locale("vi"):
        assert i18n.gettext(STATUS_LABELS["in_progress"]) == "Đang xử lý"
    with i18n.use_locale("en"):
        assert i18n.gettext(STATUS_LABELS["in_progress"]) == "In progress"
