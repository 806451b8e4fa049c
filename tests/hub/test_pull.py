"""Reference data made on one chair reaches the others through a real hub: push A, pull B.

Chair files are the demo clinic recorded the real way (tests/hub/conftest.py); records are made and
read through the console's own domain functions, as the screens do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlite_utils

from console.audit import audit, verify
from console.clinic import patient_records
from console.clinic.records import active_course, find_patient, latest_motor_threshold, motor_thresholds
from console.people import admin
from console.people.login import authenticate
from console.people.user import AuthError, User, get_user
from console.safety import screening
from db.database import open_database
from db.hub import pull as pull_module
from db.hub.pull import PullResult, pull_reference
from db.hub.push import push_ended_sessions
from tests.hub.test_push import ORIGIN_A, ORIGIN_B

PASSWORD = "violet harbour lantern 42"


@contextmanager
def chair(path: Path) -> Iterator[sqlite_utils.Database]:
    with closing(open_database(path, create=False)) as db:
        yield db


def user(db: sqlite_utils.Database, name: str) -> User:
    found = get_user(db, name)
    assert found is not None
    return found


def pull(path: Path, hub: str, origin: str) -> PullResult:
    return pull_reference(path, hub, origin=origin, audit=audit)


def new_patient_on(path: Path, clinic_id: str = "MRN-7001") -> tuple[str, str]:
    """A patient with an open course and an MT, made on a chair; returns (patient uuid, course uuid)."""
    with chair(path) as db:
        supervisor, tech = user(db, "supervisor"), user(db, "technician")
        patient = patient_records.create_patient(db, supervisor, clinic_id, "Nora Quinn", "1990-01-02")
        course = patient_records.open_course(db, supervisor, patient.id, protocol="10hz", percent_mt=110,
                                             planned_sessions=30)
        patient_records.record_motor_threshold(db, tech, patient.id, 55, "EMG")
    return patient.uuid, course.uuid


def hub_counts(hub: str, origin: str | None = None) -> dict[str, int]:
    tables = ("patients", "courses", "accounts", "motor_thresholds", "screenings", "clearances", "sessions")
    with psycopg.connect(hub) as conn:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}" + (" WHERE origin = %s" if origin else ""),
                                    (origin,) if origin else None).fetchone()[0])  # type: ignore[index]
                for t in tables}


def chair_counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in ("patients", "courses", "users", "motor_thresholds", "screenings", "clearances",
                          "audit_log", "hub_reference", "hub_pulled")}


def test_a_patient_made_on_chair_a_reaches_chair_b_with_its_course_and_motor_threshold(
        chair_a: Path, chair_b: Path, hub: str) -> None:
    patient_uuid, course_uuid = new_patient_on(chair_a)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    result = pull(chair_b, hub, ORIGIN_B)
    with chair(chair_b) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None and patient.uuid == patient_uuid and patient.name == "Nora Quinn"
        course = active_course(db, patient.id)
        assert course is not None and course.uuid == course_uuid and course.percent_mt == 110
        mt = latest_motor_threshold(db, patient.id)
        assert mt is not None and mt.mso == 55 and mt.method == "EMG"
        # chair B can go on with A's patient: its own MT for that patient is B's record
        patient_records.record_motor_threshold(db, user(db, "technician"), patient.id, 57, "EMG")
        assert [m.mso for m in motor_thresholds(db, patient.id)] == [55, 57]
        assert verify(db).ok  # the pull's audit rows keep B's chain whole
    # A's demo patients came too, with their screenings and MTs (two each), but for the one whose
    # clinic id B registered itself: held back, with its records, and said so (test_conflicts.py)
    assert result.inserted["patients"] == 4 and result.inserted["screenings"] == 3
    assert result.inserted["motor_thresholds"] == 3 * 2 + 1
    assert [h.reason for h in result.held_back if h.table == "patients"] == [
        "the clinic id MRN-1004 is another patient's on this chair; neither is changed, both are kept "
        "(hub conflicts lists it once both chairs have pushed)"]


def test_a_second_pull_changes_nothing(chair_a: Path, chair_b: Path, hub: str) -> None:
    new_patient_on(chair_a)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    first = pull(chair_b, hub, ORIGIN_B)
    before = chair_counts(chair_b)
    again = pull(chair_b, hub, ORIGIN_B)
    assert again.inserted == {} and again.updated == {} and again.lost == []
    assert chair_counts(chair_b) == before
    assert sorted(h.key for h in again.held_back) == sorted(h.key for h in first.held_back)


def test_chair_b_never_pushes_what_it_pulled_from_chair_a_as_its_own(
        chair_a: Path, chair_b: Path, hub: str) -> None:
    new_patient_on(chair_a)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    pull(chair_b, hub, ORIGIN_B)
    everything, of_b = hub_counts(hub), hub_counts(hub, ORIGIN_B)
    again = push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    assert again.safety_rows == {t: 0 for t in again.safety_rows}
    assert set(again.reference) <= {"same"}  # nothing edited: nothing taken, nothing lost
    assert hub_counts(hub) == everything and hub_counts(hub, ORIGIN_B) == of_b
    # B's own new MT for A's patient goes, as B's
    with chair(chair_b) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None
        patient_records.record_motor_threshold(db, user(db, "technician"), patient.id, 58, "visual")
    push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    assert hub_counts(hub, ORIGIN_B)["motor_thresholds"] == of_b["motor_thresholds"] + 1


def test_an_account_made_on_chair_a_logs_in_on_chair_b_and_its_disabling_follows(
        chair_a: Path, chair_b: Path, hub: str) -> None:
    with chair(chair_a) as db:
        admin.create_user(db, user(db, "admin"), "nurse.jo", "Jo Nurse", "technician", PASSWORD)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    with psycopg.connect(hub) as conn:
        stored = conn.execute("SELECT password_hash FROM accounts WHERE username = 'nurse.jo'").fetchone()
    assert stored is not None and stored[0].startswith("$argon2") and PASSWORD not in stored[0]
    pull(chair_b, hub, ORIGIN_B)
    with chair(chair_b) as db:
        assert authenticate(db, "nurse.jo", PASSWORD).full_name == "Jo Nurse"
    with chair(chair_a) as db:
        admin.set_active(db, user(db, "admin"), "nurse.jo", False)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    result = pull(chair_b, hub, ORIGIN_B)
    assert result.updated == {"users": 1}
    with chair(chair_b) as db, pytest.raises(AuthError):
        authenticate(db, "nurse.jo", PASSWORD)


def test_an_edit_made_on_one_chair_only_reaches_the_other(chair_a: Path, chair_b: Path, hub: str) -> None:
    new_patient_on(chair_a)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    pull(chair_b, hub, ORIGIN_B)
    with chair(chair_b) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None
        patient_records.update_patient(db, user(db, "supervisor"), patient.id, clinic_id="MRN-7001",
                                       name="Nora Quinn-Hale", date_of_birth="1990-01-02")
    pushed = push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    assert pushed.reference.get("taken") == 1
    result = pull(chair_a, hub, ORIGIN_A)
    assert result.updated == {"patients": 1} and result.lost == []
    with chair(chair_a) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None and patient.name == "Nora Quinn-Hale"
        row = db.execute("SELECT actor, old_values, new_values FROM audit_log "
                         "WHERE action = 'hub_update_patient'").fetchone()
        assert row[0] == "hub" and "Nora Quinn" in row[1] and "Nora Quinn-Hale" in row[2]
        assert verify(db).ok
    # A, not having edited it since, pushes nothing back over it
    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert "taken" not in again.reference and "lost" not in again.reference


def test_a_screening_and_its_clearance_made_on_chair_a_hold_and_lift_the_course_on_chair_b(
        chair_a: Path, chair_b: Path, hub: str) -> None:
    new_patient_on(chair_a)
    questionnaire = screening.load_questionnaire()
    implant = next(i for i in questionnaire.items if i.absolute_contraindication)
    with chair(chair_a) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None
        answers = {i.id: ("yes" if i.id == implant.id else "no") for i in questionnaire.items}
        screening.record_screening(db, user(db, "technician"), patient.id, answers,
                                   {implant.id: "cochlear implant, left"})
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    pull(chair_b, hub, ORIGIN_B)
    with chair(chair_b) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None
        assert any("Absolute contraindication" in b for b in screening.start_blockers(db, patient.id))
    with chair(chair_a) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None
        screening.record_clearance(db, user(db, "physician"), "demo-physician", patient.id,
                                   "MR-conditional implant checked with the maker; benefit outweighs risk")
        assert screening.start_blockers(db, patient.id) == []
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert pull(chair_b, hub, ORIGIN_B).inserted == {"clearances": 1}
    with chair(chair_b) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None and screening.start_blockers(db, patient.id) == []


def test_a_chair_away_for_long_catches_up_in_many_short_batches(
        chair_a: Path, chair_b: Path, hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(7):
        new_patient_on(chair_a, f"MRN-80{n:02d}")
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    monkeypatch.setattr(pull_module, "PULL_BATCH", 3)
    batches: list[int] = []
    real = pull_module.write_transaction

    @contextmanager
    def counted(db: sqlite_utils.Database) -> Iterator[None]:
        with real(db):
            before = db.execute("SELECT total_changes()").fetchone()[0]
            yield
            batches.append(db.execute("SELECT total_changes()").fetchone()[0] - before)

    monkeypatch.setattr(pull_module, "write_transaction", counted)
    result = pull(chair_b, hub, ORIGIN_B)
    assert result.inserted["patients"] == 3 + 7 and result.inserted["courses"] == 3 + 7
    assert len(batches) > 8  # many transactions, none holding the chair long
    with chair(chair_b) as db:
        for n in range(7):
            patient = find_patient(db, f"MRN-80{n:02d}")
            assert patient is not None and active_course(db, patient.id) is not None
