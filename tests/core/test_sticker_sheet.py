"""The sticker sheet's layout: every label's text stays inside its label."""

from __future__ import annotations

import pytest
from reportlab.pdfbase import pdfmetrics

from helpdesk_core import stickers as sheets
from tests.conftest import missing


@pytest.fixture
def font() -> str:
    try:
        return sheets.find_font()
    except sheets.StickerFontMissing:
        missing("no font with Vietnamese letters (Debian: fonts-noto-core)")


def test_a_word_wider_than_the_label_is_cut(font):
    sheets._register_font(font)
    drawn: list[str] = []

    class Recorder:
        def setFont(self, *_args):
            pass

        def drawString(self, _x, _y, text):
            drawn.append(text)

    sheets._draw_lines(Recorder(), "Máy" * 60 + " in", 0, 100, 80, 9, max_lines=3)
    assert drawn and all(pdfmetrics.stringWidth(line, sheets.FONT_NAME, 9) <= 80
                         for line in drawn)
    assert drawn[0].endswith("…") and drawn[-1] == "in"


def test_odd_characters_do_not_stop_the_sheet(font):
    label = sheets.Label(name="X\x00\U0001F600 Máy in", ward="Phường\u202e", url="https://x/d/1",
                         detail="\x07", code="#1")
    assert sheets.render_sheets([label], font, title="T\x00").startswith(b"%PDF")


def test_no_labels_make_an_empty_but_valid_pdf(font):
    assert sheets.render_sheets([], font).startswith(b"%PDF")
