"""The monthly report as files: an XLSX workbook with native charts, and a PDF.

Both are drawn from a :class:`~helpdesk_core.services.monthly.Report` alone (no database),
section by section: a table, and the chart the section asks for. The PDF embeds a
TrueType font with Vietnamese letters (the one :func:`helpdesk_core.stickers.find_font`
picks), and draws its charts with ``reportlab.graphics``.
"""

from __future__ import annotations

import io
import re
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer,
                                Table, TableStyle)

from .exports import PDF_CONTENT_TYPE, XLSX_CONTENT_TYPE, inert_cell  # noqa: F401 - re-exported
from .i18n import gettext
from .services.monthly import Report, Section

FONT_NAME = "HelpdeskReportSans"
# Colour-blind-safe palette (Okabe-Ito), as on the dashboard.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


# --- XLSX ------------------------------------------------------------------------------

def _sheet_title(index: int, title: str, used: set[str]) -> str:
    """A valid, unique sheet name (31 characters, none of []:*?/\\)."""
    base = _SHEET_BAD.sub(" ", f"{index}. {title}")[:31].strip()
    name, n = base, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def render_xlsx(report: Report) -> bytes:
    """The workbook: a summary sheet, then one sheet per section with its native chart."""
    book = Workbook()
    summary = book.active
    summary.title = gettext("Summary")[:31]
    used = {summary.title}
    summary.append([report.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([gettext("Period"),
                    f"{report.period.start:%d/%m/%Y} - {report.period.end:%d/%m/%Y}"])
    summary.append([])
    summary.append([gettext("Section"), gettext("Sheet")])
    sheets = []
    for index, section in enumerate(report.sections, start=1):
        sheet = book.create_sheet(_sheet_title(index, section.title, used))
        sheets.append(sheet.title)
        _write_section(sheet, section)
        summary.append([inert_cell(section.title), sheet.title])
    summary.column_dimensions["A"].width = 48
    summary.column_dimensions["B"].width = 34
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_section(sheet: Any, section: Section) -> None:
    sheet.append([inert_cell(section.title)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([inert_cell(section.note)] if section.note else [])
    header_row = 3
    sheet.append([inert_cell(c) for c in section.columns])
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in section.rows:
        sheet.append([inert_cell(v) for v in row])
    last = header_row + len(section.rows)
    if section.total is not None:
        sheet.append([inert_cell(v) for v in section.total])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for index in section.percent:
        for (cell,) in sheet.iter_rows(min_row=header_row + 1, max_row=sheet.max_row,
                                       min_col=index + 1, max_col=index + 1):
            cell.number_format = "0.0"
    sheet.column_dimensions["A"].width = max(
        [len(str(section.columns[0]))] + [len(str(r[0])) for r in section.rows[:200]]) + 2
    for index in range(2, len(section.columns) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 16
    if section.chart != "none" and section.rows:
        sheet.add_chart(_xlsx_chart(sheet, section, header_row, last),
                        f"{get_column_letter(len(section.columns) + 2)}{header_row}")


def _xlsx_chart(sheet: Any, section: Section, header_row: int, last: int) -> Any:
    labels = Reference(sheet, min_col=1, min_row=header_row + 1, max_row=last)
    if section.chart == "pie":
        chart = PieChart()
        column = section.series[0] + 1
        chart.add_data(Reference(sheet, min_col=column, min_row=header_row, max_row=last),
                       titles_from_data=True)
        chart.set_categories(labels)
    else:
        chart = BarChart()
        chart.type = "bar" if section.chart == "bar" else "col"
        for column in section.series:
            chart.add_data(Reference(sheet, min_col=column + 1, min_row=header_row,
                                     max_row=last), titles_from_data=True)
        chart.set_categories(labels)
        if section.chart == "bar":
            chart.x_axis.scaling.orientation = "maxMin"  # first ward on top, as in the table
        chart.height = max(7.5, 0.45 * len(section.rows)) if section.chart == "bar" else 7.5
        chart.width = 18
    chart.title = section.title
    return chart


# --- PDF -------------------------------------------------------------------------------

def register_font(path: str) -> str:
    """Register the TrueType font at *path* for the report; returns the font's name."""
    registered = pdfmetrics._fonts.get(FONT_NAME)
    if registered is None or getattr(registered, "_helpdesk_path", None) != path:
        font = TTFont(FONT_NAME, path)
        font._helpdesk_path = path
        pdfmetrics.registerFont(font)
    return FONT_NAME


def render_pdf(report: Report, font_path: str) -> bytes:
    """The PDF: a title page with the headline figures, then a chart and a table per section.

    :param font_path: a TrueType font with Vietnamese letters (embedded as a subset).
    """
    font = register_font(font_path)
    styles = {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=23,
                                spaceAfter=8),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=14, leading=18, spaceBefore=6,
                             spaceAfter=6),
        "body": ParagraphStyle("body", fontName=font, fontSize=9.5, leading=12.5,
                               spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=8, leading=10),
    }
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=report.title,
                            author=gettext("Ward Helpdesk"))
    story: list[Any] = [Paragraph(_esc(report.title), styles["title"]),
                        Paragraph(_esc(gettext("Period: %(start)s - %(end)s",
                                               start=f"{report.period.start:%d/%m/%Y}",
                                               end=f"{report.period.end:%d/%m/%Y}")),
                                  styles["body"])]
    for section in report.sections:
        story.append(Paragraph(_esc("• " + section.title), styles["body"]))
    width = doc.width - 12  # the frame's padding
    for section in report.sections:
        story.append(PageBreak())
        head = [Paragraph(_esc(section.title), styles["h2"])]
        if section.note:
            head.append(Paragraph(_esc(section.note), styles["body"]))
        drawings = _pdf_charts(section, width, font) if section.rows else []
        story.append(KeepTogether(head + drawings[:1]))
        story.extend(drawings[1:])
        story.append(Spacer(1, 4 * mm))
        story.append(_pdf_table(section, width, styles["cell"], font))
    doc.build(story)
    return out.getvalue()


def _esc(text: str) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _fmt(value: Any, percent: bool) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        return text
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


def _pdf_table(section: Section, width: float, style: ParagraphStyle, font: str) -> Table:
    rows: list[list[Any]] = [[Paragraph(_esc(c), style) for c in section.columns]]
    body = section.rows + ([section.total] if section.total is not None else [])
    if not section.rows:
        rows.append([Paragraph(_esc(gettext("No data for this month.")), style)]
                    + [""] * (len(section.columns) - 1))
    for row in body:
        rows.append([Paragraph(_esc(_fmt(v, i in section.percent)), style) if i == 0
                     else _fmt(v, i in section.percent) for i, v in enumerate(row)])
    first = width * (0.42 if len(section.columns) > 3 else 0.55)
    rest = (width - first) / max(len(section.columns) - 1, 1)
    table = Table(rows, colWidths=[first] + [rest] * (len(section.columns) - 1),
                  repeatRows=1)
    commands = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F2F2F2")]),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    if section.total is not None and section.rows:
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black))
    table.setStyle(TableStyle(commands))
    return table


