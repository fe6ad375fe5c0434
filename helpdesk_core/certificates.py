"""Certificates of the students' batches: one A4 landscape page each, in Vietnamese.

Pure layout (no database, no Flask), like the stickers whose font handling and QR
drawing it shares: ReportLab embeds (a subset of) a TrueType font with Vietnamese
letters, segno draws the QR code of the public verification URL as vector squares.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Sequence

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from . import i18n
from .stickers import FONT_NAME, draw_qr, register_font

PAGE = landscape(A4)
MARGIN = 15 * mm
QR_SIZE = 32 * mm
FRAME = Color(0.55, 0.1, 0.1)
LOCALE = "vi"  # a certificate is a Vietnamese document, whoever prints it


@dataclass(frozen=True)
class CertificateText:
    """What one certificate shows (all of it comes from the stored figures)."""

    number: str
    name: str
    university: str
    batch: str
    wards: Sequence[str]
    starts_on: dt.date
    ends_on: dt.date
    issued_on: dt.date
    issuing_unit: str
    resolved: int
    on_time_percent: float | None
    hours: float
    url: str  # the public verification page, carried by the QR code


def render(certificates: Sequence[CertificateText], font_path: str, title: str = "") -> bytes:
    """The PDF: one page per certificate."""
    register_font(font_path)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=PAGE, pageCompression=1)
    pdf.setTitle(title)
    with i18n.use_locale(LOCALE):
        for index, cert in enumerate(certificates):
            if index:
                pdf.showPage()
            _draw(pdf, cert)
    pdf.save()
    return out.getvalue()


def _draw(pdf: canvas.Canvas, c: CertificateText) -> None:
    width, height = PAGE
    _ = i18n.gettext
    pdf.setStrokeColor(FRAME)
    pdf.setLineWidth(3)
    pdf.rect(MARGIN / 2, MARGIN / 2, width - MARGIN, height - MARGIN)
    pdf.setLineWidth(0.8)
    pdf.rect(MARGIN / 2 + 4, MARGIN / 2 + 4, width - MARGIN - 8, height - MARGIN - 8)
    pdf.setFillColor(black)
    top = height - MARGIN - 8 * mm
    left_x, right_x = MARGIN + 55 * mm, width - MARGIN - 70 * mm
    _centred(pdf, (c.issuing_unit or _("Ward Helpdesk")).upper(), left_x, top, 11, 110 * mm)
    _centred(pdf, _("SOCIALIST REPUBLIC OF VIETNAM"), right_x, top, 11, 120 * mm)
    _centred(pdf, _("Independence - Freedom - Happiness"), right_x, top - 6 * mm, 11, 120 * mm)
    pdf.setFont(FONT_NAME, 9)
    pdf.drawString(MARGIN + 8 * mm, top - 14 * mm, _("No.: %(number)s", number=c.number))
    y = height - 70 * mm
    _centred(pdf, _("CERTIFICATE"), width / 2, y, 30, width - 2 * MARGIN)
    y -= 14 * mm
    _centred(pdf, _("This is to certify that the student"), width / 2, y, 13, width - 2 * MARGIN)
    y -= 13 * mm
    _centred(pdf, c.name, width / 2, y, 24, width - 2 * MARGIN)
    y -= 10 * mm
    lines = [
        _("University: %(university)s", university=c.university),
        _("took part in %(batch)s, from %(start)s to %(end)s, supporting the digital "
          "transformation of the public administration service centres of:",
          batch=c.batch, start=_day(c.starts_on), end=_day(c.ends_on)),
        ", ".join(c.wards),
        _("Requests resolved: %(resolved)d · on time: %(on_time)s · hours on duty: %(hours)s",
          resolved=c.resolved,
          on_time="—" if c.on_time_percent is None else f"{c.on_time_percent:.0f}%",
          hours=f"{c.hours:g}"),
    ]
    for line in lines:
        for part in _wrap(line, 13, width - 2 * MARGIN - 40 * mm):
            _centred(pdf, part, width / 2, y, 13, width - 2 * MARGIN)
            y -= 7 * mm
    _centred(pdf, _("Da Nang, %(day)s", day=_long_day(c.issued_on)), right_x, MARGIN + 40 * mm,
             12, 120 * mm)
    _centred(pdf, (c.issuing_unit or _("Ward Helpdesk")), right_x, MARGIN + 33 * mm, 11,
             120 * mm)
    qr_x, qr_y = MARGIN + 8 * mm, MARGIN + 8 * mm
    draw_qr(pdf, c.url, qr_x, qr_y, QR_SIZE)
    pdf.setFont(FONT_NAME, 8)
    pdf.drawString(qr_x + QR_SIZE + 3 * mm, qr_y + 10 * mm, _("Check this certificate at:"))
    pdf.drawString(qr_x + QR_SIZE + 3 * mm, qr_y + 5 * mm, c.url)


def _centred(pdf: canvas.Canvas, text: str, x: float, y: float, size: float,
             width: float) -> None:
    while size > 6 and pdfmetrics.stringWidth(text, FONT_NAME, size) > width:
        size -= 0.5  # a long name or unit gets smaller, never cut
    pdf.setFont(FONT_NAME, size)
    pdf.drawCentredString(x, y, text)


def _wrap(text: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit
    return simpleSplit(text, FONT_NAME, size, width) or [""]


def _day(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _long_day(day: dt.date) -> str:
    return i18n.gettext("day %(d)02d month %(m)02d year %(y)d", d=day.day, m=day.month,
                        y=day.year)
