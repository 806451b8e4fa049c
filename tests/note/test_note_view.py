"""The note preview widget, offscreen: preview text, copy, save, and the print path to a real PDF."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewWidget

from console.note.assembly import build_note
from console.note.render import render_note
from console.ui.note.note_view import NoteDialog, NoteView

from .recorded import Recorded


def test_preview_shows_the_note_and_copies_plain_text(recorded: Recorded, qtbot) -> None:
    view = NoteView.for_session(recorded.db, recorded.session_id)
    qtbot.addWidget(view)
    shown = view.browser.toPlainText()
    assert "Therapist handoff note" in shown and "600 of 600 pulses" in shown and "Not yet reviewed" in shown
    assert not view.problem_label.isVisibleTo(view)
    with qtbot.waitSignal(view.copied, timeout=5000):
        view.copy_button.click()
    clipboard = QGuiApplication.clipboard().text()
    assert clipboard == render_note(view.content, "txt").text
    assert "TODAY'S SESSION" in clipboard


def test_save_as_pdf_uses_the_chosen_paper(recorded: Recorded, qtbot, tmp_path: Path) -> None:
    view = NoteView(build_note(recorded.db, recorded.session_id))
    qtbot.addWidget(view)
    view.page_choice.setCurrentIndex(view.page_choice.findData("letter"))
    out = tmp_path / "saved.pdf"
    with qtbot.waitSignal(view.pdf_saved, timeout=5000):
        printed = view.save_pdf(out)
    reader = PdfReader(str(out))
    assert printed.pages == len(reader.pages) == 1
    assert round(float(reader.pages[0].mediabox.width)) == 612


def test_print_path_paints_the_same_pages(recorded: Recorded, qtbot, tmp_path: Path) -> None:
    view = NoteView(build_note(recorded.db, recorded.session_id))
    qtbot.addWidget(view)
    printer = view.make_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert view.paint_to(printer) == 1
    text = " ".join(PdfReader(str(tmp_path / "printed.pdf")).pages[0].extract_text().split())
    assert "Patient MRN-20417" in text and "Headache: 3/10" in text


def test_print_preview_dialog_lays_out_one_page(recorded: Recorded, qtbot) -> None:
    view = NoteView(build_note(recorded.db, recorded.session_id))
    qtbot.addWidget(view)
    dialog = view.make_preview_dialog()
    with qtbot.waitSignal(dialog.paintRequested, timeout=10000):
        dialog.show()
    preview = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: preview.pageCount() == 1, timeout=10000)
    dialog.close()


def test_a_template_problem_is_shown_above_the_preview(recorded: Recorded, clinic_resources: Path,
                                                       qtbot) -> None:
    (clinic_resources / "note_template.html").write_text("<p>{% if %}</p>\n", encoding="utf-8")
    dialog = NoteDialog(build_note(recorded.db, recorded.session_id))
    qtbot.addWidget(dialog)
    view = dialog.view
    assert view.problem_label.isVisibleTo(view)
    assert "line 1" in view.problem_label.text() and "default template" in view.problem_label.text()
    assert "600 of 600 pulses" in view.browser.toPlainText()
