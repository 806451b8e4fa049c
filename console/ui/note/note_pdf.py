"""The handoff note on paper: the HTML note laid out by QTextDocument, page by page.

One painter path serves the PDF file (QPdfWriter) and the printer
(QPrinter, from the print dialog or its preview), so what is previewed is
what is printed is what is saved. The text stays text in the PDF (the
therapist's EHR can index it; the tests read it back). Each page gets a
painted header with the patient id and the page number, because a second
page that falls out of a folder must still say whose it is. The PHQ-9 chart
is drawn with QPainter into an image that the document shows in place of the
template's ``<img src="note://phq9-chart">``.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLocale, QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from console.note.content import NoteContent, ReplyBox, Trajectory
from console.note.render import CHART_URL, NoteTemplateError, render_note
from devices.private_file import create_private

log = logging.getLogger(__name__)

PAGE_SIZES = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
MARGINS_MM = QMarginsF(15, 11, 15, 11)
PDF_DPI = 300
FONT_FAMILY = "DejaVu Sans"
CHART_SIZE = (330, 150)  # CSS pixels, as the template's <img> gives it
CHART_SCALE = 4  # image pixels per CSS pixel: sharp when printed at 300-600 dpi

INK = QColor("#1f2933")
MUTED = QColor("#6b7785")
LINE = QColor("#c5ccd3")
SERIES = QColor("#2b5f8a")
RESPONSE = QColor("#3d7a5a")
REMISSION = QColor("#8a6d1f")


@dataclass(frozen=True)
class PrintedNote:
    pages: int
    problem: NoteTemplateError | None  # the clinic template's error, when the default template was used


def default_page() -> str:
    """Letter where the locale measures in US units (US, Canada's printers mostly follow), else A4."""
    imperial = QLocale.system().measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem
    return "letter" if imperial else "a4"


def page_layout(page: str) -> QPageLayout:
    """A4 or Letter, portrait, with the note's margins."""
    try:
        size = QPageSize(PAGE_SIZES[page.lower()])
    except KeyError:
        raise ValueError(f"unknown page size {page!r}; use A4 or Letter") from None
    return QPageLayout(size, QPageLayout.Orientation.Portrait, MARGINS_MM, QPageLayout.Unit.Millimeter)


# --- the PHQ-9 chart ---------------------------------------------------------------------------

def chart_image(trajectory: Trajectory, size: tuple[int, int] = CHART_SIZE,
                scale: int = CHART_SCALE) -> QImage:
    """The PHQ-9 totals over the course, with the response (50 % of baseline) and remission (5) lines."""
    w, h = size
    image = QImage(w * scale, h * scale, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.scale(scale, scale)
        _draw_chart(p, trajectory, w, h)
    finally:
        p.end()
    return image


def _draw_chart(p: QPainter, t: Trajectory, w: float, h: float) -> None:
    font = QFont(FONT_FAMILY)
    font.setPixelSize(9)
    p.setFont(font)
    fm = QFontMetricsF(font)
    left, right, top, bottom = 26.0, 8.0, 8.0, 20.0
    plot = QRectF(left, top, w - left - right, h - top - bottom)
    y_max = 27.0

    def y_of(score: float) -> float:
        return plot.bottom() - plot.height() * score / y_max

    last_day = max((pt.day for pt in t.points), default=0) or 1
    inner_left, inner_w = plot.left() + 10, plot.width() - 22  # dots and their labels clear of the edges

    def x_of(day: float) -> float:
        return inner_left + inner_w * day / last_day if len(t.points) > 1 else plot.center().x()

    p.setPen(QPen(LINE, 0.6))
    for score in (0, 5, 10, 15, 20, 25):
        y = y_of(score)
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(MUTED)
        right_middle = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        p.drawText(QRectF(0, y - 6, left - 5, 12), right_middle, str(score))
        p.setPen(QPen(LINE, 0.6))
    if not t.points:
        p.setPen(MUTED)
        p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No PHQ-9 recorded yet")
        return

    def ref_line(score: float, colour: QColor, style: Qt.PenStyle, label: str) -> None:
        pen = QPen(colour, 1.1)
        pen.setStyle(style)
        p.setPen(pen)
        y = y_of(score)
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(colour)
        label_w = fm.horizontalAdvance(label) + 4
        # Left, just above the line: the series starts high there, so the label stays clear of it.
        box = QRectF(plot.left() + 14, y - 11.5, label_w, 11)
        p.fillRect(box, QColor(255, 255, 255, 220))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)

    if t.response_line is not None:
        ref_line(t.response_line, RESPONSE, Qt.PenStyle.DashLine, f"response ≤ {t.response_line:g}")
    ref_line(t.remission_line, REMISSION, Qt.PenStyle.DotLine, f"remission < {t.remission_line}")

    path = QPainterPath()
    for i, pt in enumerate(t.points):
        point = QPointF(x_of(pt.day), y_of(pt.total))
        path.moveTo(point) if i == 0 else path.lineTo(point)
    p.setPen(QPen(SERIES, 1.8))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    p.setBrush(SERIES)
    for pt in t.points:
        p.drawEllipse(QPointF(x_of(pt.day), y_of(pt.total)), 2.6, 2.6)
    p.setPen(INK)
    for pt in (t.points[0], t.points[-1]) if len(t.points) > 1 else (t.points[0],):
        x, y = x_of(pt.day), y_of(pt.total)
        p.drawText(QRectF(x - 14, y - 16, 28, 12), Qt.AlignmentFlag.AlignCenter, str(pt.total))
    p.setPen(MUTED)
    first, last = t.points[0], t.points[-1]
    centre = Qt.AlignmentFlag.AlignHCenter
    p.drawText(QRectF(x_of(first.day) - 30, plot.bottom() + 7, 60, 12), centre, first.date)
    if len(t.points) > 1:
        p.drawText(QRectF(x_of(last.day) - 30, plot.bottom() + 7, 60, 12), centre, last.date)


# --- the document and its pages ----------------------------------------------------------------

def note_document(html: str, trajectory: Trajectory) -> QTextDocument:
    """The rendered HTML as a QTextDocument, with the chart image in place."""
    doc = QTextDocument()
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(10)
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.setIndentWidth(16)  # list bullets close to the margin: more words per line on one page
    doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(CHART_URL), chart_image(trajectory))
    doc.setHtml(html)
    return doc


