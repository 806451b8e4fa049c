"""Issue 14, item 1: the intensity actually delivered is what the safety check judges.

The prescription is rounded down (the device never delivers more than prescribed), the gate
checks a device setting at the % MT it delivers (device % MSO over the MT), and above the
prescription only a signed override lets it go on, at the start and at every change during
the run (through the runner, where the console changes the device's intensity).

The module attributes are looked up inside each test, so that on code without them each test
fails on its own rather than the whole file failing to import.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.clinic import records as clinic
from console.errors import ClinicError
from console.safety import limits, start_gate
from console.safety.overrides import Scope
from console.session.runner import SessionRunner
from devices.adapter import DeviceEvent
from devices.events import Train
from tests.clinical.conftest import PASSWORDS, add_session
from tests.clinical.test_start_gate import ready
from tests.engine.test_runner import new_patient
from tests.engine.test_runner_commands import AnsweringAdapter

LOW, HIGH = getattr(clinic, "PERCENT_MT_RANGE", (1, 200))  # the course form's bounds


# -- rounding: never above the prescription ----------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(mt=st.integers(1, 100), percent_tenths=st.integers(LOW * 10, HIGH * 10))
def test_the_deliverable_setting_never_exceeds_the_prescription(mt: int, percent_tenths: int) -> None:
    prescribed = Fraction(percent_tenths, 10)
    mso = clinic.prescribed_mso(mt, percent_tenths / 10)
    assert Fraction(mso * 100, mt) <= prescribed  # the dose delivered is not above the prescription
    assert Fraction((mso + 1) * 100, mt) > prescribed  # and it is the highest setting that is not


def test_every_whole_mt_and_percent_in_the_clinics_range_stays_within_the_prescription() -> None:
    over = [(mt, pct) for mt in range(1, 101) for pct in range(LOW, HIGH + 1)
            if clinic.prescribed_mso(mt, pct) * 100 > mt * pct]
    assert over == []


def test_120_percent_of_mt_57_is_68_percent_mso_which_is_119_3_percent_mt() -> None:
    assert clinic.prescribed_mso(57, 120) == 68
    assert round(clinic.effective_percent_mt(68, 57) or 0.0, 1) == 119.3


def test_a_prescription_that_rounding_up_would_push_over_the_ceiling_is_delivered_below_it(
    db, people, patient
) -> None:
    course = ready(db, people, patient, mt=53)  # 120 % of 53 = 63.6: rounded up, 64 = 120.75 % MT
    rx = clinic.prescription(db, course.id)
    assert rx.mso == 63 and rx.effective_percent_mt is not None and rx.effective_percent_mt <= 120
    assert start_gate.gate_for_course(db, course.id, device_mso=63).can_start


# -- the gate: the device's setting at the % MT it delivers ------------------------------------

def test_a_device_set_above_the_ceiling_is_refused_by_the_gate_until_a_signed_override(
    db, people, patient
) -> None:
    course = ready(db, people, patient, mt=57)  # 10 Hz at 120 % MT: 68 % MSO
    assert start_gate.gate_for_course(db, course.id, device_mso=68).can_start
    gate = start_gate.gate_for_course(db, course.id, device_mso=69)  # 121.05 % MT
    assert not gate.can_start
    every = [v.code for need in gate.pending for v in need.violations]
    assert "percent_mt_above_clinic_max" in every and "train_too_long" in every
    need = gate.need(start_gate.OverrideKind.INTENSITY_ABOVE)
    assert need is not None and need.pending and need.kind.signed
    codes = [v.code for v in need.violations]
    # the clinic's ceiling and the train table are checked again at the delivered % MT
    assert codes == ["above_prescription", "percent_mt_above_clinic_max", "train_too_long"]
    assert "69 % MSO" in need.problems[0] and "121.1 % of the motor threshold" in need.problems[0]
    assert "121.1 % MT is above the clinic's maximum of 120 % MT" in need.problems[1]
    assert gate.need(start_gate.OverrideKind.INTENSITY) is None  # a technician's reason does not do

    with pytest.raises(ClinicError, match="a reason is not enough"):
        limits.record_intensity_override(db, people["tom"], ("course", course.id), 68, 69, "tolerates it")
    limits.record_override(db, people["phil"], PASSWORDS["phil"], ("course", course.id), need.violations,
                           "Dose titration agreed with the treating physician")
    signed = start_gate.gate_for_course(db, course.id, device_mso=69)
    covered = signed.need(start_gate.OverrideKind.INTENSITY_ABOVE)
    assert signed.can_start and covered is not None and covered.covered_by is not None
    # the override covers that setting only: a higher one is a new problem
    assert not start_gate.gate_for_course(db, course.id, device_mso=70).can_start


def test_a_device_set_below_the_prescription_still_takes_the_technicians_reason(
    db, people, patient
) -> None:
    course = ready(db, people, patient, mt=57)
    gate = start_gate.gate_for_course(db, course.id, device_mso=60)
    assert gate.need(start_gate.OverrideKind.INTENSITY_ABOVE) is None
    need = gate.need(start_gate.OverrideKind.INTENSITY)
    assert need is not None and not need.kind.signed
    limits.record_intensity_override(db, people["tom"], ("course", course.id), 68, 60, "scalp pain")
    assert start_gate.gate_for_course(db, course.id, device_mso=60).can_start


# -- during the run: the runner refuses a SET above the prescription without the override ------

class RunningDevice(AnsweringAdapter):
    """A device that takes SET, START and STOP, and runs (a train starts) once started."""

    def __init__(self) -> None:
        super().__init__({"SET": None, "START": None, "STOP": None})
        self._events: queue.SimpleQueue[DeviceEvent] = queue.SimpleQueue()

    def events(self, idle_timeout: float | None = None) -> Iterator[DeviceEvent]:
        try:
            yield self._events.get(timeout=idle_timeout)
        except queue.Empty:
            return

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        super().command(name, *args, timeout=timeout)
        if name == "START":
            self._events.put(Train(10, time.monotonic(), 1, "START", 30))


def _wait_for(check, within_s: float = 30.0) -> bool:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_raising_the_intensity_during_a_run_above_the_prescription_needs_the_signed_override(
    db, people, tmp_path: Path
) -> None:
    db_path = tmp_path / "clinic" / "tms-console.db"  # the file the db fixture opened
    _, plan = new_patient(db_path)  # iTBS at 120 % of MT 52: 62 % MSO
    assert plan.prescribed_mso == 62
    adapter = RunningDevice()
    runner = SessionRunner(db_path, adapter, plan)
    try:
        session_id = runner.open()
        runner.start(by="tom").result(timeout=30)
        assert _wait_for(lambda: runner.snapshot().state == "running")

        refused = runner.set_intensity(63, by="tom")
        try:
            refused.result(timeout=30)
            why: Exception | None = None
        except Exception as exc:
            why = exc
        assert ("SET", (63,)) not in adapter.sent  # nothing went to the device
        assert isinstance(why, limits.IntensityRefused)
        assert "above the prescription of 120 % MT" in str(why) and "signed override" in str(why)
        assert runner.set_intensity(60, by="tom").result(timeout=30) is True  # below: as before
        assert ("SET", (60,)) in adapter.sent

        violations = limits.check_delivered(
            limits.load_limits(), plan.protocol, mt_mso=52.0, percent_mt=120.0, prescribed_mso=62,
            device_mso=63)
        assert [v.code for v in violations] == [
            "above_prescription", "percent_mt_above_clinic_max", "patterned_percent_mt"]
        limits.record_override(db, people["phil"], PASSWORDS["phil"], Scope.session(session_id),
                               violations, "Titrating up on the treating physician's order")
        assert runner.set_intensity(63, by="tom").result(timeout=30) is True
        assert ("SET", (63,)) in adapter.sent
        with pytest.raises(limits.IntensityRefused):  # covered for 63, not for 64
            runner.set_intensity(64, by="tom").result(timeout=30)
    finally:
        runner.close()


# -- at the chair's Start: a device that takes no SET, set above the prescription -------------

def test_at_start_a_device_above_the_prescription_asks_a_physicians_signature_not_a_reason(
    db, people, patient
) -> None:
    from console.people.permissions import PermissionDenied
    from console.safety import overrides
    from console.session.start_procedure import StartProcedure

    course = ready(db, people, patient, mt=57)  # 68 % MSO
    procedure = StartProcedure(db, people["tom"], patient)
    assert procedure.next_question() is None
    procedure.plan()
    need = procedure.intensity_need(69)
    assert need is not None and need.kind.signed  # not a technician's reason
    assert "percent_mt_above_clinic_max" in [v.code for v in need.violations]
    session_id = add_session(db, course, datetime.now(), status="recording", pulses=0)
    with pytest.raises(ClinicError, match="a reason is not enough"):
        procedure.give_intensity_reason(session_id, 69, "patient tolerates it")
    with pytest.raises(PermissionDenied):
        procedure.sign_intensity_override(session_id, 69, "tom", PASSWORDS["tom"], "in a hurry")
    # A clinical decision (issue 14, items 1 and 7): the lead technician may not sign it either.
    with pytest.raises(PermissionDenied, match="a physician can"):
        procedure.sign_intensity_override(session_id, 69, "sue", PASSWORDS["sue"], "titrating")
    override_id = procedure.sign_intensity_override(session_id, 69, "phil", PASSWORDS["phil"],
                                                    "Titration on the treating physician's order")
    [o] = overrides.for_session(db, session_id)
    assert (o.id, o.kind, o.signed, o.by_role) == (override_id, "safety_limit", True, "physician")
    assert o.violations[0]["code"] == "above_prescription"
    below = procedure.intensity_need(60)
    assert below is not None and not below.kind.signed