def _numbers(section: Section, column: int) -> list[float]:
    return [float(r[column]) if isinstance(r[column], (int, float)) else 0.0
            for r in section.rows]


# Horizontal bars per chart: a longer list (94 wards) is drawn as several charts, each
# small enough for a page, so every label stays readable.
BARS_PER_CHART_HEIGHT = 560.0


def _pdf_charts(section: Section, width: float, font: str) -> list[Drawing]:
    """The section's chart, split into page-sized parts when it has many bars."""
    if section.chart != "bar":
        drawing = _pdf_chart(section, width, font)
        return [drawing] if drawing is not None else []
    step = 7.0 * len(section.series) + 3
    per_chart = max(1, int(BARS_PER_CHART_HEIGHT // step))
    parts = []
    for start in range(0, len(section.rows), per_chart):
        part = Section(section.key, section.title, section.columns,
                       section.rows[start:start + per_chart], section.chart, section.series)
        drawing = _pdf_chart(part, width, font, top=_top(section))
        if drawing is not None:
            parts.append(drawing)
    return parts


def _top(section: Section) -> float:
    return max((max(_numbers(section, c), default=0.0) for c in section.series), default=0.0)


def _pdf_chart(section: Section, width: float, font: str,
               top: float | None = None) -> Drawing | None:
    if section.chart == "none":
        return None
    labels = [str(r[0]) for r in section.rows]
    if section.chart == "pie":
        drawing = Drawing(width, 170)
        pie = Pie()
        pie.x, pie.y, pie.width, pie.height = 10, 10, 150, 150
        pie.data = _numbers(section, section.series[0]) or [0.0]
        if not any(pie.data):
            return None
        pie.labels = None
        for i in range(len(pie.data)):
            pie.slices[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
            pie.slices[i].strokeColor = colors.white
        drawing.add(pie)
        drawing.add(_legend(font, 190, 150, [(PALETTE[i % len(PALETTE)], f"{label}: "
                                              f"{_fmt(int(v), False)}")
                                             for i, (label, v) in enumerate(
                                                 zip(labels, pie.data))]))
        return drawing
    horizontal = section.chart == "bar"
    series = list(section.series)
    data = [_numbers(section, c) for c in series]
    top = _top(section) if top is None else top  # one scale for all parts of a chart
    if horizontal:
        step = 7.0 * len(series) + 3
        plot_h = max(60.0, step * len(labels))
        drawing = Drawing(width, plot_h + 40)
        chart = HorizontalBarChart()
        chart.x, chart.y, chart.width, chart.height = 150, 25, width - 170, plot_h
        chart.categoryAxis.reverseDirection = 1  # first row on top, as in the table
        chart.categoryAxis.labels.fontSize = 6.5
        chart.categoryAxis.labels.dx = -3
        chart.categoryAxis.labels.boxAnchor = "e"
    else:
        drawing = Drawing(width, 200)
        chart = VerticalBarChart()
        chart.x, chart.y, chart.width, chart.height = 40, 60, width - 60, 120
        chart.categoryAxis.labels.fontSize = 7
        chart.categoryAxis.labels.angle = 20 if len(labels) > 4 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 4 else "n"
    chart.data = data
    chart.categoryAxis.categoryNames = [label[:38] for label in labels]
    chart.categoryAxis.labels.fontName = font
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top * 1.1 if top else 1
    chart.valueAxis.forceZero = 1
    chart.barSpacing = 0.5
    chart.groupSpacing = 2
    for i in range(len(series)):
        chart.bars[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    if len(series) > 1:
        drawing.add(_legend(font, chart.x, drawing.height - 4,
                            [(PALETTE[i % len(PALETTE)], section.columns[c])
                             for i, c in enumerate(series)], columns=len(series)))
    return drawing


def _legend(font: str, x: float, y: float, items: Sequence[tuple[str, str]],
            columns: int = 1) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = font, 7.5
    legend.alignment = "right"
    legend.columnMaximum = max(1, -(-len(items) // columns))
    legend.dxTextSpace = 4
    legend.colorNamePairs = [(colors.HexColor(c), label) for c, label in items]
    return legend
