"""The session report for the chart: a PDF of the review record with its plots.

Same wording as the review screen (console.ui.review.review_html), laid out by
QTextDocument on A4 or Letter, text kept as text. Every page carries a
header with the patient, the session and the page number, and a footer with
the sign-off (name, time and meaning, or "Not signed"), so a page on its own
still says whose it is and whether it was reviewed. The plots are the
review screen's own widgets drawn offscreen on white, together on a page of
their own so a page break never cuts one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import QFont, QFontMetricsF, QPagedPaintDevice, QPainter, QPdfWriter, QPen, QTextDocument

from console.review.detail import SessionDetail
from console.review.queue import local_words
from console.ui.note.note_pdf import FONT_FAMILY, LINE, MUTED, PDF_DPI, page_layout
from console.ui.review.review_html import (
    PAPER_CSS,
    addenda_html,
    audit_html,
    entries_html,
    esc,
    events_html,
    flags_html,
    signature_words,
    signatures_html,
    summary_html,
)
from console.ui.review.review_plots import plot_images
from devices.private_file import create_private

log = logging.getLogger(__name__)

TIMELINE_URL = "report://timeline"
SCATTER_URL = "report://scatter"


def report_html(d: SessionDetail) -> str:
    s = d.session
    return f"""<html><head><style>{PAPER_CSS}</style></head><body>
<h1 style="font-size:15pt; margin:0">Session report · {esc(d.title)}</h1>
<p class="muted">Session {s['id']} ({esc(s['uuid'])}) · started {esc(local_words(s['started_at']))} ·
technician {esc(d.person(s['technician']))}</p>
<h2>Review</h2>{signatures_html(d)}
<h2>Flags</h2>{flags_html(d)}
<h2>Summary</h2>{summary_html(d)}
<h2 style="page-break-before: always">Timeline</h2>
<p class="muted">Distance to target (line: coil pose; dots: pulses, green on target, red off, grey without a
pose), intensity against the prescription (dashed), pulses and train starts. Shaded: pauses (blue), faults
(red), device lost (amber).</p>
<p><img src="{TIMELINE_URL}" width="660" height="295"></p>
<h2>Coil position at each pulse</h2>
{_coil_section(d)}
<h2>Record</h2>{entries_html(d)}
<h2>Addenda</h2>{addenda_html(d)}
<h2>Events</h2>{events_html(d)}
<h2>Audit history</h2>{audit_html(d)}
</body></html>"""


def _coil_section(d: SessionDetail) -> str:
    """The scatter of pulse positions, or, when the coil was not tracked, that sentence instead."""
    if d.tracking_words:
        return f"<p class='unsigned'>{esc(d.tracking_words)}</p>"
    return (f'<p><img src="{SCATTER_URL}" width="300" height="300"></p>'
            '<p class="muted">Offset from the target in the coil plane; the circle is the distance '
            f"tolerance ({d.session['tol_distance_mm']:g} mm).</p>")


def report_document(d: SessionDetail) -> QTextDocument:
    doc = QTextDocument()
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(9)
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    timeline, scatter = plot_images(d)
    doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(TIMELINE_URL), timeline)
    doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(SCATTER_URL), scatter)
    doc.setHtml(report_html(d))
    return doc


def _footer(d: SessionDetail) -> str:
    if not d.signatures:
        return "Not signed"
    return " · ".join(signature_words(sig) for sig in d.signatures)


def paint_report(doc: QTextDocument, d: SessionDetail, device: QPagedPaintDevice) -> int:
    """Lay the report out on ``device``'s pages with header and footer; returns the page count."""
    dpi = device.resolution() if hasattr(device, "resolution") else device.logicalDpiY()
    rect = device.pageLayout().paintRectPixels(dpi)
    width, height = rect.width(), rect.height()
    small = QFont(FONT_FAMILY)
    small.setPointSizeF(7.5)
    band = dpi * 0.30
    doc.documentLayout().setPaintDevice(device)
    body = height - 2 * band
    doc.setPageSize(QSizeF(width, body))
    pages = max(1, doc.pageCount())
    p = d.patient
    left = f"Patient {p['clinic_id']} ({p['initials']}) · session {d.session['id']}"
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("the page could not be opened for painting (is the file writable?)")
    try:
        line_h = QFontMetricsF(small, device).height()
        for index in range(pages):
            if index:
                device.newPage()
            painter.setFont(small)
            painter.setPen(MUTED)
            painter.drawText(QRectF(0, 0, width, line_h), Qt.AlignmentFlag.AlignLeft, left)
            painter.drawText(QRectF(0, 0, width, line_h), Qt.AlignmentFlag.AlignRight,
                             f"Session report · page {index + 1} of {pages}")
            painter.drawText(QRectF(0, height - line_h, width, line_h), Qt.AlignmentFlag.AlignLeft,
                             f"Review: {_footer(d)}")
            painter.setPen(QPen(LINE, dpi / 150))
            top, bottom = line_h + dpi * 0.04, height - line_h - dpi * 0.04
            painter.drawLine(QPointF(0, top), QPointF(width, top))
            painter.drawLine(QPointF(0, bottom), QPointF(width, bottom))
            painter.save()
            painter.translate(0, band - index * body)
            doc.drawContents(painter, QRectF(0, index * body, width, body))
            painter.restore()
    finally:
        painter.end()
    return pages


def write_report(d: SessionDetail, path: Path | str, page: str = "a4") -> int:
    """The session report as a PDF file; returns its number of pages."""
    path = Path(path)
    # Readable by its owner only (a patient's record); Qt keeps the mode of the file it overwrites,
    # and the system's error here names the file where Qt would only warn.
    create_private(path)
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    writer.setPageLayout(page_layout(page))
    writer.setTitle(f"Session report, patient {d.patient['clinic_id']}, session {d.session['id']}")
    writer.setCreator("TMS Session Console")
    pages = paint_report(report_document(d), d, writer)
    del writer  # the file is complete once the writer is gone
    log.info("session report for session %s written to %s (%d page(s))", d.session["id"], path, pages)
    return pages
