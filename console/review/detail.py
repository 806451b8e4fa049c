"""Everything the review shows of one session, read in one go: summary, flags, plot data, entries, history.

Plain values (numpy arrays for the plots), no widgets, so the detail screen,
the PDF report and the tests read the same facts. Time on the plots is
seconds of device time from the start of the run; events the console wrote
without a device time (a pause pressed at the chair) are placed through the
session's own wall-clock-to-device-time offset, never guessed from order.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import sqlite_utils

from console.audit import history
from console.errors import ClinicError
from console.geometry import PoseValue
from console.people.user import full_names
from console.review.billing import CptCode, session_cpt
from console.review.flags import Flag, flag_config, flag_reasons
from console.review.signoff import Signature, addendum_signatures, record_hash, signatures_for

log = logging.getLogger(__name__)

ENTRY_KINDS = ("checklist", "note", "side_effect", "observation", "adverse_event")
# Spans shaded on the timeline: (opening kind, opening code or None) -> closing kind, label.
_SPANS = {
    "pause": ("resume", "Paused"),
    "device_lost": ("device_restored", "Device lost"),
    "fault": ("clear", "Fault"),
}


@dataclass(frozen=True)
class Span:
    """A stretch of the run shaded on the timeline: a pause, a fault, the device lost."""

    kind: str
    start_s: float
    end_s: float | None
    """None: it never ended (the session ended first)."""
    label: str


@dataclass
class Timeline:
    """Plot data on one time axis (seconds of device time from the start of the run)."""

    pulse_t: np.ndarray
    pulse_distance: np.ndarray
    """NaN where the pulse had no pose."""
    pulse_mso: np.ndarray
    pulse_on_target: np.ndarray
    """1 on target, 0 off, -1 no pose."""
    pose_t: np.ndarray
    pose_distance: np.ndarray
    train_starts: np.ndarray
    spans: list[Span] = field(default_factory=list)
    marks: list[tuple[float, str]] = field(default_factory=list)
    """Single moments worth a line: alarms raised, notes, side effects."""
    end_s: float = 0.0


def empty_timeline() -> Timeline:
    """A timeline with nothing on it (no session shown)."""
    none = np.empty(0)
    return Timeline(none, none, none, none, none, none, none)


@dataclass
class PoseScatter:
    """Where the coil was at each pulse, in the target's plane (mm): x, y offsets and depth."""

    x: np.ndarray
    y: np.ndarray
    depth: np.ndarray
    on_target: np.ndarray
    tol_distance_mm: float
    without_pose: int = 0


@dataclass
class SessionDetail:
    session: dict[str, Any]
    patient: dict[str, Any]
    course: dict[str, Any] | None
    flags: list[Flag]
    timeline: Timeline
    scatter: PoseScatter | None
    entries: dict[str, list[dict[str, Any]]]
    """checklist, note, side_effect, observation, adverse_event -> their events, detail decoded."""
    events: list[dict[str, Any]]
    signatures: list[Signature]
    addenda: list[dict[str, Any]]
    """Each with its 'signature' (a Signature for an addendum to a signed session, else None)."""
    audit: list[dict[str, Any]]
    overrides: list[dict[str, Any]]
    record_unchanged: bool | None
    """Whether the record is still what the signatures signed (None when unsigned)."""
    people: dict[str, str] = field(default_factory=dict)
    """User name -> full name: the record stores user names, people read names."""
    cpt: CptCode | None = None
    """The session's CPT code, worked out from the record (console.review.billing); None: no code."""

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    def person(self, username: str | None) -> str:
        """The full name of the account ``username`` (the user name itself for one not on record)."""
        if not username:
            return "–"
        return self.people.get(username, username)

    @property
    def coil_tracked(self) -> bool:
        """Whether the session had a tracked target pose, so on-target figures mean something.

        A course targeted by a scalp rule (5.5 cm rule, Beam F3) has no target pose: the coil's
        position was not followed, and the record must say so rather than show "no problems".
        """
        return _target(self.session) is not None

    @property
    def tracking_words(self) -> str | None:
        """One plain sentence when the coil position was not tracked, else None."""
        if self.coil_tracked:
            return None
        method = (self.course or {}).get("targeting_method")
        how = f" (targeting: {method})" if method else ""
        return (f"The coil position was not tracked for this course{how}: whether the coil stayed "
                "on target is not known.")

    @property
    def title(self) -> str:
        s, p = self.session, self.patient
        number = ""
        if s["number_in_course"]:
            planned = self.course["planned_sessions"] if self.course else None
            number = f" · session {s['number_in_course']}" + (f" of {planned}" if planned else "")
        return f"{p['clinic_id']} ({p['initials']}){number} · {s['protocol'] or 'no protocol'}"


