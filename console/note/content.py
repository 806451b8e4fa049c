"""What the therapist handoff note says: its sections as plain values, nothing else.

The note follows I-PASS (see DESIGN.md, "The handoff note"): header, safety
status first, today's session, trajectory, observations, the clinic's
suggestions, the reviewer. A :class:`NoteContent` holds only plain values, so
every way out (HTML/PDF, plain text, Markdown) says the same facts and the
templates hold no logic beyond layout. How each section is worded from the
record is :mod:`console.note.sections`; reading the record and putting one
note together is :mod:`console.note.assembly`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
class Item9Answer:
    """The latest PHQ-9 item 9 answer on record: the answer (0-3), its day in words, its outcome id."""

    answer: int
    day: str
    outcome_id: int | None


@dataclass(frozen=True)
class Safety:
    """Safety status first (I-PASS): the level and every line that set it, each said once.

    Never "stable" (issue 14, item 3): with nothing of concern the level is "none_recorded", and
    ``today_words`` says what today's record holds and what was not asked."""

    level: str  # none_recorded, watch, escalated
    level_words: str
    adverse_events: list[str]  # "09:31 syncope: Fainted briefly. Done: ..."
    item9: int | None  # today's PHQ-9 item 9 answer (0-3), None when not taken today
    item9_words: str  # today's answer, or the latest on record with its date
    other_reasons: list[str]  # what else set the level (item 9 nobody was told of, a strong side effect)
    told: list[str]  # who was told and when, as recorded
    item9_latest: int | None = None  # the latest item 9 answer on record, whatever its age
    today_words: str = ""  # "Recorded today: no adverse event, no side effect, no PHQ-9. ..."

    @property
    def item9_raised(self) -> bool:
        return bool(self.item9) or bool(self.item9_latest)


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
    pulses_words: str
    """"600 of 600 pulses", or, for a device that cannot report each pulse, that they were not
    observed (never "0 of 600": issue 16). The templates show this; the numbers stay for others."""
    started: str
    duration: str
    interruptions: list[str]
    changes: list[Change]
    notes: list[str]
    changes_label: str = "Since last time"
    """What the checklist changes are shown under: "Since last time", or, at the course's first
    session (there is no last time), "Before this first session"."""


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
    response_drop_percent: float = 50.0
    """The clinic's response rule (a drop of this % from baseline), printed with the line."""

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
class SourcedWarning:
    """Something to watch for, with where the clinic's wording comes from (issue 14, item 9)."""

    text: str
    source: str
    verified: bool  # False: printed "unverified" until the clinic's medical lead checked it

    @property
    def source_words(self) -> str:
        return f"source: {self.source}" + ("" if self.verified else "; unverified")


@dataclass(frozen=True)
class ForTherapist:
    focus: list[str]
    reminders: list[str]
    escalation: list[Escalation]
    warnings: list[SourcedWarning] = field(default_factory=list)


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
    print_refusal: str | None = None
    """Why this note may not be printed, saved or sent yet (the clinic phone or the supervising
    physician is not set), in words for the person; None: it may."""

    @property
    def tolerability_words(self) -> str:
        if not self.side_effects:
            return "No side effects recorded."
        return "; ".join(
            f"{s.label}{f' {s.rating}/10' if s.rating is not None else ''}" for s in self.side_effects
        )
