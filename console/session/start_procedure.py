"""The chair's way from "Begin session" to a running session, as plain Python.

The technician's screen drives it and only asks the person and shows the words:

    procedure = StartProcedure(db, technician, patient)
    need = procedure.next_question()      # StartRefused: a blocker, said in words
    ... ask the person for that override, then
    procedure.sign_limit_override(...) or procedure.give_early_reason(...)
    ... until next_question() is None; then the checklist, kept as answered:
    procedure.keep_checklist(answers)     # an answer for a physician holds the course
    plan = procedure.plan()               # the gate once more, then the session's plan
    procedure.attach(session_id)          # the overrides go with the session's record
    procedure.intensity_need(device_mso)  # at Start, with the device connected

Every decision is the start gate's (console.safety.start_gate), the one the
headless ``record`` uses too: the procedure adds no rule of its own, it
only records the overrides a person gives and asks the gate again.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlite_utils

from console.clinic.records import Patient
from console.errors import ClinicError
from console.people.user import User, get_user
from console.safety.checklist_holds import KeptChecklist, keep_checklist
from console.safety.limits import record_intensity_override, record_override
from console.safety.overrides import Scope, attach_to_session
from console.safety.schedule import record_early_start, sign_extra_session
from console.safety.start_gate import OverrideKind, OverrideNeed, StartGate, gate_for_patient
from console.session.plan import plan_session
from console.session.runner import SessionPlan

log = logging.getLogger(__name__)


class StartRefused(ClinicError):
    """The session cannot start now; the message says why (the gate's words)."""


class StartProcedure:
    """One technician's start of one patient's next session; see the module docstring."""

    def __init__(self, db: sqlite_utils.Database, user: User, patient: Patient,
                 now: datetime | None = None) -> None:
        self.db = db
        self.user = user
        self.patient = patient
        self._now = now
        self.gate: StartGate = self.evaluate()
        self.session_plan: SessionPlan | None = None

    def evaluate(self) -> StartGate:
        """Ask the gate again (an override just given counts from now on)."""
        self.gate = gate_for_patient(self.db, self.patient.id, now=self._now)
        return self.gate

    def _course_id(self) -> int:
        if self.gate.course_id is None:
            raise StartRefused(self.gate.first_problem() or "There is no open treatment course.")
        return self.gate.course_id

    def next_question(self) -> OverrideNeed | None:
        """The next override to ask for before the session exists (None: go on to the checklist).

        Raises StartRefused when a blocker holds: no override helps then.
        """
        gate = self.evaluate()
        if gate.blockers:
            raise StartRefused(gate.blockers[0].message)
        return next((need for need in gate.pending if not need.kind.needs_device), None)

    def sign_limit_override(self, username: str, password: str, reason: str) -> int:
        """A physician signs the override of the safety limits the gate reports; returns its id.

        Raises ClinicError (said to the person) for an unknown user, a wrong
        password, someone who may not sign it, or a missing reason.
        """
        need = self.gate.need(OverrideKind.SAFETY_LIMIT)
        if need is None:
            raise ClinicError("There is nothing to override: the protocol is within the limits.")
        physician = get_user(self.db, username.strip())
        if physician is None:
            raise ClinicError("There is no user of that name.")
        override_id = record_override(self.db, physician, password, Scope.course(self._course_id()),
                                      need.violations, reason)
        self.evaluate()
        return override_id

    def give_early_reason(self, reason: str) -> int:
        """The technician's reason to start sooner than the schedule allows; returns the override's id."""
        need = self.gate.need(OverrideKind.EARLY_START)
        if need is None or need.early_start is None:
            raise ClinicError("There is nothing to give a reason for: the schedule allows this session.")
        override_id = record_early_start(self.db, self.user, self._course_id(), need.early_start, reason)
        self.evaluate()
        return override_id

    def sign_extra_session(self, username: str, password: str, reason: str) -> int:
        """A physician signs for a session beyond the day's plan (issue 14, item 10); its id.
        Raises ClinicError (said to the person) for an unknown user, a wrong password, someone who
        is not a physician, or a missing reason."""
        need = self.gate.need(OverrideKind.EXTRA_SESSION)
        if need is None or need.early_start is None:
            raise ClinicError("There is nothing to sign: the day's plan allows this session.")
        physician = get_user(self.db, username.strip())
        if physician is None:
            raise ClinicError("There is no user of that name.")
        override_id = sign_extra_session(self.db, physician, password, self._course_id(), need.early_start,
                                         reason)
        self.evaluate()
        return override_id

    def keep_checklist(self, answers: list[dict[str, str]]) -> KeptChecklist:
        """Keep the checklist as answered, before the session exists (issue 14, items 4 and 10):
        an answer for a physician holds the course from now on, a medication change counts for
        this session's motor threshold. The gate is asked again: :meth:`plan` then refuses what
        the answers hold."""
        kept = keep_checklist(self.db, self.user, self.patient.id, self.gate.course_id, answers)
        self.evaluate()
        return kept

    def plan(self) -> SessionPlan:
        """The session's plan, once the gate lets it start (asked again: time has passed since)."""
        gate = self.evaluate()
        before = [need for need in gate.pending if not need.kind.needs_device]
        if gate.blockers or before:
            raise StartRefused(gate.first_problem() or "")
        self.session_plan = plan_session(self.db, self.patient, course_id=gate.course_id,
                                         technician=self.user.username)
        return self.session_plan

    def attach(self, session_id: int) -> None:
        """Link the overrides given for this start to the session's record, now that it exists."""
        attach_to_session(self.db, self.gate.override_ids, session_id)

    def device_blocker(self, device_model: str | None, coil: str | None) -> str | None:
        """At Start, with the device connected: what blocks this session on *this* device (None:
        nothing). The coil it reports against the coil the MT was measured with (issue 14, item
        6), and anything that came to hold the course since Begin (a seizure recorded meanwhile).
        Said with who clears it."""
        gate = gate_for_patient(self.db, self.patient.id, device=device_model, coil=coil, now=self._now)
        return gate.blockers[0].with_remedy() if gate.blockers else None

    def intensity_need(self, device_mso: int) -> OverrideNeed | None:
        """At Start: the device's intensity against the prescription (None: they agree or there is
        no prescription). The reason is asked for each session, so it is never covered beforehand."""
        if self.gate.course_id is None:
            return None
        gate = gate_for_patient(self.db, self.patient.id, device_mso=device_mso, now=self._now)
        above = gate.need(OverrideKind.INTENSITY_ABOVE)  # above the prescription: a signed override
        if above is not None:
            return above if above.pending else None
        return gate.need(OverrideKind.INTENSITY)

    def give_intensity_reason(self, session_id: int, device_mso: int, reason: str) -> int:
        """The technician goes on with the device's intensity, saying why; kept with the session."""
        plan = self.session_plan
        if plan is None or plan.prescribed_mso is None:
            raise ClinicError("There is no prescription to differ from.")
        return record_intensity_override(self.db, self.user, Scope.session(session_id), plan.prescribed_mso,
                                         device_mso, reason)

    def sign_intensity_override(self, session_id: int, device_mso: int, username: str, password: str,
                                reason: str) -> int:
        """A physician signs for a device set above the prescription (issue 14, items 1 and 7); kept
        with the session. Returns the override's id."""
        need = self.intensity_need(device_mso)
        if need is None or need.kind is not OverrideKind.INTENSITY_ABOVE:
            raise ClinicError("There is nothing to sign: the device is not set above the prescription.")
        physician = get_user(self.db, username.strip())
        if physician is None:
            raise ClinicError("There is no user of that name.")
        return record_override(self.db, physician, password, Scope.session(session_id), need.violations,
                               reason)
