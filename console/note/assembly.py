"""Putting one handoff note together: read the facts of one session once, then word each section.

:func:`build_note` is the only place the note touches the database: it reads
the session, its patient, course, events and PHQ-9s, the clinic's settings
and resource lists (through :mod:`console.note.sources`), and hands those
plain values to the section rules in :mod:`console.note.sections`. Keeping
the reads here means the rules can be checked without a database and a note
is made from one consistent read of the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

from console.note import sections
from console.note.content import Header, NoteContent, Review, Signature
from console.note.sections import Row
from console.note.sources import (
    checklist_questions,
    outcome_rules,
    person_name,
    read_item9_notifications,
    read_setting,
    read_signatures,
    setting_labels,
    side_effect_labels,
)
from console.note.words import Guidance, clock_words, day_words, local_time


class NoteUnavailable(LookupError):
    """No note can be made for this session id; the message says why in one line."""


CONTACT_SETTINGS = ("clinic_phone", "supervising_physician")
"""The clinic settings a note may not go out without (issue 14, item 9): the therapist reading it
must be able to reach the clinic and know which physician supervises the treatment."""


def print_refusal(header: Header) -> str | None:
    """Why the note may not be printed, saved or sent yet, naming what to set and where; None: it may."""
    missing = [key for key in CONTACT_SETTINGS if not getattr(header, key).strip()]
    if not missing:
        return None
    labels = setting_labels()
    names = " and ".join(f"“{labels.get(key, key)}”" for key in missing)
    one = len(missing) == 1
    example = " and ".join(f"“python main.py settings set {key} …”" for key in missing)
    return (f"This note cannot be printed, saved or sent yet: the clinic setting{'' if one else 's'} "
            f"{names} {'is' if one else 'are'} empty, and the therapist needs "
            f"{'it' if one else 'them'} to reach the clinic. An administrator sets "
            f"{'it' if one else 'them'} with {example} (the settings command asks for the "
            "administrator's password).")


def _row(db: sqlite_utils.Database, sql: str, params: tuple[Any, ...]) -> Row | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def _rows(db: sqlite_utils.Database, sql: str, params: tuple[Any, ...]) -> list[Row]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _header(db: sqlite_utils.Database, session: Row, patient: Row, course: Row | None,
            guidance: Guidance) -> Header:
    """Who, when and where in the course; the full name only when the clinic's setting allows it."""
    started = local_time(session["started_at"])
    show_name = _truthy(read_setting(db, "note_show_full_name", False))
    label = str(patient["name"]) if show_name else str(patient["initials"])
    number = session["number_in_course"]
    phase = sections.course_phase(course, number, guidance)
    days = None
    if course is not None and started is not None:
        first = _row(db, "SELECT MIN(started_at) AS first FROM sessions WHERE course_id = ?", (course["id"],))
        first_at = local_time(first["first"] if first else None)
        if first_at is not None:
            days = (started.date() - first_at.date()).days
    return Header(
        clinic_name=str(read_setting(db, "clinic_name", "") or ""),
        clinic_phone=str(read_setting(db, "clinic_phone", "") or ""),
        supervising_physician=str(read_setting(db, "supervising_physician", "") or ""),
        patient_id=str(patient["clinic_id"]),
        patient_label=label,
        session_id=int(session["id"]),
        date=day_words(started),
        session_number=number,
        sessions_planned=course["planned_sessions"] if course else None,
        phase=phase,
        phase_words=str(guidance.section("phases", "names", phase) or phase.capitalize()),
        days_since_first=days,
    )


def _phq9(db: sqlite_utils.Database, session: Row, course: Row | None) -> list[Row]:
    """PHQ-9s of this course (or the patient's, when no course), up to the end of this session."""
    until = session["ended_at"] or session["heartbeat_at"] or session["started_at"]
    day_end = local_time(until)
    # Anything taken the same day counts: the form is often filled in after the session.
    limit = until if day_end is None else day_end.replace(hour=23, minute=59, second=59).isoformat()
    if course is not None:
        rows = _rows(db, "SELECT * FROM outcomes WHERE instrument = 'PHQ-9' AND course_id = ? "
                         "ORDER BY taken_at, id", (course["id"],))
    else:
        rows = _rows(db, "SELECT * FROM outcomes WHERE instrument = 'PHQ-9' AND patient_id = ? "
                         "ORDER BY taken_at, id", (session["patient_id"],))
    cutoff = local_time(limit)
    return [r for r in rows if cutoff is None or (local_time(r["taken_at"]) or cutoff) <= cutoff]


def _first_session(db: sqlite_utils.Database, session: Row) -> bool:
    """Whether no session of this course (of the patient, without a course) started before this one."""
    if session["course_id"] is not None:
        where, key = "course_id = ?", session["course_id"]
    else:
        where, key = "patient_id = ?", session["patient_id"]
    earlier = db.execute(f"SELECT 1 FROM sessions WHERE {where} AND id != ? AND started_at < ? LIMIT 1",
                         (key, session["id"], session["started_at"])).fetchone()
    return earlier is None


def build_note(db: sqlite_utils.Database, session_id: int, *, now: datetime | None = None,
               guidance: Guidance | None = None) -> NoteContent:
    """The handoff note of one session, or :class:`NoteUnavailable` when there is no such session."""
    guidance = guidance or Guidance.load()
    session = _row(db, "SELECT * FROM sessions WHERE id = ?", (session_id,))
    if session is None:
        raise NoteUnavailable(f"There is no session {session_id} in this database.")
    patient = _row(db, "SELECT * FROM patients WHERE id = ?", (session["patient_id"],))
    if patient is None:  # foreign keys make this impossible; say so rather than crash
        raise NoteUnavailable(f"Session {session_id} names a patient that is not in this database.")
    course = None
    if session["course_id"] is not None:
        course = _row(db, "SELECT * FROM courses WHERE id = ?", (session["course_id"],))
    events = _rows(db, "SELECT * FROM session_events WHERE session_id = ? ORDER BY id", (session_id,))

    header = _header(db, session, patient, course, guidance)
    today = sections.today_section(session, course, events, guidance, checklist_questions(),
                                   first_session=_first_session(db, session))
    side_effects = sections.side_effects_section(events, guidance, side_effect_labels())
    phq = _phq9(db, session, course)
    item9, item9_at, _today_id = sections.item9_today(phq, session)
    latest = sections.latest_item9(phq)  # today's, or an earlier one still standing
    told = (read_item9_notifications(db, latest.outcome_id)
            if latest is not None and latest.outcome_id is not None and latest.answer else [])
    made = (now or datetime.now()).astimezone()
    return NoteContent(
        header=header,
        safety=sections.safety_section(events, side_effects, item9, item9_at, told, guidance,
                                       latest=latest),
        today=today,
        side_effects=side_effects,
        trajectory=sections.trajectory_section(phq, header, outcome_rules()),
        observations=sections.observations_section(events, guidance),
        for_therapist=sections.for_therapist_section(header, today, side_effects, guidance),
        technician=person_name(db, session["technician"]) if session["technician"] else "not recorded",
        made_at=f"{day_words(made)} {clock_words(made)}",
        review=Review([
            Signature(s.name, s.meaning, s.signed_at, s.comment) for s in read_signatures(db, session_id)
        ]),
        reply=sections.reply_section(guidance),
        problems=[guidance.problem] if guidance.problem else [],
        print_refusal=print_refusal(header),
    )
