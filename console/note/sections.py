"""How each section of the handoff note is worded from the facts of one session.

Pure functions: each takes the rows already read (the session, its course,
its events, the PHQ-9s), the clinic's guidance and the resource lists it
needs, and returns one section of :class:`~console.note.content.NoteContent`.
Nothing here reads the database (:mod:`console.note.assembly` does), so each
rule can be checked with plain values; the one lookup is the protocol preset's
key, through :mod:`console.clinic.protocols`, so the note names a protocol as
every other screen does. Nothing here interprets the patient's state: the note
reports what was recorded, in plain words, and the clinic's own guidance text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from console.clinic.protocols import preset_key
from console.note.content import (
    Change,
    Escalation,
    ForTherapist,
    Header,
    Item9Answer,
    Observations,
    PhqPoint,
    ReplyBox,
    Safety,
    SideEffect,
    SourcedWarning,
    Today,
    Trajectory,
)
from console.note.words import (
    Guidance,
    clock_words,
    day_words,
    detail_of,
    detail_text,
    duration_words,
    local_time,
    pulses_words,
    short_day,
)
from console.resource_data.lists import plain_pause_reason
from console.safety.schedule import Schedule, ScheduleError, schedule_for

Row = dict[str, Any]
"""One database row as read (column name -> value)."""


def course_phase(course: Row | None, number: int | None, guidance: Guidance) -> str:
    """The course's schedule, or "taper" when session ``number`` falls in a taper phase of the
    course's own plan (resources/schedules.json at the course's planned sessions: a 20-session
    acute course tapers from session 15, a 36-session one from 31). Only when the plan cannot be
    read does the clinic's ``taper_from_session`` decide (issue 14, item 10)."""
    schedule = str((course or {}).get("schedule") or "acute").lower()
    if number is None:
        return schedule
    planned = (course or {}).get("planned_sessions")
    try:
        if not isinstance(planned, int) or planned < 1:
            raise ScheduleError("no planned sessions")
        phase = _plan_phase(schedule_for(schedule), planned, number)
    except ScheduleError:
        if schedule == "acute":
            taper_from = guidance.section("phases", "taper_from_session")
            if isinstance(taper_from, int) and number >= taper_from:
                return "taper"
        return schedule
    return "taper" if phase is not None and phase.lower().startswith("taper") else schedule


def _plan_phase(plan: Schedule, planned: int, number: int) -> str | None:
    """The name of the phase session ``number`` (1-based) belongs to in a course of ``planned``."""
    bound = 0
    for phase, n in plan.plan(planned):
        bound += n
        if number <= bound:
            return phase.name
    return None


def session_outcome(session: Row) -> tuple[str, str]:
    """(outcome key, words): the therapist needs "was it given?" before any number."""
    status = session["status"]
    delivered = session["pulses_delivered"] or 0
    planned = session["pulses_planned"]
    reason = (session["end_reason"] or "").strip()
    because = f": {reason}" if reason else ""
    if status == "recording":
        return "in_progress", "In progress when this note was made"
    if not session.get("pulses_observed", 1):  # the device cannot say how many: never "not given"
        if status == "completed":
            return "completed", "Completed (the pulses are not observed by this device's connection)"
        if status == "interrupted":
            return "partial", "The recording ended unexpectedly (pulses not observed)"
        return "partial", f"Stopped{because} (pulses not observed)"
    if status == "completed" and (planned is None or delivered >= planned):
        return "completed", "Completed"
    if delivered == 0:
        return "not_given", f"Not given{because}"
    if status == "interrupted":
        return "partial", "Partly given: the recording ended unexpectedly"
    if status == "completed":
        return "partial", f"Ended short of the plan{because}"
    return "partial", f"Stopped early{because}"


