"""A physician's signed review that lifts a hold on a course (issue 14, items 6 and 8).

Some things put a course on hold until the treating physician has looked at them: a seizure
during a session, a motor threshold older than the clinic's re-measure interval, a change of
medication since the motor threshold was measured, a checklist answer the clinic sends to a
physician (a new seizure, implant, possible pregnancy, thoughts of self-harm). Only a physician
lifts a hold, and only by signing (re-typing their password) with the decision in words; the
review is append-only and audited. The rules that *make* a hold live where their facts are (the MT rules in
``console.clinic.motor_threshold``, the seizure hold in ``console.safety.adverse_event``, the
checklist's in ``console.safety.checklist_holds``); this
module only keeps and finds the physician's decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlite_utils

from console.audit import audit, write_transaction
from console.errors import ClinicError
from console.people.signing import confirm_signer
from console.people.user import User
from db.database import inserted_id, new_uuid, utc_now

log = logging.getLogger(__name__)

ACTION = "review_hold"
"""The permission it takes (console.people.permissions): a physician's."""

KINDS = {
    "seizure": "a seizure during a session",
    "mt_overdue": "a motor threshold older than the clinic's re-measure interval",
    "mt_medication": "a change of medication since the motor threshold was measured",
    "checklist": "a pre-session checklist answer that needs a physician",
}


@dataclass(frozen=True)
class HoldLifted:
    id: int
    kind: str
    subject_id: int | None
    reason: str
    signed_by: str
    signer_name: str | None
    signed_at: str


def lift_hold(
    db: sqlite_utils.Database, physician: User, password: str, kind: str, patient_id: int,
    course_id: int | None, subject_id: int | None, reason: str,
) -> int:
    """Keep a physician's signed decision that the course may go on despite ``kind``; its id.

    ``subject_id`` names what it is about (the adverse event, or the motor threshold the course
    goes on with). Raises ClinicError (a wrong password, a signer who is not a physician, no reason).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown hold {kind!r}")
    reason = (reason or "").strip()
    if not reason:
        raise ClinicError("Write the physician's decision: it is kept with the patient's record.")
    signer = confirm_signer(db, physician, password, ACTION, purpose=f"physician review of {KINDS[kind]}")
    row = {
        "uuid": new_uuid(), "kind": kind, "patient_id": patient_id, "course_id": course_id,
        "subject_id": subject_id, "reason": reason, "signed_by": signer.username,
        "signer_name": getattr(signer, "full_name", None), "signer_role": signer.role, "signed_at": utc_now(),
    }
    with write_transaction(db):
        review_id = inserted_id(db.execute(
            "INSERT INTO physician_holds_lifted (uuid, kind, patient_id, course_id, subject_id, reason, "
            "signed_by, signer_name, signer_role, signed_at) VALUES (:uuid, :kind, :patient_id, :course_id, "
            ":subject_id, :reason, :signed_by, :signer_name, :signer_role, :signed_at)", row))
        audit(db, signer, "lift_hold", "physician_hold", review_id, None, row)
    log.info("hold %s on course %s lifted by %s", kind, course_id, signer.username)
    return review_id


def holds_lifted(
    db: sqlite_utils.Database, kind: str, *, course_id: int | None = None, patient_id: int | None = None,
    subject_id: int | None = None,
) -> list[HoldLifted]:
    """The physician's reviews of ``kind`` (for a course or patient, about one subject), newest first."""
    where: list[str] = ["kind = ?"]
    params: list[object] = [kind]
    for column, value in (("course_id", course_id), ("patient_id", patient_id), ("subject_id", subject_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    rows = db.execute(
        "SELECT id, kind, subject_id, reason, signed_by, signer_name, signed_at FROM physician_holds_lifted "
        f"WHERE {' AND '.join(where)} ORDER BY signed_at DESC, id DESC", params).fetchall()
    return [HoldLifted(*r) for r in rows]
