"""The TrueType font the PDFs embed (stickers, certificates, monthly reports): one with
Vietnamese letters, found among the usual system paths or configured.

Kept apart from the PDF layouts so that the web pages that only name the font do not load
ReportLab; it is imported when a font is checked.
"""

from __future__ import annotations

import os

from .errors import HelpdeskError
from .i18n import N_

# Where Debian/Ubuntu (fonts-noto-core, fonts-dejavu-core), Fedora, Arch and Alpine put
# a sans-serif font that covers Vietnamese; the first one found is used.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/google-noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/google-noto-vf/NotoSans[wght].ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
# Letters a font must have to print Vietnamese names (tones on every vowel, ơ ư đ).
VIETNAMESE_SAMPLE = "ăâđêôơưĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"

NO_FONT = N_("No font with Vietnamese letters was found for the stickers: install "
             "fonts-noto-core (or fonts-dejavu-core), or set HELPDESK_STICKER_FONT to a "
             "TrueType font file.")
FONT_WITHOUT_VIETNAMESE = N_("The font %(path)s has no Vietnamese letters: set "
                             "HELPDESK_STICKER_FONT to one that has (Noto Sans, DejaVu Sans).")

class StickerFontMissing(HelpdeskError):
    """No usable font with Vietnamese letters: stickers cannot be printed."""

    status_code = 500

def find_font(configured: str | None = None) -> str:
    """The path of the font to embed: *configured* if given, else the first candidate.

    Raises :class:`StickerFontMissing` when the font is absent or lacks Vietnamese letters.
    """
    paths = [configured] if configured else list(FONT_CANDIDATES)
    for path in paths:
        if path and os.path.isfile(path):
            if not covers_vietnamese(path):
                raise StickerFontMissing(FONT_WITHOUT_VIETNAMESE, path=path)
            return path
    raise StickerFontMissing(NO_FONT)

def covers_vietnamese(path: str) -> bool:
    """Whether the TrueType font at *path* has every letter of :data:`VIETNAMESE_SAMPLE`."""
    from reportlab.pdfbase.ttfonts import TTFont
    try:
        face = TTFont("probe", path).face
    except Exception:  # not a TrueType font ReportLab can embed
        return False
    return all(ord(ch) in face.charToGlyph for ch in VIETNAMESE_SAMPLE)
