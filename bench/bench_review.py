"""The review workspace on a clinic-year database: the queue, filtered lists, a session's detail.

The database is bench/clinic_year.py's synthetic year (20 chairs x 10
sessions a day x 250 days = 50,000 sessions, every pulse and thinned pose;
about 15 GB), made on the first run (a few minutes) and cached under
bench/results/.

Goals: the queue and a filtered list open in under 200 ms (the query, the
first screen of rows, through the Qt model as the window uses it); a
session's detail with its plots under 300 ms (the record read, the plots
refilled and the widget painted). Each figure is the median of several runs
after a first, cold one, which is reported too.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench.clinic_year import cached
from console.review.queue import ReviewFilter, find_sessions, rows_for, tune_connection
from db.database import connect, migrate
from db.schema import migration_sets

GOAL_LIST_MS = 200.0
GOAL_DETAIL_MS = 300.0
REPEATS = 5
SCREEN_ROWS = 40  # rows the queue shows at once


def _time(fn: Callable[[], Any], repeats: int = REPEATS) -> dict[str, float]:
    runs = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return {"first_ms": round(runs[0], 1), "median_ms": round(statistics.median(runs[1:]), 1),
            "max_ms": round(max(runs[1:]), 1)}


def _lists() -> dict[str, ReviewFilter]:
    return {
        "queue (unsigned, problems first)": ReviewFilter(),
        "all 50,000, problems first": ReviewFilter(review="all"),
        "all, sorted by patient": ReviewFilter(review="all", sort="patient", descending=False),
        "technician, one month": ReviewFilter(review="all", technician="Technician 07",
                                              date_from=date(2025, 6, 1), date_to=date(2025, 6, 30)),
        "flag off target, whole year": ReviewFilter(review="all", flag="off_target"),
        "flag MT older than interval": ReviewFilter(review="all", flag="mt_old"),
        "protocol iTBS, stopped": ReviewFilter(review="all", protocol="iTBS left DLPFC", status="stopped"),
        "search clinic id": ReviewFilter(review="all", search="C0123"),
        "signed, sorted by review": ReviewFilter(review="signed", sort="review"),
    }


def main() -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from console.ui.review.review_queue import COLUMNS, ReviewQueueModel
    from console.ui.review.session_detail import SessionDetailWidget

    path, made = cached()
    how = "cached" if made["cached"] else f"made in {made['seconds']} s"
    print(f"clinic year: {made['sessions']} sessions, {made['pulses']} pulses, {made['poses']} poses, "
          f"{made['bytes'] / 1e9:.1f} GB ({how})")
    db = connect(path)
    migrate(db, path, migration_sets())  # a newer program version may add schema changes; no full check
    tune_connection(db)  # as the review window does
    app = QApplication.instance() or QApplication([])
    results: dict[str, Any] = {"database": {k: made[k] for k in ("sessions", "pulses", "poses", "bytes")}}

    lists: dict[str, Any] = {}
    model = ReviewQueueModel(db)
    for name, f in _lists().items():
        def open_list(f: ReviewFilter = f) -> None:
            model.set_filter(f)
            for row in range(min(SCREEN_ROWS, model.rowCount())):
                for column in range(len(COLUMNS)):
                    model.data(model.index(row, column))

        figures = _time(open_list)
        figures["rows"] = model.rowCount()
        lists[name] = figures
        print(f"  list {name:<36} {figures['rows']:>6} rows  first {figures['first_ms']:>6.1f} ms  "
              f"median {figures['median_ms']:>6.1f} ms")
    results["lists"] = lists

    # Sessions to open: a full 10 Hz session (3000 pulses), a signed one (its record hash is
    # recomputed), and flagged ones with faults, device lost, drift.
    picks = {
        "10 Hz, 3000 pulses, signed": db.execute(
            "SELECT s.id FROM sessions s JOIN signatures g ON g.session_id = s.id "
            "WHERE s.pulses_recorded = 3000 LIMIT 1").fetchone()[0],
        "10 Hz, unsigned": db.execute(
            "SELECT id FROM sessions WHERE pulses_recorded = 3000 ORDER BY id DESC LIMIT 1").fetchone()[0],
    }
    flagged = find_sessions(db, ReviewFilter(review="unsigned"))
    for row in rows_for(db, flagged, 0, 3):
        picks[f"queue top: {', '.join(row.flags) or 'no flag'}"] = row.id
    widget = SessionDetailWidget(db, None)
    widget.resize(1000, 900)
    widget.show()
    app.processEvents()
    details: dict[str, Any] = {}
    for name, sid in picks.items():
        def open_detail(sid: int = sid) -> None:
            widget.show_session(sid)
            widget.grab()  # lay out and paint, plots included

        figures = _time(open_detail)
        figures["pulses"] = len(widget.detail.timeline.pulse_t) if widget.detail else 0
        details[name] = figures
        print(f"  detail {name:<44} {figures['pulses']:>5} pulses  first {figures['first_ms']:>6.1f} ms  "
              f"median {figures['median_ms']:>6.1f} ms")
    results["details"] = details
    widget.close()

    from console.review.detail import load_detail
    from console.ui.review.course_view import CourseWindow
    from console.ui.review.session_report_pdf import write_report

    sid = picks["10 Hz, 3000 pulses, signed"]
    course_id = db.execute("SELECT course_id FROM sessions WHERE id = ?", [sid]).fetchone()[0]
    results["course_view"] = _time(lambda: CourseWindow(db, course_id).grab(), repeats=3)
    out = path.with_name("bench-review-report.pdf")
    results["report_pdf"] = _time(lambda: write_report(load_detail(db, sid), out), repeats=2)
    print(f"  course view median {results['course_view']['median_ms']} ms; "
          f"PDF report median {results['report_pdf']['median_ms']} ms")
    db.close()

    worst_list = max(v["median_ms"] for v in lists.values())
    worst_detail = max(v["median_ms"] for v in details.values())
    results["worst_list_ms"] = worst_list
    results["worst_detail_ms"] = worst_detail
    results["ok"] = worst_list < GOAL_LIST_MS and worst_detail < GOAL_DETAIL_MS
    print(f"worst list {worst_list} ms (goal < {GOAL_LIST_MS:g}); worst detail {worst_detail} ms "
          f"(goal < {GOAL_DETAIL_MS:g}): {'OK' if results['ok'] else 'MISSED'}")
    return results
