"""Safety screening: every "yes" blocks the course until a physician's signed review, which lands
in the audit log; a "yes" also needs a note (issue 14, item 4)."""

from __future__ import annotations

import sqlite3

import pytest

from console import audit
from console.people.permissions import PermissionDenied
from console.people.signing import SignatureRejected
from console.safety import screening
from console.safety.screening import ScreeningError, course_start_blockers, record_clearance, record_screening
from tests.clinical.conftest import PASSWORDS


def all_no() -> dict[str, str]:
    return {item.id: "no" for item in screening.load_questionnaire().items}


def test_the_clinic_questionnaire_marks_the_implants_and_metal_in_the_head_absolute() -> None:
    q = screening.load_questionnaire()
    absolute = {i.id for i in q.items if i.absolute_contraindication}
    assert absolute == {"pacemaker", "cochlear_implant", "neurostimulator", "metal_head", "icd",
                        "wearable_defibrillator", "infusion_device"}
    assert len(q.items) >= 13 and all(i.text.endswith("?") or ")" in i.text for i in q.items)


def test_no_screening_blocks_the_course(db, patient) -> None:
    assert course_start_blockers(db, patient.id) == [
        "No safety screening has been recorded for this course: record one before the first session."
    ]


def test_a_clean_screening_blocks_nothing(db, people, patient) -> None:
    result = record_screening(db, people["tom"], patient.id, all_no())
    assert not result.needs_clearance
    assert course_start_blockers(db, patient.id) == []


def test_pacemaker_blocks_until_a_physician_signs_a_clearance_which_is_audited(db, people, patient) -> None:
    answers = all_no() | {"pacemaker": "yes"}
    result = record_screening(db, people["tom"], patient.id, answers, {"pacemaker": "MRI-conditional, 2019"})
    assert result.contraindications == ["pacemaker"]
    blockers = course_start_blockers(db, patient.id)
    assert len(blockers) == 1 and "pacemaker" in blockers[0] and screening.REVIEW_PHRASE in blockers[0]

    reason = "Cardiology letter 2026-02-01: device cleared for TMS, coil kept >10 cm from it"
    clearance_id = record_clearance(db, people["phil"], PASSWORDS["phil"], patient.id, reason)

    assert course_start_blockers(db, patient.id) == []
    rows = audit.history(db, "clearance", clearance_id)
    assert len(rows) == 1
    assert rows[0]["actor"] == "phil" and rows[0]["action"] == "clear_contraindication"
    assert rows[0]["new"]["reason"] == reason and rows[0]["new"]["items"] == ["pacemaker"]
    assert audit.verify(db).ok
    assert screening.clearances(db, patient.id)[0]["signed_by"] == "phil"


def test_a_technician_cannot_clear_and_nothing_is_written(db, people, patient) -> None:
    record_screening(db, people["tom"], patient.id, all_no() | {"cochlear_implant": True})
    with pytest.raises(PermissionDenied):
        record_clearance(db, people["tom"], PASSWORDS["tom"], patient.id, "I think it is fine")
    assert db.execute("SELECT count(*) FROM clearances").fetchone()[0] == 0
    assert course_start_blockers(db, patient.id)


def test_a_wrong_password_does_not_sign(db, people, patient) -> None:
    record_screening(db, people["tom"], patient.id, all_no() | {"metal_head": "yes"})
    with pytest.raises(SignatureRejected, match="not accepted"):
        record_clearance(db, people["phil"], "wrong-password", patient.id, "reviewed the X-ray")
    with pytest.raises(ScreeningError, match="decision"):
        record_clearance(db, people["phil"], PASSWORDS["phil"], patient.id, "   ")
    assert db.execute("SELECT count(*) FROM clearances").fetchone()[0] == 0


def test_a_new_screening_with_the_contraindication_needs_a_new_clearance(db, people, patient) -> None:
    record_screening(db, people["tom"], patient.id, all_no() | {"neurostimulator": "yes"})
    record_clearance(db, people["phil"], PASSWORDS["phil"], patient.id, "VNS switched off, neurology agrees")
    assert course_start_blockers(db, patient.id) == []
    record_screening(db, people["tom"], patient.id, all_no() | {"neurostimulator": "yes"})
    assert course_start_blockers(db, patient.id)


def test_other_yes_answers_need_a_note(db, people, patient) -> None:
    record_screening(db, people["tom"], patient.id, all_no() | {"medications": "yes"})
    blockers = course_start_blockers(db, patient.id)
    assert len(blockers) == 2 and "without a note" in blockers[1]
    record_screening(
        db, people["tom"], patient.id, all_no() | {"medications": "yes"}, {"medications": "sertraline 100 mg"}
    )
    assert [screening.REVIEW_PHRASE in b for b in course_start_blockers(db, patient.id)] == [True]


def test_every_question_needs_an_answer(db, people, patient) -> None:
    answers = all_no()
    del answers["pregnancy"]
    with pytest.raises(ScreeningError, match=r"not answered.*pregnant"):
        record_screening(db, people["tom"], patient.id, answers)
    with pytest.raises(ScreeningError, match="yes or no"):
        record_screening(db, people["tom"], patient.id, all_no() | {"epilepsy": "maybe"})
    assert db.execute("SELECT count(*) FROM screenings").fetchone()[0] == 0


def test_screenings_and_clearances_are_append_only(db, people, patient) -> None:
    record_screening(db, people["tom"], patient.id, all_no() | {"pacemaker": "yes"})
    record_clearance(db, people["phil"], PASSWORDS["phil"], patient.id, "cardiology cleared")
    for sql in (
        "UPDATE screenings SET answers = '{}'",
        "DELETE FROM screenings",
        "UPDATE clearances SET reason = 'x'",
        "DELETE FROM clearances",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)
