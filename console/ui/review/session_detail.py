"""One session for review: header with the signatures, flags, plots, the record, its history, the note.

The widget is made once and refilled per session (``show_session``), so
stepping through the queue costs one database read and a refill of the
plots. The handoff note is built only when its tab is opened. Sign-off and
addenda open their dialogs here; a signature written refreshes the session
and emits ``changed`` so the list shows it too.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.errors import ClinicError
from console.people.permissions import allowed, who_may
from console.people.user import User
from console.review.detail import SessionDetail, empty_timeline, load_detail
from console.review.queue import local_words
from console.store import Store
from console.ui.chair.session_dialogs import open_dialog
from console.ui.review.review_html import (
    SCREEN_CSS,
    addenda_html,
    audit_html,
    entries_html,
    events_html,
    flags_html,
    signature_words,
    signatures_html,
    summary_html,
)
from console.ui.review.review_plots import PoseScatterPlot, TimelinePlot
from console.ui.review.signoff_dialog import AddendumDialog, SignOffDialog

log = logging.getLogger(__name__)

TAB_NOTE = "Handoff note"


def _browser(parent: QWidget) -> QTextBrowser:
    b = QTextBrowser(parent)
    b.setOpenLinks(False)
    b.document().setDefaultStyleSheet(SCREEN_CSS)
    return b


class _Summary(QScrollArea):
    """The session's lines and flags: all of them where the screen has room, scrolled on a
    small one, so the plots under them keep their height (on a 1280×720 screen the flags
    squashed the plots, issue 20 item 7)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.content = QWidget(self)
        self.content.setObjectName("plain")
        self.lines = QVBoxLayout(self.content)
        self.lines.setContentsMargins(0, 0, 0, 0)
        self.setWidget(self.content)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.content.installEventFilter(self)
        self._width = -1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.content and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # new lines: a new height wanted
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._width:
            self._width = event.size().width()
            self.updateGeometry()  # wrapped lines need another height at another width

    def sizeHint(self) -> QSize:
        width = max(self.viewport().width(), 200)
        return QSize(width, self.lines.totalHeightForWidth(width) + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        return QSize(200, 3 * self.fontMetrics().height())


class _Tabs(QTabWidget):
    """The plots and records: they ask only for their minimum and take what the summary
    leaves (stretch), so the summary shrinks and scrolls only when the screen cannot show both."""

    def sizeHint(self) -> QSize:
        return self.minimumSizeHint()


class SessionDetailWidget(QWidget):
    changed = Signal(int)
    """A session's record gained a signature or an addendum."""
    course_requested = Signal(int)
    export_json_requested = Signal(int)
    report_requested = Signal(int)

    def __init__(self, db: Store, user: User | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.user = db, user
        self.detail: SessionDetail | None = None
        self.load_ms = 0.0
        self._note_for: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.title = QLabel("Choose a session in the list", self)
        self.title.setObjectName("screenTitle")
        self.subtitle = QLabel("", self)
        self.subtitle.setObjectName("hint")
        for line in (self.title, self.subtitle):  # long ones wrap, never widen the window (issue 20)
            line.setWordWrap(True)
        self.signature = QLabel("", self)
        self.signature.setWordWrap(True)
        self.signature.setTextFormat(Qt.TextFormat.RichText)
        self.flags = QLabel("", self)
        self.flags.setWordWrap(True)
        self.flags.setTextFormat(Qt.TextFormat.RichText)
        buttons = QHBoxLayout()
        self.sign_button = QPushButton("Sign off…", self)
        self.sign_button.setObjectName("primary")
        self.addendum_button = QPushButton("Add addendum…", self)
        self.course_button = QPushButton("Course…", self)
        self.json_button = QPushButton("Export JSON…", self)
        self.report_button = QPushButton("PDF report…", self)
        for button in (self.sign_button, self.addendum_button, self.course_button, self.json_button,
                       self.report_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.sign_button.clicked.connect(self.open_sign_off)
        self.addendum_button.clicked.connect(self.open_addendum)
        self.course_button.clicked.connect(self._course)
        self.json_button.clicked.connect(lambda: self._emit(self.export_json_requested))
        self.report_button.clicked.connect(lambda: self._emit(self.report_requested))
        self.tabs = _Tabs(self)
        plots = QSplitter(Qt.Orientation.Horizontal, self)
        self.timeline = TimelinePlot(plots)
        self.scatter = PoseScatterPlot(plots)
        plots.addWidget(self.timeline)
        plots.addWidget(self.scatter)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 1)
        self.record = _browser(self)
        self.events = _browser(self)
        self.history = _browser(self)
        self.note = _browser(self)
        self.tabs.addTab(plots, "Plots")
        self.tabs.addTab(self.record, "Record")
        self.tabs.addTab(self.events, "Events")
        self.tabs.addTab(self.history, "Signatures and history")
        self.tabs.addTab(self.note, TAB_NOTE)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.summary = _Summary(self)
        for line in (self.subtitle, self.signature, self.flags):
            line.setParent(self.summary.content)
            self.summary.lines.addWidget(line)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        self._enable()

    # --- showing ------------------------------------------------------------------------------
    def show_session(self, session_id: int) -> None:
        started = time.perf_counter()
        try:
            d = load_detail(self.db, session_id)
        except ClinicError as exc:
            self.title.setText(str(exc))
            return
        self.detail = d
        s = d.session
        self.title.setText(d.title)
        self.subtitle.setText(f"Started {local_words(s['started_at'])} · "
                              f"technician {d.person(s['technician'])} · {s['status']}"
                              + (f" ({s['end_reason']})" if s["end_reason"] else ""))
        self.signature.setText(self._signature_banner(d))
        self.flags.setText(f"<style>{SCREEN_CSS}</style>" + flags_html(d))
        self.timeline.show_timeline(d.timeline, s["prescribed_mso"], float(s["tol_distance_mm"]))
        self.scatter.show_scatter(d.scatter)
        self.record.setHtml(summary_html(d) + entries_html(d))
        self.events.setHtml(events_html(d))
        self.history.setHtml("<h3>Signatures</h3>" + signatures_html(d) + "<h3>Addenda</h3>" + addenda_html(d)
                             + "<h3>Audit history</h3>" + audit_html(d))
        self._note_for = None
        if self.tabs.tabText(self.tabs.currentIndex()) == TAB_NOTE:
            self._show_note()
        self._enable()
        self.load_ms = (time.perf_counter() - started) * 1000
        log.debug("session %s shown in %.0f ms", session_id, self.load_ms)

    def _signature_banner(self, d: SessionDetail) -> str:
        if not d.signatures:
            return "<span style='color:#f0c36a'><b>Not signed</b></span>"
        words = "<br>".join(f"<b>{signature_words(sig)}</b>" for sig in d.signatures)
        lock = " · locked" if d.record_unchanged is not False else " · <b>record changed since signing</b>"
        colour = "#3aa776" if d.record_unchanged is not False else "#ff8a80"
        return f"<span style='color:{colour}'>{words}{lock}</span>"

    def _tab_changed(self, index: int) -> None:
        if self.tabs.tabText(index) == TAB_NOTE:
            self._show_note()

    def _show_note(self) -> None:
        if self.detail is None or self._note_for == self.detail.session["id"]:
            return
        from console.note.assembly import NoteUnavailable, build_note
        from console.note.render import render_note
        from console.ui.note.note_pdf import note_document

        sid = self.detail.session["id"]
        try:
            content = build_note(self.db, sid)
            rendered = render_note(content, "html")
            doc = note_document(rendered.text, content.trajectory)
        except (NoteUnavailable, ClinicError, OSError) as exc:
            self.note.setPlainText(f"The handoff note cannot be shown: {exc}")
            return
        doc.setParent(self.note)
        self.note.setDocument(doc)
        self._note_for = sid

    def clear(self, message: str = "Choose a session in the list") -> None:
        """Show no session (the list has none left): nothing to sign, nothing stale on screen."""
        self.detail = None
        self._note_for = None
        self.title.setText(message)
        for label in (self.subtitle, self.signature, self.flags):
            label.setText("")
        self.timeline.show_timeline(empty_timeline(), None, 3.0)
        for browser in (self.record, self.events, self.history, self.note):
            browser.clear()
        self._enable()

    def signed_by_me(self) -> bool:
        """Whether the logged-in person has signed this session since its last addendum: a second
        signature of theirs adds nothing (the domain refuses it), so Sign off… is not offered."""
        d = self.detail
        if d is None or self.user is None:
            return False
        last_addendum = max((a["signature"].id for a in d.addenda if a.get("signature") is not None),
                            default=0)
        return any(sig.signer_username == self.user.username and sig.id > last_addendum
                   for sig in d.signatures)

    def _enable(self) -> None:
        d = self.detail
        ended = d is not None and d.session["status"] != "recording"
        mine = self.signed_by_me()
        self.sign_button.setEnabled(ended and allowed(self.user, "sign_session") and not mine)
        self.sign_button.setToolTip("You have signed this session; later remarks are addenda." if mine
                                    else "")
        self.addendum_button.setEnabled(ended and allowed(self.user, "add_addendum"))
        self.course_button.setEnabled(d is not None and d.session["course_id"] is not None)
        can_export = d is not None and allowed(self.user, "export_sessions")
        self.json_button.setEnabled(can_export)
        self.report_button.setEnabled(d is not None and allowed(self.user, "view_records"))
        if not allowed(self.user, "sign_session"):
            self.sign_button.setToolTip(f"Only {who_may('sign_session')} signs sessions.")

    # --- actions --------------------------------------------------------------------------------
    def _emit(self, signal: SignalInstance) -> None:
        if self.detail is not None:
            signal.emit(self.detail.session["id"])

    def _course(self) -> None:
        if self.detail is not None and self.detail.session["course_id"] is not None:
            self.course_requested.emit(int(self.detail.session["course_id"]))

    def open_sign_off(self) -> SignOffDialog | None:
        if self.detail is None or self.user is None:
            return None
        sid = self.detail.session["id"]
        dialog = SignOffDialog(self.db, self.user, sid, self.detail.title, self)
        dialog.signed.connect(lambda _sig: self._after_change(sid))
        open_dialog(self, dialog)
        return dialog

    def open_addendum(self) -> AddendumDialog | None:
        if self.detail is None or self.user is None:
            return None
        sid = self.detail.session["id"]
        dialog = AddendumDialog(self.db, self.user, sid, self.detail.title, self)
        dialog.added.connect(lambda _aid: self._after_change(sid))
        open_dialog(self, dialog)
        return dialog

    def _after_change(self, session_id: int) -> None:
        self.show_session(session_id)
        self.changed.emit(session_id)
