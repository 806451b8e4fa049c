"""The handoff note on screen: preview, print (with the system dialog and its preview), save as PDF, copy.

The preview shows the same QTextDocument the PDF and the printer get (see
note_pdf.py), so the technician sees what the therapist will read. A clinic
template with a mistake does not block the note: the default template is
used and a line above the preview says which file and line to fix.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from console.note.assembly import build_note
from console.note.content import NoteContent
from console.note.render import render_note
from console.store import Store
from console.ui.note import save_place
from console.ui.note.note_pdf import (
    PrintedNote,
    default_page,
    note_document,
    page_layout,
    paint_note,
    write_pdf,
)
from console.ui.widgets.screen_fit import fit_to_screen

log = logging.getLogger(__name__)

PAGE_CHOICES = (("A4", "a4"), ("Letter", "letter"))
PREVIEW_SIZE = QSize(900, 1000)
"""The print preview's size where the screen has room: a page at a readable zoom."""


class NoteView(QWidget):
    """Preview of one handoff note with Print…, Save as PDF… and Copy as text."""

    pdf_saved = Signal(str)
    printed = Signal()
    copied = Signal()

    def __init__(self, content: NoteContent, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.content = content
        self._printer: QPrinter | None = None
        self._html = render_note(content, "html")
        problems = list(content.problems)
        if content.print_refusal:  # shown first: nothing leaves the screen until it is fixed
            problems.insert(0, content.print_refusal)
        if self._html.problem is not None:
            problems.append(f"{self._html.problem}. The default template is shown.")
            log.warning("%s", self._html.problem)

        self.problem_label = QLabel("\n".join(problems))
        self.problem_label.setObjectName("warning")
        self.problem_label.setWordWrap(True)
        self.problem_label.setVisible(bool(problems))

        self.browser = QTextBrowser()
        self.browser.setObjectName("notePreview")
        self.browser.setAccessibleName("Handoff note preview")
        # Paper, not the dark console theme: the preview should look like the page.
        self.browser.setStyleSheet("QTextBrowser#notePreview { background: white; color: #1f2933; }")
        self.browser.setDocument(note_document(self._html.text, content.trajectory))
        self.browser.document().setDocumentMargin(24)

        self.page_choice = QComboBox()
        for label, key in PAGE_CHOICES:
            self.page_choice.addItem(label, key)
        self.page_choice.setCurrentIndex(self.page_choice.findData(default_page()))
        self.page_choice.setToolTip("Paper size for printing and for the PDF")
        self.page_choice.setAccessibleName("Paper size")

        self.print_button = QPushButton("Print…")
        self.print_button.setObjectName("primary")
        self.save_button = QPushButton("Save as PDF…")
        self.copy_button = QPushButton("Copy as text")
        self.copy_button.setToolTip("Plain text for a secure message or an EHR text field")
        for button, name in ((self.print_button, "Print the note"),
                             (self.save_button, "Save the note as PDF"),
                             (self.copy_button, "Copy the note as text")):
            button.setAccessibleName(name)
        for button in (self.print_button, self.save_button, self.copy_button):
            button.setEnabled(content.print_refusal is None)
            if content.print_refusal:
                button.setToolTip(content.print_refusal)
        self.print_button.clicked.connect(self.print_note)
        self.save_button.clicked.connect(self.choose_and_save_pdf)
        self.copy_button.clicked.connect(self.copy_text)
        # What the last action did ("Saved as …", "Copied …"): a button that does its work out of
        # sight must say it did.
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setAccessibleName("What was done")
        self.status.setWordWrap(True)
        # A long path never widens the window: the label takes the room it is given.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Paper"))
        buttons.addWidget(self.page_choice)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.print_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.browser, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

    @classmethod
    def for_session(cls, db: Store, session_id: int,
                    parent: QWidget | None = None) -> NoteView:
        return cls(build_note(db, session_id), parent)

    @property
    def page(self) -> str:
        return str(self.page_choice.currentData())

    # --- ways out -----------------------------------------------------------------------------

    def note_text(self) -> str:
        return render_note(self.content, "txt").text

    def _refused(self) -> bool:
        """Said on screen when the note may not go out yet (issue 14, item 9); True then."""
        if self.content.print_refusal:
            self.status.setText(self.content.print_refusal)
            return True
        return False

    def copy_text(self) -> str:
        """Put the note as plain text on the clipboard (and return it; "" when refused)."""
        if self._refused():
            return ""
        text = self.note_text()
        QGuiApplication.clipboard().setText(text)
        self.status.setText("The note is copied as text: paste it into a secure message or the "
                            "patient's record.")
        self.copied.emit()
        return text

    def save_pdf(self, path: Path | str) -> PrintedNote:
        if self._refused():
            raise PermissionError(self.content.print_refusal)
        printed = write_pdf(self.content, path, self.page)
        save_place.remember(path)
        pages = "1 page" if printed.pages == 1 else f"{printed.pages} pages"
        self.status.setText(f"Saved as {path} ({pages}).")
        self.status.setToolTip(str(path))
        self.pdf_saved.emit(str(path))
        return printed

    def choose_and_save_pdf(self) -> None:
        if self._refused():
            return
        h = self.content.header
        suggested = f"handoff-{h.patient_id}-session-{h.session_number or h.session_id}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, "Save the handoff note as PDF",
                                              save_place.suggested_path(suggested), "PDF (*.pdf)")
        if not path:
            return
        try:
            self.save_pdf(path)
        except OSError as exc:
            log.warning("note not saved to %s: %s", path, exc)
            self.status.setText("")
            self.problem_label.setText(f"The note could not be saved as {path}: the folder cannot be "
                                       "written to. Choose another folder.")
            self.problem_label.setVisible(True)

    def make_printer(self) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageLayout(page_layout(self.page))
        printer.setDocName(f"Handoff note {self.content.header.patient_id}")
        return printer

    def paint_to(self, printer: QPrinter) -> int:
        """Lay the note out on ``printer``'s pages (the preview's and the real printer's alike)."""
        doc = note_document(self._html.text, self.content.trajectory)
        return paint_note(doc, self.content, printer)

    def make_preview_dialog(self, printer: QPrinter | None = None) -> QPrintPreviewDialog:
        # The dialog does not own the printer (not a QObject): keep it alive as long as the view.
        self._printer = printer or self.make_printer()
        dialog = QPrintPreviewDialog(self._printer, self)
        dialog.setWindowTitle("Print the handoff note")
        dialog.paintRequested.connect(self.paint_to)
        # Wide enough for the whole toolbar (its Print button was behind the overflow arrow,
        # issue 20 item 9), a page high, and never beyond the screen.
        bar = dialog.findChild(QToolBar)
        width = max(PREVIEW_SIZE.width(), (bar.sizeHint().width() if bar is not None else 0) + 48)
        fit_to_screen(dialog, QSize(width, PREVIEW_SIZE.height()))
        return dialog

    def print_note(self) -> None:
        """The print preview, whose Print button opens the system's print dialog."""
        if self._refused():
            return
        dialog = self.make_preview_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.printed.emit()

    def print_direct(self) -> None:
        """The system print dialog without the preview."""
        if self._refused():
            return
        printer = self.make_printer()
        if QPrintDialog(printer, self).exec() == QDialog.DialogCode.Accepted:
            self.paint_to(printer)
            self.printed.emit()


class NoteDialog(QDialog):
    """The note view in its own window, for the technician's end of session and the review."""

    def __init__(self, content: NoteContent, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Handoff note – {content.header.patient_id}, "
                            f"session {content.header.session_number or content.header.session_id}")
        self.view = NoteView(content, self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        fit_to_screen(self, QSize(860, 1000))