def _page_header(content: NoteContent, page: int, pages: int) -> tuple[str, str]:
    h = content.header
    session = f"session {h.session_number} of {h.sessions_planned}" if h.session_number else "session"
    left = f"Patient {h.patient_id} ({h.patient_label}) · {h.date} · {session}"
    return left, f"Therapist handoff note · page {page} of {pages}"


def _content_end(doc: QTextDocument) -> float:
    """Where the text ends, in the paginated document's coordinates (pages stacked one below another).

    The last block after a closing table is empty and Qt places it beside the
    table, so the end is the lowest of the tables (frames) and the last block with text.
    """
    layout = doc.documentLayout()
    end = max((layout.frameBoundingRect(f).bottom() for f in doc.rootFrame().childFrames()), default=0.0)
    block = doc.lastBlock()
    while block.isValid() and not block.text().strip():
        block = block.previous()
    if block.isValid():
        end = max(end, layout.blockBoundingRect(block).bottom())
    return end


def _reply_title_font() -> QFont:
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(10.5)
    font.setBold(True)
    return font


def _reply_place(doc: QTextDocument, reply: ReplyBox, pages: int, body_h: float, dpi: float,
                 title_h: float) -> tuple[int, float, float]:
    """(page index, top, height) of the reply room: under the last line, else on a page of its own."""
    mm = dpi / 25.4
    top = _content_end(doc) - (pages - 1) * body_h + 1 * mm
    room = body_h - top
    most = reply.max_height_mm * mm + title_h
    if room < reply.min_height_mm * mm + title_h:
        return pages, 0.0, min(body_h, most)
    return pages - 1, top, min(room, most)


def _paint_header(painter: QPainter, content: NoteContent, device: QPagedPaintDevice, width: float,
                  dpi: float, page: int, pages: int) -> None:
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(8)
    left, right = _page_header(content, page, pages)
    painter.setFont(font)
    painter.setPen(MUTED)
    line_h = QFontMetricsF(font, device).height()
    painter.drawText(QRectF(0, 0, width, line_h), Qt.AlignmentFlag.AlignLeft, left)
    painter.drawText(QRectF(0, 0, width, line_h), Qt.AlignmentFlag.AlignRight, right)
    painter.setPen(QPen(LINE, dpi / 150))
    painter.drawLine(QPointF(0, line_h + dpi * 0.04), QPointF(width, line_h + dpi * 0.04))


