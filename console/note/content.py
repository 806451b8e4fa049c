"""What the therapist handoff note says, assembled from the record of one session.

The note follows I-PASS (see DESIGN.md, "The handoff note"): header, safety
status first, today's session, trajectory, observations, the clinic's
suggestions, the reviewer. :func:`build_note` reads the database once and
returns a :class:`NoteContent` of plain values, so every way out (HTML/PDF,
plain text, Markdown) says the same facts and the templates hold no logic
beyond layout. Nothing here interprets the patient's state: the note reports
what was recorded, in plain words, and the clinic's own guidance text.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from console.clinic.protocols import preset_key
from console.note.sources import outcome_rules, read_item9_notifications, read_setting, read_signatures
from console.note.words import (
    Guidance,
    clock_words,
    day_words,
    detail_of,
    detail_text,
    duration_words,
    local_time,
    short_day,
)
from resources import load_json

log = logging.getLogger(__name__)



class NoteUnavailable(LookupError):
    """No note can be made for this session id; the message says why in one line."""


@dataclass(frozen=True)
class Header:
    clinic_name: str
    clinic_phone: str
    supervising_physician: str
    patient_id: str  # the clinic id: on every page
    patient_label: str  # initials, or the full name when the clinic allows it
    session_id: int
    date: str
    session_number: int | None
    sessions_planned: int | None
    phase: str  # acute, taper, maintenance, accelerated
    phase_words: str
    days_since_first: int | None


@dataclass(frozen=True)
class Safety:
    """Safety status first (I-PASS): the level and every line that set it, each said once."""

    level: str  # stable, watch, escalated
    level_words: str
    adverse_events: list[str]  # "09:31 syncope: Fainted briefly. Done: ..."
    item9: int | None  # today's PHQ-9 item 9 answer (0-3), None when not taken today
    item9_words: str
    other_reasons: list[str]  # what else made it "watch" (a side effect rated high)
    told: list[str]  # who was told and when, as recorded

    @property
    def item9_raised(self) -> bool:
        return bool(self.item9)


@dataclass(frozen=True)
class Change:
    """One checklist answer shown as a change since last time ("Medication changed")."""

    item: str
    answer: str
    words: str
    note: str


@dataclass(frozen=True)
class Today:
    outcome: str  # completed, partial, not_given, in_progress
    outcome_words: str
    treatment: str
    target: str
    intensity: str
    pulses_delivered: int
    pulses_planned: int | None
    started: str
    duration: str
    interruptions: list[str]
    changes: list[Change]
    notes: list[str]


@dataclass(frozen=True)
class SideEffect:
    label: str
    rating: int | None
    note: str
    time: str


@dataclass(frozen=True)
class PhqPoint:
    date: str
    day: int  # days after the first point: the chart's x
    total: int


@dataclass(frozen=True)
class Trajectory:
    points: list[PhqPoint]
    baseline: int | None
    latest: int | None
    change_percent: float | None  # positive = lower (better) than baseline
    change_words: str
    response_line: float | None  # at or below: a response (50 % of baseline by default)
    remission_line: int  # below: remission (5 by default)
    response_reached: bool
    remission_reached: bool
    sessions_remaining: int | None

    @property
    def series_words(self) -> str:
        return " → ".join(f"{p.total} ({p.date})" for p in self.points)


@dataclass(frozen=True)
class Observations:
    mood: str
    patient_said: str  # the patient's own words, printed in quotes
    technician_saw: str
    wants_to_work_on: str

    @property
    def recorded(self) -> bool:
        return any((self.mood, self.patient_said, self.technician_saw, self.wants_to_work_on))


@dataclass(frozen=True)
class Escalation:
    condition: str
    action: str
    phone: str


@dataclass(frozen=True)
class ForTherapist:
    focus: list[str]
    reminders: list[str]
    escalation: list[Escalation]


@dataclass(frozen=True)
class ReplyBox:
    """The room left for the therapist's reply on paper (the printer draws it; text formats print a line)."""

    title: str
    signature_line: str
    min_height_mm: float
    max_height_mm: float