def _decode(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


class _Clock:
    """Device seconds from the run start for any event.

    An event without a device time (the console's own: a pause pressed, the
    device lost) is placed by wall-clock time between the nearest events that
    carry both times, interpolated, and after the last of them at real-time
    pace. A real device's clock runs with the wall clock, so this is exact to
    the host's scheduling; a simulator run faster than life is only bracketed.
    """

    def __init__(self, events: list[dict[str, Any]], t0_ms: int) -> None:
        self.t0 = t0_ms / 1000.0
        anchors = sorted((w, e["device_t_ms"] / 1000.0) for e in events
                         if e["device_t_ms"] is not None and (w := _epoch(e["at"])) is not None)
        self.walls = [w for w, _ in anchors]
        self.devices = [d for _, d in anchors]

    def seconds(self, event: dict[str, Any]) -> float | None:
        if event["device_t_ms"] is not None:
            return event["device_t_ms"] / 1000.0 - self.t0
        at = _epoch(event["at"])
        if at is None or not self.walls:
            return None
        i = bisect.bisect_right(self.walls, at)
        if i == 0:
            device = self.devices[0] - (self.walls[0] - at)
        elif i == len(self.walls):
            device = self.devices[-1] + (at - self.walls[-1])
        else:
            w0, w1, d0, d1 = self.walls[i - 1], self.walls[i], self.devices[i - 1], self.devices[i]
            device = d0 + (d1 - d0) * ((at - w0) / (w1 - w0) if w1 > w0 else 0.0)
        return device - self.t0


def _run_start_ms(events: list[dict[str, Any]], first_pulse_ms: int | None) -> int:
    for e in events:
        if e["kind"] == "run_started" and e["device_t_ms"] is not None:
            return int(e["device_t_ms"])
    return int(first_pulse_ms or 0)


def _timeline(db: sqlite_utils.Database, s: dict[str, Any], events: list[dict[str, Any]]) -> tuple[
        Timeline, np.ndarray]:
    sid = s["id"]
    pulses = np.array(
        db.execute("SELECT device_t_ms, distance_mm, mso, coalesce(train, 0), "
                   "coalesce(on_target, -1), x, y, z FROM pulses WHERE session_id = ? ORDER BY count",
                   [sid]).fetchall() or np.empty((0, 8)), dtype=float)
    if pulses.size == 0:
        pulses = np.empty((0, 8))
    t0 = _run_start_ms(events, int(pulses[0, 0]) if len(pulses) else None)
    clock = _Clock(events, t0)
    poses = np.array(db.execute("SELECT device_t_ms, distance_mm FROM poses WHERE session_id = ? "
                                "ORDER BY idx", [sid]).fetchall() or np.empty((0, 2)), dtype=float)
    pulse_t = (pulses[:, 0] - t0) / 1000.0
    trains = pulses[:, 3]
    starts = pulse_t[np.r_[True, trains[1:] != trains[:-1]]] if len(pulses) else np.empty(0)
    spans, marks = _spans_and_marks(events, clock)
    ends = [x for x in (pulse_t[-1] if len(pulse_t) else None,
                        (poses[-1, 0] - t0) / 1000.0 if len(poses) else None) if x is not None]
    ends += [sp.end_s if sp.end_s is not None else sp.start_s for sp in spans]
    timeline = Timeline(
        pulse_t=pulse_t, pulse_distance=pulses[:, 1], pulse_mso=pulses[:, 2], pulse_on_target=pulses[:, 4],
        pose_t=(poses[:, 0] - t0) / 1000.0, pose_distance=poses[:, 1], train_starts=starts,
        spans=spans, marks=marks, end_s=max(ends) if ends else 0.0,
    )
    return timeline, pulses


def _spans_and_marks(events: list[dict[str, Any]],
                     clock: _Clock) -> tuple[list[Span], list[tuple[float, str]]]:
    spans: list[Span] = []
    open_spans: dict[tuple[str, str | None], tuple[float, str]] = {}
    marks: list[tuple[float, str]] = []
    closing = {close: opening for opening, (close, _) in _SPANS.items()}
    for e in events:
        t = clock.seconds(e)
        if t is None:
            continue
        kind, code = e["kind"], e["code"]
        if kind in _SPANS:
            key = (kind, code if kind == "fault" else None)
            if key not in open_spans:
                label = _SPANS[kind][1] + (f" {code}" if kind == "fault" and code else "")
                open_spans[key] = (t, label)
        elif kind in closing:
            opening = closing[kind]
            key = (opening, code if opening == "fault" else None)
            if key in open_spans:
                start, label = open_spans.pop(key)
                spans.append(Span(opening, start, t, label))
        elif kind == "alarm":
            detail = _decode(e["detail"])
            if isinstance(detail, dict) and detail.get("raised"):
                marks.append((t, str(detail.get("message") or code)))
        elif kind in ("note", "side_effect", "adverse_event"):
            marks.append((t, kind.replace("_", " ") + (f": {code}" if code else "")))
    for (kind, _), (start, label) in open_spans.items():
        spans.append(Span(kind, start, None, label))
    spans.sort(key=lambda sp: sp.start_s)
    return spans, marks


def _target(s: dict[str, Any]) -> PoseValue | None:
    try:
        return PoseValue.from_json(s["target_pose"])
    except ValueError:
        return None


def _scatter(s: dict[str, Any], pulses: np.ndarray) -> PoseScatter | None:
    """Pulse positions in the target's frame: x, y in the coil plane, depth along its normal."""
    target = _target(s)
    if target is None:
        return None
    with_pose = ~np.isnan(pulses[:, 5]) if len(pulses) else np.zeros(0, dtype=bool)
    xyz = pulses[with_pose][:, 5:8] - np.array(target.position)
    q = np.array(target.quaternion, dtype=float)
    q = q / np.linalg.norm(q)
    w, v = q[0], -q[1:]  # the conjugate rotates head-frame offsets into the target's frame
    t = 2.0 * np.cross(v, xyz)
    local = xyz + w * t + np.cross(v, t)
    return PoseScatter(local[:, 0], local[:, 1], local[:, 2], pulses[with_pose][:, 4],
                       float(s["tol_distance_mm"]), int((~with_pose).sum()))


def _entries(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in ENTRY_KINDS}
    for e in events:
        if e["kind"] in out:
            out[e["kind"]].append({**e, "detail": _decode(e["detail"])})
    return out


def load_detail(db: sqlite_utils.Database, session_id: int, *, verify: bool = True) -> SessionDetail:
    """The session's whole review record; ClinicError when there is no such session.

    ``verify`` recomputes the record's hash to show whether it is still what
    was signed (it reads every pulse once more).
    """
    found = list(db.query("SELECT * FROM sessions WHERE id = ?", [session_id]))
    if not found:
        raise ClinicError(f"There is no session {session_id}.")
    s = found[0]
    patient = next(db.query("SELECT id, uuid, clinic_id, initials, name FROM patients WHERE id = ?",
                            [s["patient_id"]]))
    course = None
    if s["course_id"] is not None:
        course = next(db.query("SELECT * FROM courses WHERE id = ?", [s["course_id"]]), None)
    events = list(db.query("SELECT * FROM session_events WHERE session_id = ? ORDER BY id", [session_id]))
    timeline, pulses = _timeline(db, s, events)
    signatures = signatures_for(db, session_id)
    by_addendum = addendum_signatures(db, session_id)
    addenda = [{**a, "signature": by_addendum.get(a["id"])}
               for a in db.query("SELECT * FROM addenda WHERE session_id = ? ORDER BY id", [session_id])]
    unchanged = None
    if verify and signatures:
        digest = record_hash(db, session_id)
        unchanged = all(sig.record_hash == digest for sig in signatures)
    overrides = []
    with contextlib.suppress(Exception):  # a database without the clinical tables still reviews
        overrides = [{**o, "violations": _decode(o["violations"])}
                     for o in db.query("SELECT * FROM overrides WHERE session_id = ? ORDER BY id",
                                       [session_id])]
    decoded = [{**e, "detail": _decode(e["detail"])} for e in events]
    return SessionDetail(
        session=s, patient=patient, course=course, flags=flag_reasons(db, s, flag_config(db)),
        timeline=timeline, scatter=_scatter(s, pulses), entries=_entries(events), events=decoded,
        signatures=signatures, addenda=addenda, audit=history(db, "session", session_id),
        overrides=overrides, record_unchanged=unchanged, people=full_names(db),
        cpt=session_cpt(db, session_id),
    )