def interruption_lines(events: list[Row], guidance: Guidance) -> list[str]:
    """Pauses, device stops and lost connections, one line each, in the clinic's words."""
    lines: list[str] = []
    for event in events:
        kind = event["kind"]
        at = clock_words(local_time(event["at"]))
        detail = detail_of(event["detail"])
        if kind == "pause":
            said = detail_text(detail, "reason", "text") or later_reason(events, "pause", event["at"])
            why = guidance.plain(plain_pause_reason(said or (event["code"] or "")) or "")
            at_device = isinstance(detail, dict) and detail.get("source") == "device"
            lines.append(f"{at} paused" + (f": {why}" if why else " at the device" if at_device else ""))
        elif kind == "fault":
            code = event["code"] or detail_text(detail, "code")
            words = guidance.word("faults", code) or guidance.plain(detail_text(detail, "text")) or code
            lines.append(f"{at} device stopped: {words or 'a device fault'}")
        elif kind == "device_lost":
            lines.append(f"{at} connection to the device lost")
    return lines


def checklist_changes(events: list[Row], guidance: Guidance, questions: Mapping[str, str]) -> list[Change]:
    """The checklist answers the clinic shows as "changes since last time" (the last checklist wins)."""
    phrases = guidance.section("changes_since_last_time")
    checklists = [detail_of(e["detail"]) for e in events if e["kind"] == "checklist"]
    if not isinstance(phrases, dict) or not checklists:
        return []
    answers = _checklist_answers(checklists[-1])
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


def side_effects_section(events: list[Row], guidance: Guidance, labels: Mapping[str, str]
                         ) -> list[SideEffect]:
    """Each side effect as recorded, under the clinic's label for its kind."""
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


def trajectory_section(rows: list[Row], header: Header, rules: tuple[float, int]) -> Trajectory:
    """The PHQ-9 series against the clinic's response drop (%) and remission ceiling (``rules``)."""
    points: list[PhqPoint] = []
    first = local_time(rows[0]["taken_at"]) if rows else None
    for r in rows:
        taken = local_time(r["taken_at"])
        day = (taken.date() - first.date()).days if taken and first else 0
        points.append(PhqPoint(short_day(taken), day, int(r["total"])))
    drop_percent, remission_at_most = rules
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
        response_drop_percent=drop_percent,
    )


def _item9_of(row: Row) -> int | None:
    """Item 9 (items[8]) of one PHQ-9 row, None when it was not recorded."""
    try:
        items = json.loads(row["items"]) if row["items"] else None
    except ValueError:
        items = None
    if isinstance(items, list) and len(items) >= 9 and isinstance(items[8], int):
        return int(items[8])
    return None


def item9_today(rows: list[Row], session: Row) -> tuple[int | None, str | None, int | None]:
    """Today's PHQ-9 item 9 (items[8]), when it was taken and the outcome id; Nones when not taken today."""
    started = local_time(session["started_at"])
    for r in reversed(rows):
        taken = local_time(r["taken_at"])
        if not (taken and started and taken.date() == started.date()):
            continue
        return _item9_of(r), clock_words(taken), r["id"]
    return None, None, None


def latest_item9(rows: list[Row]) -> Item9Answer | None:
    """The latest recorded PHQ-9 item 9 answer of ``rows`` (already cut at the session's day),
    whatever its age: a "nearly every day" of last week still stands until it is asked again."""
    for r in reversed(rows):
        answer = _item9_of(r)
        if answer is not None:
            return Item9Answer(answer, day_words(local_time(r["taken_at"])), int(r["id"]))
    return None


def _item9_answer_words(answer: int, guidance: Guidance) -> str:
    answers = guidance.section("safety", "item9_answers") or []
    return answers[answer] if isinstance(answers, list) and 0 <= answer < len(answers) else str(answer)