def _paint_reply(painter: QPainter, reply: ReplyBox, device: QPagedPaintDevice, rect: QRectF,
                 dpi: float) -> None:
    """The therapist's reply: a titled, ruled-off box with the signature line at its foot."""
    title_font = _reply_title_font()
    title_h = QFontMetricsF(title_font, device).height()
    painter.setFont(title_font)
    painter.setPen(QColor("#2b5f8a"))
    painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), title_h), Qt.AlignmentFlag.AlignLeft,
                     reply.title)
    box = QRectF(rect.left(), rect.top() + title_h + dpi * 0.04, rect.width(),
                 rect.height() - title_h - dpi * 0.06)
    painter.setPen(QPen(QColor("#9aa5b1"), dpi / 150))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(box)
    if reply.signature_line:
        small = QFont(FONT_FAMILY)
        small.setPointSizeF(8)
        painter.setFont(small)
        painter.setPen(MUTED)
        pad = dpi * 0.06
        painter.drawText(box.adjusted(pad, pad, -pad, -pad),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, reply.signature_line)


def paint_note(doc: QTextDocument, content: NoteContent, device: QPagedPaintDevice) -> int:
    """Lay ``doc`` out on ``device``'s pages and paint them; returns the number of pages.

    Works for QPdfWriter and QPrinter alike: everything is measured in the
    device's own pixels, so the layout follows its resolution and page size.
    Each page gets the patient header; the reply box goes under the last line.
    """
    dpi = device.resolution() if hasattr(device, "resolution") else device.logicalDpiY()
    paint_rect = device.pageLayout().paintRectPixels(dpi)
    width, height = paint_rect.width(), paint_rect.height()
    header_h = dpi * 0.30  # inches: one line of small text and a rule, with air below
    body_h = height - header_h
    doc.documentLayout().setPaintDevice(device)
    doc.setPageSize(QSizeF(width, body_h))
    text_pages = max(1, doc.pageCount())
    title_h = QFontMetricsF(_reply_title_font(), device).height() + dpi * 0.06
    reply_page, reply_top, reply_h = _reply_place(doc, content.reply, text_pages, body_h, dpi, title_h)
    pages = max(text_pages, reply_page + 1)

    painter = QPainter()
    if not painter.begin(device):
        raise OSError("the page could not be opened for painting (is the file writable?)")
    try:
        for index in range(pages):
            if index:
                device.newPage()
            _paint_header(painter, content, device, width, dpi, index + 1, pages)
            if index < text_pages:
                painter.save()
                painter.translate(0, header_h - index * body_h)
                doc.drawContents(painter, QRectF(0, index * body_h, width, body_h))
                painter.restore()
            if index == reply_page:
                room = QRectF(0, header_h + reply_top, width, reply_h)
                _paint_reply(painter, content.reply, device, room, dpi)
    finally:
        painter.end()
    return pages


def write_pdf(content: NoteContent, path: Path | str, page: str = "a4") -> PrintedNote:
    """The note as a PDF file of real text; a clinic template error is returned, the note still made."""
    rendered = render_note(content, "html")
    path = Path(path)
    # Qt would only warn "QPainter::begin(): Returned false"; the system's own error says why
    # (no such folder, permission denied) and names the file. Made here readable by its owner
    # only (a patient's note): Qt keeps the mode of the file it then overwrites.
    create_private(path)
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    writer.setPageLayout(page_layout(page))
    writer.setTitle(f"Therapist handoff note, patient {content.header.patient_id}, "
                    f"session {content.header.session_number or content.header.session_id}")
    writer.setCreator("TMS Session Console")
    doc = note_document(rendered.text, content.trajectory)
    pages = paint_note(doc, content, writer)
    del writer  # the file is complete once the writer is gone
    log.info("handoff note for session %s written to %s (%d page(s))", content.header.session_id, path, pages)
    return PrintedNote(pages, rendered.problem)


def write_pdf_headless(content: NoteContent, path: Path | str, page: str = "a4") -> PrintedNote:
    """:func:`write_pdf` for a command line with no application running: Qt's painter and fonts
    need a QGuiApplication (no window opens), made here so the headless command imports no Qt."""
    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # kept until the file is written
    return write_pdf(content, path, page)
