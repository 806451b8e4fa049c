"""The chair's small dialogs record only what the person chose or typed (issue 20, items 2, 4, 6).

- nothing is pre-selected in a dialog that records a reason or a kind: Enter on an
  untouched dialog records nothing and says what is missing;
- a typed side-effect rating is kept as typed: out of range is refused with the range
  named, never clamped;
- the adverse-event steps follow the kind chosen, from the clinic's file.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from console.resource_data import load as load_json
from console.safety import adverse_event
from console.ui.chair import start_checks
from console.ui.chair.adverse_event_dialog import AdverseEventDialog
from console.ui.chair.session_dialogs import ReasonDialog, SideEffectDialog


def _shown(qtbot, dialog):
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _enter(qtbot, dialog, widget) -> list:
    got: list = []
    dialog.submitted.connect(lambda *args: got.append(args))
    qtbot.keyClick(widget, Qt.Key.Key_Return)
    return got


def test_sooner_than_the_schedule_preselects_no_reason_and_enter_records_none(qtbot) -> None:
    dialog = _shown(qtbot, start_checks.early_start_dialog("The last session was 10 hours ago.", None))
    assert dialog.choice.currentIndex() == -1 and dialog.reason() == ""
    got = _enter(qtbot, dialog, dialog.choice)
    assert got == [] and dialog.isVisible()
    assert "Choose a reason" in dialog.error.text()
    qtbot.keyClick(dialog.choice, Qt.Key.Key_Down)  # the person picks the first one on purpose
    qtbot.keyClick(dialog.choice, Qt.Key.Key_Return)
    assert got == [(start_checks.early_start_reasons()[0],)]


def test_no_chair_reason_dialog_preselects_a_reason(qtbot) -> None:
    dialogs = [
        start_checks.intensity_dialog("The device is set to 58 % MSO, the prescription is 62 % MSO.",
                                      120.0, 52.0, None),
        ReasonDialog("Back without starting", "Why is there no session now?",
                     start_checks.not_started_reasons()),
    ]
    for dialog in dialogs:
        _shown(qtbot, dialog)
        assert dialog.choice.currentIndex() == -1, dialog.windowTitle()
        got = _enter(qtbot, dialog, dialog.choice)
        assert got == [], dialog.windowTitle()
        assert dialog.error.text(), dialog.windowTitle()


def test_a_side_effect_rating_out_of_range_is_refused_not_clamped(qtbot) -> None:
    dialog = _shown(qtbot, SideEffectDialog("headache", "Headache"))
    assert dialog.rating.text() == ""  # nothing filled in for the person
    got = _enter(qtbot, dialog, dialog.rating)
    assert got == [] and "0 to 10" in dialog.error.text()
    qtbot.keyClicks(dialog.rating, "15")
    assert dialog.rating.text() == "15"  # kept as typed
    qtbot.keyClick(dialog.rating, Qt.Key.Key_Return)
    assert got == [] and dialog.isVisible()
    assert "from 0 to 10" in dialog.error.text() and "15" in dialog.error.text()
    dialog.rating.clear()
    qtbot.keyClicks(dialog.rating, "-2")
    qtbot.keyClick(dialog.rating, Qt.Key.Key_Return)
    assert got == [] and "from 0 to 10" in dialog.error.text()
    dialog.rating.clear()
    qtbot.keyClicks(dialog.rating, "7")
    assert dialog.slider.value() == 7
    qtbot.keyClick(dialog.rating, Qt.Key.Key_Return)
    assert got == [("headache", 7, "")]


def test_adverse_event_steps_follow_the_kind_chosen(qtbot, tmp_path) -> None:
    from db.database import open_database

    db = open_database(tmp_path / "c.db")
    try:
        dialog = AdverseEventDialog(db, None, 1)  # only shown here, never saved
        _shown(qtbot, dialog)
        assert dialog.kind.currentIndex() == -1  # no kind chosen for the person
        aid = load_json("first_aid.json")
        assert dialog.steps.text().startswith("1. ")
        dialog.kind.setCurrentText("syncope (fainting)")
        fainting = aid["steps_by_kind"]["syncope (fainting)"]
        assert all(step in dialog.steps.text() for step in fainting)
        assert "seizure" not in dialog.steps.text().lower()
        dialog.kind.setCurrentText("seizure")
        assert all(step in dialog.steps.text() for step in adverse_event.first_aid_steps_for("seizure"))
    finally:
        db.close()