def safety_section(events: list[Row], side_effects: list[SideEffect], item9: int | None,
                   item9_at: str | None, told: list[str], guidance: Guidance, *,
                   latest: Item9Answer | None = None) -> Safety:
    """Safety first (I-PASS), and never a false "stable" (issue 14, item 3).

    ``item9``/``item9_at``: today's PHQ-9 item 9, if taken today; ``latest``: the latest item 9
    answer on record (today's, when taken today), printed with its date whatever its age; ``told``:
    who was told of that answer. An adverse event, or a latest item 9 above 0 that nobody is
    recorded as told of, is "escalated" (not yet reviewed by a clinician); a latest item 9 above 0
    that someone was told of, or a side effect rated high, is "watch". Otherwise the level says
    only that nothing of concern was *recorded* today, and the lines say what was not asked.
    """
    if latest is None and item9 is not None:  # callers that give today's answer only
        latest = Item9Answer(item9, "today", None)
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
    if item9 is not None:
        item9_words = (f"PHQ-9 item 9 ({question}) today at {item9_at}: {item9} – "
                       f"{_item9_answer_words(item9, guidance)}.")
    else:
        taken = (f"PHQ-9 taken today at {item9_at}; item 9 not recorded." if item9_at
                 else "No PHQ-9 taken today.")
        if latest is not None:
            item9_words = (f"{taken} Latest PHQ-9 item 9 ({question}), {latest.day}: {latest.answer} – "
                           f"{_item9_answer_words(latest.answer, guidance)}.")
        else:
            item9_words = f"{taken} No PHQ-9 item 9 answer ({question}) is on record."
    unreviewed = bool(latest and latest.answer > 0 and not told)
    if unreviewed and latest is not None:
        other.append(f"Item 9 answered above 0 ({latest.day}): nobody is recorded as told, and it is "
                     "not yet reviewed by a clinician.")
    limit = guidance.section("safety", "watch_side_effect_rating")
    if isinstance(limit, int | float):
        strong = [s for s in side_effects if s.rating is not None and s.rating >= limit]
        if strong:
            other.append(
                "Side effect rated " + ", ".join(f"{s.label.lower()} {s.rating}/10" for s in strong) + "."
            )
    raised = bool(latest and latest.answer > 0)
    level = "escalated" if adverse or unreviewed else ("watch" if (other or raised) else "none_recorded")
    if level != "none_recorded" and not told:
        told.append("Not recorded in the console.")
    words = guidance.section("safety", "levels", level)
    return Safety(
        level=level,
        level_words=str(words or LEVEL_WORDS[level]),
        adverse_events=adverse,
        item9=item9,
        item9_words=item9_words,
        other_reasons=other,
        told=told,
        item9_latest=latest.answer if latest else None,
        today_words=_recorded_today(adverse, side_effects, item9, item9_at),
    )


LEVEL_WORDS = {"none_recorded": "No concern recorded today", "watch": "Watch", "escalated": "Escalated"}
"""The level's words when the clinic's guidance gives none (never "stable": the note reports what
was recorded, it cannot say a patient is safe)."""


def _recorded_today(adverse: list[str], side_effects: list[SideEffect], item9: int | None,
                    item9_at: str | None) -> str:
    """What today's record holds and what it does not, so "no concern recorded" is read as that."""
    events = (f"{len(adverse)} adverse event{'s' if len(adverse) != 1 else ''}" if adverse
              else "no adverse event")
    effects = (f"{len(side_effects)} side effect{'s' if len(side_effects) != 1 else ''}" if side_effects
               else "no side effect")
    if item9 is not None:
        phq = f"a PHQ-9 at {item9_at}"
        missing = ""
    elif item9_at:
        phq = f"a PHQ-9 at {item9_at} without item 9"
        missing = " Thoughts of self-harm were not asked about on today's PHQ-9."
    else:
        phq = "no PHQ-9"
        missing = " Thoughts of self-harm were not asked about on a PHQ-9 today."
    return f"Recorded today: {events}, {effects}, {phq}.{missing}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def observations_section(events: list[Row], guidance: Guidance) -> Observations:
    """What the technician noted; later entries complete or correct earlier ones."""
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


