"""Issue 14, item 8: first aid and escalation.

The seizure steps carry the 5-minute emergency-call rule and its other triggers, as clinic data
with a source (or "unverified"); no step claims stimulation "has been stopped"; mania/hypomania
and a suicidal crisis are kinds of event; a seizure holds the course until a physician has
reviewed it (the gate says who and where; the physician signs through the Hold review form); the
note's "when to call" lists emergency services first.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from console.clinic import records as clinic
from console.errors import ClinicError, PermissionDenied
from console.note.sections import for_therapist_section
from console.note.words import Guidance
from console.safety import adverse_event, screening
from console.safety.start_gate import gate_for_course, gate_for_patient
from tests.clinical.conftest import PASSWORDS, add_session, open_course


def ready(db, people, patient) -> clinic.Course:
    every = {i.id: "no" for i in screening.load_questionnaire().items}
    screening.record_screening(db, people["tom"], patient.id, every)
    clinic.record_motor_threshold(db, patient.id, 45, "EMG", None, "tom")
    return open_course(db, patient.id)


def all_steps() -> list[str]:
    aid = adverse_event.first_aid()
    return list(aid["steps"]) + [s for steps in aid.get("steps_by_kind", {}).values() for s in steps]


def test_no_step_says_stimulation_has_been_stopped() -> None:
    """It may not be true; the technician makes sure it has stopped."""
    steps = all_steps()
    assert not [s for s in steps if "has been stopped" in s]
    for kind in [None, *adverse_event.event_kinds()]:
        assert adverse_event.first_aid_steps_for(kind)[0].startswith("Make sure stimulation has stopped")


def test_the_seizure_steps_have_the_5_minute_rule_and_its_triggers_with_a_source() -> None:
    steps = " ".join(adverse_event.first_aid_steps_for("seizure"))
    assert "longer than 5 minutes" in steps and "emergency services" in steps
    for trigger in ("a second one follows", "does not wake up", "trouble breathing", "injured"):
        assert trigger in steps
    assert "5 minutes" in " ".join(adverse_event.first_aid_steps())  # also before a kind is chosen
    assert "Epilepsy Foundation" in adverse_event.first_aid_source("seizure")
    for kind in adverse_event.first_aid()["steps_by_kind"]:  # every list names a source or "unverified"
        assert adverse_event.first_aid_source(kind).strip()


def test_mania_and_a_suicidal_crisis_are_kinds_of_event_with_their_own_steps() -> None:
    kinds = adverse_event.event_kinds()
    assert "signs of mania or hypomania" in kinds and "suicidal crisis" in kinds
    crisis = " ".join(adverse_event.first_aid_steps_for("suicidal crisis"))
    assert "Do not leave the patient alone" in crisis and "call emergency services first" in crisis
    assert "less need for sleep" in " ".join(adverse_event.first_aid_steps_for("signs of mania or hypomania"))


def test_a_seizure_holds_the_course_until_a_physician_signs_the_review(db, people, patient) -> None:
    course = ready(db, people, patient)
    session = add_session(db, course, datetime.now().replace(hour=0, minute=1))
    assert gate_for_course(db, course.id).blockers == ()  # (today's session asks an early-start reason)
    fainted = adverse_event.record_adverse_event(db, people["tom"], patient.id, "syncope (fainting)",
                                                 "fainted for a few seconds", session_id=session)
    assert gate_for_course(db, course.id).blockers == ()  # a faint does not hold the course
    seizure = adverse_event.record_adverse_event(db, people["tom"], patient.id, "seizure",
                                                 "generalised seizure, 40 s", session_id=session)
    for gate in (gate_for_course(db, course.id), gate_for_patient(db, patient.id)):  # chair and record
        [blocker] = gate.blockers
        assert blocker.code == "seizure_hold" and not gate.can_start
        assert "on hold" in blocker.message and "physician" in blocker.message
        assert "Who can clear this: a physician, with “Hold review” on the Patients screen" in \
            blocker.with_remedy()
    with pytest.raises(PermissionDenied):  # the supervisor is not the physician
        adverse_event.review_event(db, people["sue"], PASSWORDS["sue"], seizure, "go on")
    with pytest.raises(ClinicError, match="not accepted"):
        adverse_event.review_event(db, people["phil"], "wrong", seizure, "go on")
    with pytest.raises(ClinicError, match="decision"):
        adverse_event.review_event(db, people["phil"], PASSWORDS["phil"], seizure, " ")
    with pytest.raises(ClinicError, match="does not hold"):
        adverse_event.review_event(db, people["phil"], PASSWORDS["phil"], fainted, "go on")
    assert gate_for_course(db, course.id).blockers  # nothing refused was written
    adverse_event.review_event(db, people["phil"], PASSWORDS["phil"], seizure,
                               "Provoked by sleep loss; go on at 110 % MT after neurology review")
    assert gate_for_course(db, course.id).blockers == ()
    row = db.execute("SELECT action, actor FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(row) == ("lift_hold", "phil")


def test_the_form_shows_the_seizure_steps_source_and_hold_then_the_physician_signs(
        qtbot, db, people, patient) -> None:
    from console.ui.chair.adverse_event_dialog import AdverseEventDialog
    from console.ui.clinic.hold_review_dialog import HoldReviewDialog
    from console.ui.clinic.patients import PatientsPage

    course = ready(db, people, patient)
    form = AdverseEventDialog(db, people["tom"], patient.id, course_id=course.id)
    qtbot.addWidget(form)
    form.show()
    assert form.steps.text().startswith("1. Make sure stimulation has stopped")
    form.kind.setCurrentIndex(adverse_event.event_kinds().index("seizure"))
    assert "longer than 5 minutes" in form.steps.text()
    assert "Source: CDC" in form.source.text() and "on hold until a physician" in form.source.text()
    qtbot.keyClicks(form.what, "generalised seizure, 40 s")
    qtbot.mouseClick(form.ok, Qt.MouseButton.LeftButton)
    assert not form.isVisible() and not gate_for_course(db, course.id).can_start

    page = PatientsPage(db, people["phil"])
    qtbot.addWidget(page)
    page.resize(1280, 760)
    page.show()
    page.select_patient(patient.id)
    assert page.action_buttons["hold_review"].isEnabled()
    page.action_buttons["hold_review"].click()
    dialog = page.dialog
    assert isinstance(dialog, HoldReviewDialog) and dialog.username.text() == "phil"
    assert dialog.hold.currentText() == "Seizure" and "on hold" in dialog.detail.text()
    qtbot.keyClicks(dialog.password, PASSWORDS["phil"])
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "decision" in dialog.error.text()  # said, nothing written
    qtbot.keyClicks(dialog.password, PASSWORDS["phil"])
    qtbot.keyClicks(dialog.decision, "Reviewed with neurology: go on")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and gate_for_course(db, course.id).can_start
    assert not page.action_buttons["hold_review"].isEnabled()


def test_a_technician_or_supervisor_cannot_use_the_hold_review_button(qtbot, db, people, patient) -> None:
    from console.ui.clinic.patients import PatientsPage

    course = ready(db, people, patient)
    adverse_event.record_adverse_event(db, people["tom"], patient.id, "seizure", "seizure",
                                       course_id=course.id)
    for who in ("tom", "sue"):
        page = PatientsPage(db, people[who])
        qtbot.addWidget(page)
        page.select_patient(patient.id)
        assert not page.action_buttons["hold_review"].isEnabled()


def test_the_note_lists_emergency_services_first_whatever_the_file_order() -> None:
    shipped = Guidance.load()
    contacts = list(shipped.section("escalation", "contacts"))
    emergency = [c for c in contacts if c.get("emergency") is True]
    assert emergency and "fit" in emergency[0]["if"] and "harming themselves" in emergency[0]["if"]
    last = [*(c for c in contacts if c not in emergency), *emergency]  # the file lists them last
    reordered = Guidance({**shipped.data, "escalation": {"contacts": last}})
    header = SimpleNamespace(phase="acute", clinic_phone="555-0142")
    today = SimpleNamespace(outcome="completed")
    first, *others = for_therapist_section(header, today, [], reordered).escalation  # type: ignore[arg-type]
    assert first.action.startswith("call emergency services first")
    assert first.phone != "555-0142"  # never the clinic's own number
    assert others and all("emergency services" not in e.action for e in others)
