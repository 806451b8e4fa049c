"""The review window for real (offscreen Qt): the list, sorting, filters, the detail's plots, the course
view and the exports (CSV of the list, JSON per the export schema, the PDF report read back)."""

from __future__ import annotations

import csv
import json

import jsonschema
import numpy as np
import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt

from console.audit import history, verify
from console.clinic.outcomes import record_phq9
from console.people.permissions import PermissionDenied
from console.review.detail import load_detail
from console.review.queue import ReviewFilter
from console.review.signoff import sign_session
from console.ui.review.course_view import CourseWindow
from console.ui.review.review_queue import COLUMNS
from console.ui.review.review_window import ReviewWindow
from tests.conftest import SHARED

from .flag_db import PASSWORDS

SCHEMA = json.loads((SHARED / "protocol" / "session-export.schema.json").read_text())
FLAGS = next(i for i, c in enumerate(COLUMNS) if c[1] == "flags")
REVIEW = next(i for i, c in enumerate(COLUMNS) if c[1] == "review")
PATIENT = next(i for i, c in enumerate(COLUMNS) if c[1] == "patient")


def window(qtbot, flag_db, user: str = "sue") -> ReviewWindow:
    w = ReviewWindow(flag_db.db, flag_db.user(user))
    qtbot.addWidget(w)
    w.show()
    return w


def points(item) -> int:
    x, _ = item.getData()
    return 0 if x is None else len(x)


def cell(w: ReviewWindow, row: int, column: int) -> str:
    return w.model.data(w.model.index(row, column))


def test_the_window_opens_on_the_queue_with_the_worst_session_shown(qtbot, flag_db) -> None:
    w = window(qtbot, flag_db)
    ids = flag_db.ids
    assert w.model.rowCount() == len(ids)
    assert w.count.text().startswith(f"{len(ids)} sessions to review · sorted by Flags (problems first)")
    assert cell(w, 0, FLAGS) in ("Adverse event", "Ended early, Short of plan")
    assert w.detail.detail is not None and w.detail.detail.session["id"] == w.model.session_id(0)
    tip = w.model.data(w.model.index(0, FLAGS), Qt.ItemDataRole.ToolTipRole)
    assert tip and ":" in tip  # the reasons, not only the labels
    last = w.model.rowCount() - 1
    assert (cell(w, last, FLAGS), cell(w, last, REVIEW)) == ("—", "Not signed")


def test_clicking_a_header_sorts_and_the_filters_narrow_the_list(qtbot, flag_db) -> None:
    w = window(qtbot, flag_db)
    w.queue.horizontalHeader().setSortIndicator(PATIENT, Qt.SortOrder.AscendingOrder)
    patients = [cell(w, r, PATIENT) for r in range(w.model.rowCount())]
    assert patients == sorted(patients, key=str.casefold) and w.model.filter.sort == "patient"
    w.filters.flag.setCurrentIndex(w.filters.flag.findData("fault"))
    assert w.model.rowCount() == 1 and w.model.session_id(0) == flag_db.ids["overheat"]
    assert w.model.filter.sort == "patient"  # the order chosen stays
    w.filters.flag.setCurrentIndex(0)
    w.filters.status.setCurrentIndex(w.filters.status.findData("stopped"))
    assert [w.model.session_id(r) for r in range(w.model.rowCount())] == [flag_db.ids["stopped"]]
    w.filters.status.setCurrentIndex(0)
    w.filters.patient.setText("old-")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=5000)
    assert w.model.session_id(0) == flag_db.ids["mt_old"]


def test_the_detail_plots_the_record(qtbot, flag_db) -> None:
    w = window(qtbot, flag_db)
    ids = flag_db.ids
    w.queue.select_session(ids["overheat"])
    d = w.detail.detail
    assert d is not None and d.session["id"] == ids["overheat"]
    t = d.timeline
    assert len(t.pulse_t) == 600 and np.all(np.diff(t.pulse_t) > 0) and t.pulse_t[0] >= 0
    assert len(t.train_starts) == 20
    [fault] = [s for s in t.spans if s.kind == "fault"]
    assert fault.label == "Fault COIL_OVERTEMP" and 0 < fault.start_s < (fault.end_s or 1e9) <= t.end_s + 1
    assert points(w.detail.timeline.on_dots) + points(w.detail.timeline.off_dots) == 600
    assert len(w.detail.timeline._regions) == 3 * len(t.spans)  # each span shaded on all three strips
    sx, sy = w.detail.scatter.on_dots.getData()
    assert len(sx) == d.scatter.on_target.sum() > 500
    assert np.hypot(sx, sy).max() <= 3.0 + 1e-6  # on-target pulses lie inside the tolerance circle
    w.queue.select_session(ids["stopped"])
    assert [s.kind for s in w.detail.detail.timeline.spans] == [] or all(
        s.kind in ("pause", "fault", "device_lost") for s in w.detail.detail.timeline.spans)
    assert "Ended early" in w.detail.flags.text() and "stopped: operator" in w.detail.flags.text()
    w.queue.select_session(ids["drift"])
    off = w.detail.detail.timeline.pulse_on_target == 0
    assert 0 < off.sum() <= 600 * 0.2
    assert "Checklist" in w.detail.record.toPlainText()


