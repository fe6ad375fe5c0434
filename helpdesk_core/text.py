"""Text helpers for Vietnamese: normalisation and search that ignores diacritics."""

from __future__ import annotations

import re
import unicodedata

_COMBINING = re.compile("[\u0300-\u036f]")
_SPACES = re.compile(r"\s+")


def nfc(value: str) -> str:
    """NFC form: text pasted from macOS, iOS or PDFs often arrives decomposed (NFD)."""
    return unicodedata.normalize("NFC", value or "")


def fold(value: str) -> str:
    """Accent-free lowercase key: "Máy in Đà Nẵng" -> "may in da nang".

    đ/Đ have no Unicode decomposition, so they are mapped by hand.
    """
    decomposed = unicodedata.normalize("NFD", value or "")
    stripped = _COMBINING.sub("", decomposed).replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", stripped.lower()).strip()


def search_terms(query: str) -> list[str]:
    """The folded words of a search query."""
    return [word for word in fold(query).split(" ") if word]