@dataclass(frozen=True)
class Signature:
    name: str
    meaning: str
    signed_at: str
    comment: str


@dataclass(frozen=True)
class Review:
    signatures: list[Signature]

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def status_words(self) -> str:
        if not self.signatures:
            return "Not yet reviewed"
        s = self.signatures[-1]
        return f"{s.meaning.capitalize()} by {s.name}, {s.signed_at}"


@dataclass(frozen=True)
class NoteContent:
    """Everything one handoff note says, as plain values for the templates."""

    header: Header
    safety: Safety
    today: Today
    side_effects: list[SideEffect]
    trajectory: Trajectory
    observations: Observations
    for_therapist: ForTherapist
    technician: str
    made_at: str
    review: Review
    reply: ReplyBox
    problems: list[str] = field(default_factory=list)  # clinic files that could not be used

    @property
    def tolerability_words(self) -> str:
        if not self.side_effects:
            return "No side effects recorded."
        return "; ".join(
            f"{s.label}{f' {s.rating}/10' if s.rating is not None else ''}" for s in self.side_effects
        )


# --- reading the record -------------------------------------------------------------------------

def _row(db: sqlite_utils.Database, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def _rows(db: sqlite_utils.Database, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _phase(course: dict[str, Any] | None, number: int | None, guidance: Guidance) -> str:
    schedule = str((course or {}).get("schedule") or "acute").lower()
    if schedule == "acute" and number is not None:
        taper_from = guidance.section("phases", "taper_from_session")
        if isinstance(taper_from, int) and number >= taper_from:
            return "taper"
    return schedule


def _header(db: sqlite_utils.Database, session: dict[str, Any], patient: dict[str, Any],
            course: dict[str, Any] | None, guidance: Guidance) -> Header:
    started = local_time(session["started_at"])
    show_name = _truthy(read_setting(db, "note_show_full_name", False))
    label = str(patient["name"]) if show_name else str(patient["initials"])
    number = session["number_in_course"]
    phase = _phase(course, number, guidance)
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


def _outcome(session: dict[str, Any]) -> tuple[str, str]:
    status = session["status"]
    delivered = session["pulses_delivered"] or 0
    planned = session["pulses_planned"]
    reason = (session["end_reason"] or "").strip()
    because = f": {reason}" if reason else ""
    if status == "recording":
        return "in_progress", "In progress when this note was made"
    if status == "completed" and (planned is None or delivered >= planned):
        return "completed", "Completed"
    if delivered == 0:
        return "not_given", f"Not given{because}"
    if status == "interrupted":
        return "partial", "Partly given: the recording ended unexpectedly"
    if status == "completed":
        return "partial", f"Ended short of the plan{because}"
    return "partial", f"Stopped early{because}"


def _interruptions(events: list[dict[str, Any]], guidance: Guidance) -> list[str]:
    lines: list[str] = []
    for event in events:
        kind = event["kind"]
        at = clock_words(local_time(event["at"]))
        detail = detail_of(event["detail"])
        if kind == "pause":
            why = guidance.plain(detail_text(detail, "reason", "text") or (event["code"] or ""))
            at_device = isinstance(detail, dict) and detail.get("source") == "device"
            lines.append(f"{at} paused" + (f": {why}" if why else " at the device" if at_device else ""))
        elif kind == "fault":
            code = event["code"] or detail_text(detail, "code")
            words = guidance.word("faults", code) or guidance.plain(detail_text(detail, "text")) or code
            lines.append(f"{at} device stopped: {words or 'a device fault'}")
        elif kind == "device_lost":
            lines.append(f"{at} connection to the device lost")
    return lines


def _changes(events: list[dict[str, Any]], guidance: Guidance) -> list[Change]:
    """The checklist answers the clinic shows as "changes since last time" (the last checklist wins)."""
    phrases = guidance.section("changes_since_last_time")
    checklists = [detail_of(e["detail"]) for e in events if e["kind"] == "checklist"]
    if not isinstance(phrases, dict) or not checklists:
        return []
    answers = _checklist_answers(checklists[-1])
    questions = _checklist_questions()
    changes = []
    for item_id, words in phrases.items():
        if item_id == "about" or item_id not in answers:
            continue
        answer, note = answers[item_id]
        said = words.get(answer.lower()) if isinstance(words, dict) else None
        if not isinstance(said, str) or not said:
            said = f"{questions.get(item_id, item_id.replace('_', ' '))}: {answer}"
        changes.append(Change(item_id, answer, said, guidance.plain(note)))
    return changes


def _checklist_questions() -> dict[str, str]:
    try:
        items = load_json("checklist.json").get("items", [])
        return {str(i["id"]): str(i["question"]) for i in items}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("checklist questions not read: %s", exc)
        return {}


def _checklist_answers(detail: Any) -> dict[str, tuple[str, str]]:
    """item id -> (answer, note), from the shapes a checklist detail may take."""
    if isinstance(detail, dict) and isinstance(detail.get("answers"), dict | list):
        detail = detail["answers"]
    items: list[tuple[str, Any]] = []
    if isinstance(detail, dict):
        items = list(detail.items())
    elif isinstance(detail, list):
        items = [(str(d.get("id")), d) for d in detail if isinstance(d, dict) and d.get("id")]
    out: dict[str, tuple[str, str]] = {}
    for item_id, value in items:
        if isinstance(value, dict):
            answer, note = value.get("answer"), value.get("note") or ""
        else:
            answer, note = value, ""
        if isinstance(answer, bool):
            answer = "yes" if answer else "no"
        out[item_id] = (str(answer) if answer is not None else "not answered", str(note))
    return out


def _side_effects(events: list[dict[str, Any]], guidance: Guidance) -> list[SideEffect]:
    labels = {}
    try:
        labels = {s["kind"]: s["label"] for s in load_json("session_lists.json").get("side_effects", [])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("side-effect labels not read: %s", exc)
    out = []
    for event in events:
        if event["kind"] != "side_effect":
            continue
        detail = detail_of(event["detail"])
        kind = (detail.get("kind") if isinstance(detail, dict) else None) or event["code"]
        rating = detail.get("rating") if isinstance(detail, dict) else None
        note = detail.get("note") if isinstance(detail, dict) else detail
        label = labels.get(kind) or str(kind or "Side effect").replace("_", " ").capitalize()
        out.append(SideEffect(
            label=label,
            rating=int(rating) if isinstance(rating, int | float) else None,
            note=guidance.plain(str(note or "")),
            time=clock_words(local_time(event["at"])),
        ))
    return out


def _phq9(db: sqlite_utils.Database, session: dict[str, Any], course: dict[str, Any] | None
          ) -> list[dict[str, Any]]:
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


def _trajectory(rows: list[dict[str, Any]], header: Header) -> Trajectory:
    points: list[PhqPoint] = []
    first = local_time(rows[0]["taken_at"]) if rows else None
    for r in rows:
        taken = local_time(r["taken_at"])
        day = (taken.date() - first.date()).days if taken and first else 0
        points.append(PhqPoint(short_day(taken), day, int(r["total"])))
    drop_percent, remission_at_most = outcome_rules()
    share = 1 - drop_percent / 100
    baseline = points[0].total if points else None
    latest = points[-1].total if points else None
    change = None
    words = "No PHQ-9 recorded in this course yet." if not points else "Only the baseline so far."
    if baseline is not None and latest is not None and len(points) > 1:
        if baseline > 0:
            change = 100.0 * (baseline - latest) / baseline
            direction = "down" if change > 0 else "up"
            words = (f"{baseline} → {latest}: {direction} {abs(change):.0f} % from baseline"
                     if round(change) else f"{baseline} → {latest}: about the same as baseline")
        else:
            words = f"{baseline} → {latest}"
    remaining = None
    if header.sessions_planned is not None and header.session_number is not None:
        remaining = max(0, header.sessions_planned - header.session_number)
    return Trajectory(
        points=points,
        baseline=baseline,
        latest=latest,
        change_percent=change,
        change_words=words,
        response_line=baseline * share if baseline is not None else None,
        remission_line=remission_at_most + 1,
        response_reached=bool(
            baseline and latest is not None and len(points) > 1 and latest <= baseline * share
        ),
        remission_reached=bool(len(points) > 1 and latest is not None and latest <= remission_at_most),
        sessions_remaining=remaining,
    )


def _item9(rows: list[dict[str, Any]], session: dict[str, Any]) -> tuple[int | None, str | None, int | None]:
    """Today's PHQ-9 item 9 (items[8]), when it was taken and the outcome id; Nones when not taken today."""
    started = local_time(session["started_at"])
    for r in reversed(rows):
        taken = local_time(r["taken_at"])
        if not (taken and started and taken.date() == started.date()):
            continue
        try:
            items = json.loads(r["items"]) if r["items"] else None
        except ValueError:
            items = None
        if isinstance(items, list) and len(items) >= 9 and isinstance(items[8], int):
            return items[8], clock_words(taken), r["id"]
        return None, clock_words(taken), r["id"]
    return None, None, None


def _safety(events: list[dict[str, Any]], side_effects: list[SideEffect], item9: int | None,
            item9_at: str | None, told: list[str], guidance: Guidance) -> Safety:
    other: list[str] = []
    adverse: list[str] = []
    told = list(told)
    for event in events:
        if event["kind"] != "adverse_event":
            continue
        detail = detail_of(event["detail"])
        kind = (event["code"] or "").replace("_", " ")
        what = guidance.plain(detail_text(detail, "description", "what", "text", "note")) or "no description"
        line = f"{clock_words(local_time(event['at']))} {kind + ': ' if kind else ''}{_sentence(what)}"
        actions = detail_text(detail, "actions_taken") if isinstance(detail, dict) else ""
        if actions:
            line += f" Done: {_sentence(guidance.plain(actions))}"
        adverse.append(line)
    question = str(guidance.section("safety", "item9_question") or "item 9")
    answers = guidance.section("safety", "item9_answers") or []
    if item9 is not None:
        answer = answers[item9] if isinstance(answers, list) and 0 <= item9 < len(answers) else str(item9)
        item9_words = f"PHQ-9 item 9 ({question}) today at {item9_at}: {item9} – {answer}."
    elif item9_at:
        item9_words = f"PHQ-9 taken today at {item9_at}; item 9 not recorded."
    else:
        item9_words = "No PHQ-9 taken today."
    limit = guidance.section("safety", "watch_side_effect_rating")
    if isinstance(limit, int | float):
        strong = [s for s in side_effects if s.rating is not None and s.rating >= limit]
        if strong:
            other.append(
                "Side effect rated " + ", ".join(f"{s.label.lower()} {s.rating}/10" for s in strong) + "."
            )
    level = "escalated" if adverse else ("watch" if (other or item9) else "stable")
    if level != "stable" and not told:
        told.append("Not recorded in the console.")
    return Safety(
        level=level,
        level_words=str(guidance.section("safety", "levels", level) or level.capitalize()),
        adverse_events=adverse,
        item9=item9,
        item9_words=item9_words,
        other_reasons=other,
        told=told,
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _observations(events: list[dict[str, Any]], guidance: Guidance) -> Observations:
    merged: dict[str, str] = {}
    for event in events:  # later entries complete or correct earlier ones
        if event["kind"] != "observation":
            continue
        detail = detail_of(event["detail"])
        if isinstance(detail, dict):
            merged.update({k: str(v).strip() for k, v in detail.items() if v not in (None, "")})
        elif detail:
            merged["technician_saw"] = str(detail).strip()
    said = merged.get("patient_said", "").strip().strip('"“”').strip()
    return Observations(
        mood=merged.get("mood", ""),
        patient_said=said,  # the patient's own words: never reworded
        technician_saw=guidance.plain(merged.get("technician_saw", "")),
        wants_to_work_on=merged.get("wants_to_work_on", ""),
    )


def _for_therapist(db: sqlite_utils.Database, header: Header, today: Today,
                   side_effects: list[SideEffect], guidance: Guidance) -> ForTherapist:
    focus = guidance.texts("focus", header.phase)
    if today.outcome in ("partial", "not_given"):
        focus += guidance.texts("focus", "not_completed")
    if side_effects:
        focus += guidance.texts("focus", "side_effects")
    contacts = guidance.section("escalation", "contacts")
    escalation = []
    for c in contacts if isinstance(contacts, list) else []:
        if not isinstance(c, dict) or not c.get("if") or not c.get("then"):
            continue
        phone = str(c.get("phone") or header.clinic_phone)
        escalation.append(Escalation(str(c["if"]), str(c["then"]), phone))
    return ForTherapist(focus=focus, reminders=guidance.texts("reminders"), escalation=escalation)


def _today(session: dict[str, Any], course: dict[str, Any] | None, events: list[dict[str, Any]],
           guidance: Guidance) -> Today:
    outcome, outcome_words = _outcome(session)
    protocol = session["protocol"] or (course or {}).get("protocol")
    key = preset_key(protocol) if protocol else None
    treatment = guidance.word("protocols", key) or guidance.plain(protocol) or "not recorded"
    target_name = (course or {}).get("target")
    target = guidance.word("targets", target_name) or guidance.plain(target_name) or "not recorded"
    percent = session["percent_mt"] or (course or {}).get("percent_mt")
    intensity = f"{percent:g} % of motor threshold" if percent else "not recorded"
    notes = [
        guidance.plain(detail_text(detail_of(e["detail"])))
        for e in events if e["kind"] == "note" and detail_text(detail_of(e["detail"]))
    ]
    started = local_time(session["started_at"])
    return Today(
        outcome=outcome,
        outcome_words=guidance.plain(outcome_words),
        treatment=treatment,
        target=target,
        intensity=intensity,
        pulses_delivered=int(session["pulses_delivered"] or 0),
        pulses_planned=session["pulses_planned"],
        started=clock_words(started),
        duration=duration_words(session["duration_s"]),
        interruptions=_interruptions(events, guidance),
        changes=_changes(events, guidance),
        notes=notes,
    )


def _reply(guidance: Guidance) -> ReplyBox:
    def number(key: str, default: float) -> float:
        value = guidance.section("reply", key)
        return float(value) if isinstance(value, int | float) and value > 0 else default

    return ReplyBox(
        title=str(guidance.section("reply", "title") or "Therapist's reply"),
        signature_line=str(guidance.section("reply", "signature_line") or ""),
        min_height_mm=number("min_height_mm", 24.0),
        max_height_mm=max(number("max_height_mm", 80.0), number("min_height_mm", 24.0)),
    )


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
    today = _today(session, course, events, guidance)
    side_effects = _side_effects(events, guidance)
    phq = _phq9(db, session, course)
    item9, item9_at, outcome_id = _item9(phq, session)
    told = read_item9_notifications(db, outcome_id) if outcome_id is not None and item9 else []
    made = (now or datetime.now()).astimezone()
    return NoteContent(
        header=header,
        safety=_safety(events, side_effects, item9, item9_at, told, guidance),
        today=today,
        side_effects=side_effects,
        trajectory=_trajectory(phq, header),
        observations=_observations(events, guidance),
        for_therapist=_for_therapist(db, header, today, side_effects, guidance),
        technician=str(session["technician"] or "not recorded"),
        made_at=f"{day_words(made)} {clock_words(made)}",
        review=Review([
            Signature(s.name, s.meaning, s.signed_at, s.comment) for s in read_signatures(db, session_id)
        ]),
        reply=_reply(guidance),
        problems=[guidance.problem] if guidance.problem else [],
    )