def test_the_course_view_shows_sessions_in_order_mt_and_phq9(qtbot, flag_db) -> None:
    db, ids = flag_db.db, flag_db.ids
    course = db.execute("SELECT course_id FROM sessions WHERE id = ?", [ids["clean"]]).fetchone()[0]
    patient = db.execute("SELECT patient_id FROM courses WHERE id = ?", [course]).fetchone()[0]
    answers = ([3, 3, 3, 3, 2, 2, 2, 2, 0], [2, 2, 2, 2, 2, 2, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1, 2, 0])
    for i, items in enumerate(answers):  # totals 20, 14, 9
        record_phq9(db, flag_db.user("tom"), patient, course, items, taken_at=f"2026-0{i + 1}-01T09:00")
    sign_session(db, flag_db.user("sue"), ids["clean"], PASSWORDS["sue"], "reviewed")
    w = window(qtbot, flag_db)
    cw = w.open_course(course)
    qtbot.addWidget(cw)
    assert isinstance(cw, CourseWindow)
    view = cw.widget.view
    assert [s.number_in_course for s in view.sessions] == sorted(s.number_in_course for s in view.sessions)
    assert view.sessions[0].id == ids["clean"]
    assert view.phq9.baseline == 20 and view.phq9.response_threshold == 10
    assert "PHQ-9 baseline 20, latest 9 (-55 %); response threshold reached" in view.phq9_words()
    table = cw.widget.table
    assert table.rowCount() == len(view.sessions)
    assert table.item(0, 6).text().startswith("Reviewed by Dr. Sue Super")
    with qtbot.waitSignal(cw.session_chosen, timeout=5000) as chosen:
        table.itemDoubleClicked.emit(table.item(1, 0))
    assert chosen.args == [view.sessions[1].id]
    assert w.detail.detail.session["id"] == view.sessions[1].id


def test_exports_are_permitted_valid_and_audited(qtbot, flag_db, tmp_path) -> None:
    w = window(qtbot, flag_db)
    ids = flag_db.ids
    w.apply_filter(ReviewFilter(review="all", flag="any"))
    n = w.export_csv(tmp_path / "list.csv")
    with (tmp_path / "list.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert n == len(rows) == w.model.rowCount() and all(r["flags"] for r in rows)
    w.export_json(ids["unplug"], tmp_path / "s.json")
    data = json.loads((tmp_path / "s.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["session"]["local_id"] == ids["unplug"]
    assert any(e["kind"] == "device_lost" for e in data["events"])
    actions = {r["action"] for r in history(flag_db.db)}
    assert {"export_review_list", "export_session"} <= actions
    tech = window(qtbot, flag_db, "tom")
    assert not tech.csv_button.isEnabled()
    with pytest.raises(PermissionDenied):
        tech.export_csv(tmp_path / "no.csv")
    assert not (tmp_path / "no.csv").exists()


def _session_exports(db, session_id: int) -> list[dict]:
    return [r for r in history(db, "session", session_id) if r["action"] == "export_session"]


def test_a_session_export_from_the_window_is_audited_once_with_format_and_place(qtbot, flag_db,
                                                                              tmp_path) -> None:
    sid = flag_db.ids["unplug"]
    w = window(qtbot, flag_db)
    w.export_json(sid, tmp_path / "s.json")
    rows = _session_exports(flag_db.db, sid)
    assert len(rows) == 1  # the domain writes the row; the window adds none of its own
    assert rows[0]["actor"] == "sue"
    assert rows[0]["new"]["format"] == "json" and rows[0]["new"]["to"] == str(tmp_path / "s.json")
    assert "login" not in rows[0]["new"]  # a clinic user logged in: no command-line caveat
    assert verify(flag_db.db).ok
    tech = window(qtbot, flag_db, "tom")
    with pytest.raises(PermissionDenied):
        tech.export_json(sid, tmp_path / "no.json")
    assert not (tmp_path / "no.json").exists() and len(_session_exports(flag_db.db, sid)) == 1


def test_the_pdf_report_has_the_record_plots_and_signature_on_every_page(qtbot, flag_db, tmp_path) -> None:
    db, sid = flag_db.db, flag_db.ids["unplug"]
    sign_session(db, flag_db.user("sue"), sid, PASSWORDS["sue"], "approved", "Reviewed the outage")
    w = window(qtbot, flag_db)
    pages = w.write_report(sid, tmp_path / "report.pdf")
    reader = PdfReader(str(tmp_path / "report.pdf"))
    assert len(reader.pages) == pages >= 2
    texts = [" ".join(page.extract_text().split()) for page in reader.pages]  # pypdf separates words oddly
    whole = "\n".join(texts)
    for words in ("Session report", "Device lost", "connection lost 1 time(s)", "Checklist", "Events",
                  "Audit history", "Reviewed the outage", "unchanged since it was signed"):
        assert words in whole, words
    for i, text in enumerate(texts, 1):
        assert f"page {i} of {pages}" in text
        assert "Review: Approved by Dr. Sue Super" in text
    images = sum(len(page.images) for page in reader.pages)
    assert images == 2  # the timeline and the pose scatter
    assert "print_session_report" in {r["action"] for r in history(db, "session", sid)}
    d = load_detail(db, sid)
    assert d.record_unchanged is True
