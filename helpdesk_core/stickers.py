"""QR stickers: A4 sheets of labels, each with a device's name, ward and a QR code.

Pure layout (no database, no Flask): the caller gives the labels, the URL each code
carries included. ReportLab draws the PDF and embeds (a subset of) a TrueType font that
has Vietnamese letters; segno makes the QR codes, drawn as vector squares so they print
sharp at any size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Iterable, Sequence

import segno
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

# The font look-up lives in a light module (no ReportLab) for the web pages; re-exported.
from .fonts import (FONT_CANDIDATES, VIETNAMESE_SAMPLE, StickerFontMissing,  # noqa: F401
                    covers_vietnamese, find_font)

# A common label stock: 24 labels of 70 x 37 mm on A4, three across, eight down.
COLUMNS, ROWS = 3, 8
LABEL_WIDTH, LABEL_HEIGHT = A4[0] / COLUMNS, A4[1] / ROWS
PADDING = 3 * mm
QR_SIZE = LABEL_HEIGHT - 2 * PADDING   # with its quiet zone, as tall as the label allows
QR_QUIET_MODULES = 2                   # plus the label's white padding: 4 modules or more
FONT_NAME = "HelpdeskStickerSans"
CUT_LINE = Color(0.8, 0.8, 0.8)


@dataclass(frozen=True)
class Label:
    """One sticker: what a person reads, and the URL its QR code carries."""

    name: str
    ward: str
    url: str
    detail: str = ""   # a location ("Quầy 1"), printed small
    code: str = ""     # the short code, printed for those who type rather than scan


def render_sheets(labels: Sequence[Label], font_path: str, title: str = "") -> bytes:
    """The PDF: as many A4 pages of :data:`COLUMNS` x :data:`ROWS` labels as needed."""
    _register_font(font_path)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(title)
    per_page = COLUMNS * ROWS
    for start in range(0, len(labels), per_page):
        if start:
            pdf.showPage()
        for index, label in enumerate(labels[start:start + per_page]):
            column, row = index % COLUMNS, index // COLUMNS
            _draw_label(pdf, label, column * LABEL_WIDTH, A4[1] - (row + 1) * LABEL_HEIGHT)
    pdf.save()
    return out.getvalue()


def _register_font(path: str) -> None:
    registered = pdfmetrics._fonts.get(FONT_NAME)
    if registered is None or getattr(registered, "_helpdesk_path", None) != path:
        font = TTFont(FONT_NAME, path)
        font._helpdesk_path = path
        pdfmetrics.registerFont(font)


def _draw_label(pdf: canvas.Canvas, label: Label, x: float, y: float) -> None:
    pdf.setStrokeColor(CUT_LINE)
    pdf.setLineWidth(0.3)
    pdf.rect(x, y, LABEL_WIDTH, LABEL_HEIGHT)
    _draw_qr(pdf, label.url, x + PADDING, y + PADDING, QR_SIZE)
    text_x = x + PADDING + QR_SIZE + 2 * mm
    width = x + LABEL_WIDTH - PADDING - text_x
    pdf.setFillColor(black)
    top = y + LABEL_HEIGHT - PADDING
    top = _draw_lines(pdf, label.name, text_x, top, width, 9, max_lines=3)
    top = _draw_lines(pdf, label.ward, text_x, top - 1 * mm, width, 7, max_lines=2)
    if label.detail:
        _draw_lines(pdf, label.detail, text_x, top, width, 7, max_lines=1)
    if label.code:
        pdf.setFont(FONT_NAME, 7)
        pdf.drawString(text_x, y + PADDING, label.code)


def _draw_lines(pdf: canvas.Canvas, text: str, x: float, top: float, width: float,
                size: float, max_lines: int) -> float:
    """Draw *text* wrapped to *width* below *top*; return where the next text goes."""
    lines = simpleSplit(text, FONT_NAME, size, width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += "…"
    lines = [_shorten(line, width, size) for line in lines]  # a word wider than the label
    pdf.setFont(FONT_NAME, size)
    for line in lines:
        top -= size * 1.15
        pdf.drawString(x, top, line)
    return top


def _shorten(line: str, width: float, size: float) -> str:
    """*line*, cut and ended with "…" until it fits *width*."""
    if pdfmetrics.stringWidth(line, FONT_NAME, size) <= width:
        return line
    line = line.rstrip("…")
    while len(line) > 1 and pdfmetrics.stringWidth(line + "…", FONT_NAME, size) > width:
        line = line[:-1]
    return line + "…"


def _draw_qr(pdf: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code of *url* (error correction M: a scuffed sticker still scans)."""
    code = segno.make(url, error="m", micro=False, boost_error=False)
    rows = list(code.matrix_iter(scale=1, border=QR_QUIET_MODULES))
    module = size / len(rows)
    pdf.setFillColor(black)
    for r, row in enumerate(rows):
        for c, dark in _runs(row):
            pdf.rect(x + c * module, y + size - (r + 1) * module, dark * module, module,
                     stroke=0, fill=1)


def _runs(row: Iterable[int]) -> Iterable[tuple[int, int]]:
    """(start column, length) of each run of dark modules in a row: fewer, wider squares."""
    start = None
    cells = list(row)
    for column, dark in enumerate(cells + [0]):
        if dark and start is None:
            start = column
        elif not dark and start is not None:
            yield start, column - start
            start = None


# Shared with the certificates (helpdesk_core/certificates.py): one font registration
# and one way of drawing a QR code.
register_font = _register_font
draw_qr = _draw_qr