def for_therapist_section(header: Header, today: Today, side_effects: list[SideEffect],
                          guidance: Guidance) -> ForTherapist:
    """The clinic's suggestions for this phase and day, and whom to call when (its escalation list)."""
    focus = guidance.texts("focus", header.phase)
    if today.outcome in ("partial", "not_given"):
        focus += guidance.texts("focus", "not_completed")
    if side_effects:
        focus += guidance.texts("focus", "side_effects")
    contacts = guidance.section("escalation", "contacts")
    escalation = []
    listed = [c for c in contacts if isinstance(c, dict)] if isinstance(contacts, list) else []
    # Emergency services first, whatever the file's order (issue 14, item 8): a fit or self-harm in
    # danger is not the moment to read past the clinic's own numbers. Their phone is never the clinic's.
    for c in sorted(listed, key=lambda c: c.get("emergency") is not True):
        if not c.get("if") or not c.get("then"):
            continue
        phone = str(c.get("phone") or ("" if c.get("emergency") is True else header.clinic_phone))
        escalation.append(Escalation(str(c["if"]), str(c["then"]), phone))
    return ForTherapist(focus=focus, reminders=guidance.texts("reminders"), escalation=escalation,
                        warnings=sourced_warnings(guidance))


def sourced_warnings(guidance: Guidance) -> list[SourcedWarning]:
    """The clinic's warnings, each with its source; one without a source is not printed (the note
    prints no advice nobody can trace)."""
    items = guidance.section("warnings", "items")
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        text, source = str(item.get("text") or "").strip(), str(item.get("source") or "").strip()
        if text and source:
            out.append(SourcedWarning(text, source, item.get("verified") is True))
    return out


FIRST_SESSION_LABEL = "Before this first session"


def today_section(session: Row, course: Row | None, events: list[Row], guidance: Guidance,
                  questions: Mapping[str, str], *, first_session: bool = False) -> Today:
    """Today's session: outcome, treatment, dose, interruptions, checklist changes, notes.

    At a first session there is no "last time": the checklist's answers are shown as what was
    said before it."""
    outcome, outcome_words = session_outcome(session)
    stop_reason = later_reason(events, "stopped")
    if stop_reason and outcome == "partial" and not (session["end_reason"] or "").strip():
        outcome_words += f": {stop_reason}"  # asked after the stop, so not in the session row
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
        pulses_words=pulses_words(session),
        started=clock_words(started),
        duration=duration_words(session["duration_s"]),
        interruptions=interruption_lines(events, guidance),
        changes=checklist_changes(events, guidance, questions),
        notes=notes,
        changes_label=FIRST_SESSION_LABEL if first_session else "Since last time",
    )


def reply_section(guidance: Guidance) -> ReplyBox:
    """The room for the therapist's reply, within sane bounds whatever the guidance file says."""
    def number(key: str, default: float) -> float:
        value = guidance.section("reply", key)
        return float(value) if isinstance(value, int | float) and value > 0 else default

    return ReplyBox(
        title=str(guidance.section("reply", "title") or "Therapist's reply"),
        signature_line=str(guidance.section("reply", "signature_line") or ""),
        min_height_mm=number("min_height_mm", 24.0),
        max_height_mm=max(number("max_height_mm", 80.0), number("min_height_mm", 24.0)),
    )


def later_reason(events: list[Row], what: str, pressed_at: str | None = None) -> str:
    """The reason given after a Stop or Pause had already acted (a ``reason`` event; the chair
    asks it afterwards), for the press at ``pressed_at`` or the last one; "" when not given."""
    for event in reversed(events):
        detail = detail_of(event["detail"])
        if event["kind"] != "reason" or event["code"] != what or not isinstance(detail, dict):
            continue
        if pressed_at is not None and detail.get("pressed_at") not in (None, pressed_at):
            continue
        return str(detail.get("reason") or "") if detail.get("given") else ""
    return ""
