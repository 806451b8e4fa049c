"""A synthetic clinic-year database for the review benchmark (and, small, for tests).

20 chairs x 10 sessions a day x 250 working days = 50,000 sessions, each
with its pulse rows and thinned poses for a realistic mix of protocols
(10 Hz, DASH, iTBS, 1 Hz, accelerated iTBS), checklist and observation
events, side effects, the problems the review flags at realistic rates
(stopped, aborted, interrupted, drift off target, intensity off the
prescription, faults, the device lost, damaged frames, severe side effects,
stale motor thresholds), PHQ-9 scores, sign-offs of all but the last two
weeks and their audit rows.

Speed: the per-pulse and per-pose rows are made by SQLite itself (one
``INSERT ... SELECT`` over a per-protocol template with random() noise per
session), everything else with ``executemany``; the file is written without
a journal into a temporary name and renamed when complete, so a cached file
is never half made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.audit import row_hash
from console.clinic.protocols import preset
from db.database import new_uuid, open_database
from devices.sim.plan import RunPlan

log = logging.getLogger(__name__)

PROTOCOL_MIX = (("10hz", 0.35), ("dash", 0.15), ("itbs", 0.35), ("1hz", 0.10), ("accel-itbs", 0.05))
COURSE_SESSIONS = 36
START_DAY = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)  # a Monday
TARGET = {"x": -42.1, "y": 38.55, "z": 61.2, "qw": 0.9239, "qx": 0.0, "qy": 0.3827, "qz": 0.0}
CHECKLIST = ("metal", "earplugs", "sleep", "alcohol", "medication", "seizure_history", "pregnancy", "coil")
SIDE_EFFECTS = ("headache", "scalp discomfort", "facial twitch", "dizziness", "fatigue")
STOP_REASONS = ("patient asked to stop", "scalp discomfort", "coil overheating", "fire alarm drill")
GENERATOR_VERSION = 1
"""Bumped whenever the generator makes different data, so a cached file of an older version is not used."""
RESULTS = Path(__file__).resolve().parent / "results"
BENCH_PASSWORD_HASH = "$argon2id$v=19$m=1024,t=1,p=1$YmVuY2hzYWx0$bench-not-a-real-hash"


@dataclass
class Rates:
    """How often each problem happens, per session."""

    stopped: float = 0.03
    aborted: float = 0.004
    interrupted: float = 0.003
    drift: float = 0.05
    intensity: float = 0.01
    fault: float = 0.02
    lost: float = 0.01
    noise: float = 0.03
    severe_side_effect: float = 0.007
    side_effect: float = 0.25
    adverse: float = 0.0005
    unsigned_backlog: float = 0.02
    no_remeasure: float = 0.2


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


VARIANTS = 16
"""Per protocol, this many precomputed runs of coil noise; a session copies one
(SQLite math per row is slow)."""


def _templates(conn: sqlite3.Connection, rng: random.Random) -> dict[str, tuple[int, int]]:
    """Per protocol, the pulse times with coil noise and the 1 Hz pose times of a run (temp tables)."""
    conn.execute("CREATE TEMP TABLE tpl_pulse (proto TEXT, variant INTEGER, count INTEGER, t_ms INTEGER, "
                 "train INTEGER, dx REAL, dy REAL, dist REAL, angle REAL, f REAL, on_target INTEGER, "
                 "PRIMARY KEY (proto, variant, count)) WITHOUT ROWID")
    conn.execute("CREATE TEMP TABLE tpl_pose (proto TEXT, variant INTEGER, idx INTEGER, t_ms INTEGER, "
                 "dx REAL, dy REAL, dist REAL, angle REAL, quality REAL, "
                 "PRIMARY KEY (proto, variant, idx)) WITHOUT ROWID")
    sizes = {}

    def noise() -> tuple[float, float, float, float]:
        dist = 0.2 + 1.4 * rng.random() ** 2
        phi = rng.uniform(0, 2 * math.pi)
        return round(dist * math.cos(phi), 3), round(dist * math.sin(phi), 3), round(dist, 3), \
            round(0.3 + 1.5 * rng.random() + 0.4 * dist, 3)

    for key, _ in PROTOCOL_MIX:
        spec = preset(key)
        assert spec is not None, key
        plan = RunPlan(spec)
        times = plan.pulse_times_ms()
        ppt = spec.pulses_per_train
        n_poses = plan.length_ms // 1000 + 2
        for v in range(VARIANTS):
            rows = []
            for i, t in enumerate(times):
                dx, dy, dist, angle = noise()
                rows.append((key, v, i + 1, 1000 + t, i // ppt + 1, dx, dy, dist, angle,
                             round(2.3 * rng.uniform(0.99, 1.01), 4), int(dist <= 3.0 and angle <= 3.0)))
            conn.executemany("INSERT INTO tpl_pulse VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO tpl_pose VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [(key, v, i, i * 1000 + 500, *noise(), round(rng.uniform(0.93, 0.99), 3))
                              for i in range(n_poses)])
        sizes[key] = (len(times), plan.length_ms)
    return sizes


# One session's pulses, copied from a template run; the intensity, gaps and a drift window are the session's.
_PULSES = """
INSERT INTO pulses (session_id, count, device_t_ms, mso, didt, train, x, y, z, qw, qx, qy, qz,
                    distance_mm, angle_deg, on_target)
SELECT :sid, count, t_ms, :mso, :mso * f, train, :tx + dx, :ty + dy, :tz, :qw, :qx, :qy, :qz,
       dist, angle, on_target
FROM tpl_pulse WHERE proto = :proto AND variant = :variant AND count <= :delivered
     AND count NOT BETWEEN :gap_a AND :gap_b"""

_PULSES_DRIFT = """
INSERT INTO pulses (session_id, count, device_t_ms, mso, didt, train, x, y, z, qw, qx, qy, qz,
                    distance_mm, angle_deg, on_target)
SELECT :sid, count, t_ms, :mso, :mso * f, train, :tx + dx, :ty + dy + dr, :tz, :qw, :qx, :qy, :qz,
       round(sqrt(dx * dx + (dy + dr) * (dy + dr)), 3), angle + dr * 0.5,
       CASE WHEN sqrt(dx * dx + (dy + dr) * (dy + dr)) <= 3.0 AND angle + dr * 0.5 <= 3.0 THEN 1 ELSE 0 END
FROM (SELECT *, CASE WHEN count BETWEEN :drift_a AND :drift_b THEN :drift_mm ELSE 0 END AS dr
      FROM tpl_pulse WHERE proto = :proto AND variant = :variant AND count <= :delivered
           AND count NOT BETWEEN :gap_a AND :gap_b)"""

_POSES = """
INSERT INTO poses (session_id, idx, device_t_ms, x, y, z, qw, qx, qy, qz, quality, distance_mm, angle_deg)
SELECT :sid, idx, t_ms, :tx + dx, :ty + dy, :tz, :qw, :qx, :qy, :qz, quality, dist, angle
FROM tpl_pose WHERE proto = :proto AND variant = :variant AND t_ms <= :end_ms"""


class _Generator:
    def __init__(self, conn: sqlite3.Connection, rng: random.Random, rates: Rates, days: int) -> None:
        self.conn = conn
        self.rng = rng
        self.rates = rates
        self.days = days
        self.sizes = _templates(conn, rng)
        self.events: list[tuple[Any, ...]] = []
        self.signatures: list[tuple[Any, ...]] = []
        self.audit: list[tuple[str, str, str, str, str | None, str | None]] = []
        self.outcomes: list[tuple[Any, ...]] = []
        self.overrides: list[tuple[Any, ...]] = []
        self.adverse: list[tuple[Any, ...]] = []
        self.counts: dict[str, int] = {"sessions": 0, "pulses": 0, "poses": 0}

    # --- people, patients, courses ----------------------------------------------------------
    def people(self, chairs: int) -> None:
        now = _iso(START_DAY - timedelta(days=30))
        self.technicians = [f"Technician {i + 1:02d}" for i in range(max(2, chairs * 3 // 2))]
        self.supervisors = []
        for i, name in enumerate(("Dr. Avery Stone", "Dr. Blake Moreno", "Dr. Casey Lin")):
            uid = self.conn.execute(
                "INSERT INTO users (uuid, username, full_name, role, password_hash, created_at, "
                "password_changed_at) VALUES (?, ?, ?, 'supervisor', ?, ?, ?)",
                [new_uuid(), f"sup{i + 1}", name, BENCH_PASSWORD_HASH, now, now]).lastrowid
            self.supervisors.append((uid, f"sup{i + 1}", name))

    def new_course(self, slot: int, day: int, at: datetime) -> dict[str, Any]:
        rng = self.rng
        n = self.conn.execute("SELECT count(*) FROM patients").fetchone()[0] + 1
        name = f"Patient {n:05d}"
        pid = self.conn.execute(
            "INSERT INTO patients (uuid, clinic_id, name, initials, created_at) VALUES (?, ?, ?, ?, ?)",
            [new_uuid(), f"C{n:05d}", name, f"P{chr(65 + n % 26)}", _iso(at - timedelta(days=3))]).lastrowid
        proto = rng.choices([p for p, _ in PROTOCOL_MIX], [w for _, w in PROTOCOL_MIX])[0]
        spec = preset(proto)
        assert spec is not None
        percent_mt = 90.0 if proto == "accel-itbs" else (110.0 if proto == "1hz" else 120.0)
        cid = self.conn.execute(
            "INSERT INTO courses (uuid, patient_id, protocol, target_pose, percent_mt, planned_sessions, "
            "opened_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [new_uuid(), pid, proto, json.dumps(TARGET), percent_mt, COURSE_SESSIONS,
             _iso(at - timedelta(days=2))]).lastrowid
        mt = float(rng.randint(42, 68))
        self.conn.execute("INSERT INTO motor_thresholds (patient_id, mso, method, measured_at, measured_by) "
                          "VALUES (?, ?, 'EMG', ?, 'Dr. Avery Stone')",
                          [pid, mt, _iso(at - timedelta(days=1))])
        remeasure = None if rng.random() < self.rates.no_remeasure else rng.randint(18, 24)
        return {"patient": pid, "course": cid, "proto": proto, "spec": spec, "mt": mt,
                "percent_mt": percent_mt, "n": 0, "remeasure_at": remeasure,
                "baseline": rng.randint(14, 24), "response": rng.random()}

    # --- one session -----------------------------------------------------------------------------
    def session(self, course: dict[str, Any], at: datetime, tech: str, day: int) -> None:
        rng, rates, conn = self.rng, self.rates, self.conn
        course["n"] += 1
        n = course["n"]
        if course["remeasure_at"] == n:
            course["mt"] = max(30.0, min(80.0, course["mt"] + rng.choice((-2, -1, 0, 1, 2))))
            conn.execute("INSERT INTO motor_thresholds (patient_id, mso, method, measured_at, measured_by) "
                         "VALUES (?, ?, 'EMG', ?, ?)", [course["patient"], course["mt"],
                                                         _iso(at - timedelta(minutes=20)), tech])
        spec, proto = course["spec"], course["proto"]
        planned, length_ms = self.sizes[proto]
        prescribed = min(100, math.floor(course["mt"] * course["percent_mt"] / 100 + 0.5))
        roll = rng.random()
        status, reason = "completed", None
        delivered = planned
        if roll < rates.interrupted:
            status, reason = "interrupted", "the console stopped while recording"
        elif roll < rates.interrupted + rates.aborted:
            status, reason = "aborted", "patient unwell"
        elif roll < rates.interrupted + rates.aborted + rates.stopped:
            status, reason = "stopped", rng.choice(STOP_REASONS)
        if status != "completed":
            delivered = rng.randint(planned // 10, planned * 9 // 10)
        mso = prescribed
        intensity = rng.random() < rates.intensity
        if intensity:
            mso = prescribed - rng.choice((2, 3, 4, -2))
        drift_a = drift_b = gap_a = gap_b = -1
        drift_mm = 0.0
        if rng.random() < rates.drift:
            drift_a = rng.randint(1, max(1, delivered // 2))
            drift_b = drift_a + int(delivered * rng.uniform(0.08, 0.3))
            drift_mm = rng.uniform(3.5, 7.0)
        lost = rng.random() < rates.lost
        noise = rng.random() < rates.noise
        if lost:
            gap_a = rng.randint(1, max(1, delivered - 60))
            gap_b = gap_a + rng.randint(10, 50)
        elif noise:
            gap_a = rng.randint(1, max(1, delivered - 2))
            gap_b = gap_a
        fault = rng.random() < rates.fault
        started = at
        run_ms = length_ms if status == "completed" else int(length_ms * delivered / planned)
        duration = run_ms / 1000 + rng.uniform(20, 60)
        sid = conn.execute(
            "INSERT INTO sessions (uuid, patient_id, course_id, number_in_course, started_at, technician, "
            "device_url, device_vendor, device_model, device_serial, device_firmware, protocol, "
            "pulses_planned, mt_mso, percent_mt, prescribed_mso, target_pose) VALUES (?, ?, ?, ?, ?, ?, "
            "'tscp+serial:///dev/ttyUSB0', 'Bench', 'SIM-1', ?, '1.0.0', ?, ?, ?, ?, ?, ?)",
            [new_uuid(), course["patient"], course["course"], n, _iso(started), tech,
             f"SN{1000 + sum(map(ord, tech)) % 20:04d}", spec.name, planned, course["mt"],
             course["percent_mt"], prescribed, json.dumps(TARGET)]).lastrowid
        variant = rng.randrange(VARIANTS)
        conn.execute(_PULSES_DRIFT if drift_mm else _PULSES, {
            "sid": sid, "variant": variant, "proto": proto, "delivered": delivered, "gap_a": gap_a,
            "gap_b": gap_b,
            "drift_a": drift_a, "drift_b": drift_b, "drift_mm": drift_mm, "mso": mso,
            "tx": TARGET["x"], "ty": TARGET["y"], "tz": TARGET["z"], "qw": TARGET["qw"], "qx": TARGET["qx"],
            "qy": TARGET["qy"], "qz": TARGET["qz"]})
        conn.execute(_POSES, {"sid": sid, "variant": variant, "proto": proto, "end_ms": run_ms + 1000,
                              "tx": TARGET["x"],
                              "ty": TARGET["y"], "tz": TARGET["z"], "qw": TARGET["qw"], "qx": TARGET["qx"],
                              "qy": TARGET["qy"], "qz": TARGET["qz"]})
        recorded, on, max_d, mean_d = conn.execute(
            "SELECT count(*), sum(on_target), max(distance_mm), avg(distance_mm) FROM pulses "
            "WHERE session_id = ?",
            [sid]).fetchone()
        poses = conn.execute("SELECT count(*) FROM poses WHERE session_id = ?", [sid]).fetchone()[0]
        self.counts["pulses"] += recorded
        self.counts["poses"] += poses
        rejected = rng.randint(3, 60) if noise else (rng.randint(20, 140) if lost else 0)
        missing = rejected // 2 + (delivered - recorded if lost else 0)
        ended = started + timedelta(seconds=duration)
        self._events(sid, course, started, ended, status, reason, delivered, recorded, prescribed, mso,
                     intensity, fault, lost, noise, drift_mm > 0, gap_a, gap_b, tech, run_ms)
        conn.execute(
            "UPDATE sessions SET status = ?, end_reason = ?, ended_at = ?, pulses_delivered = ?, "
            "pulses_recorded = ?, trains_delivered = ?, pulses_on_target = ?, max_distance_mm = ?, "
            "mean_distance_mm = ?, frames_received = ?, frames_rejected = ?, frames_missing = ?, faults = ?, "
            "pauses = ?, duration_s = ?, heartbeat_at = ? WHERE id = ?",
            [status, reason, _iso(ended), delivered, recorded, max(1, delivered // spec.pulses_per_train),
             on or 0, max_d, mean_d, recorded + poses * 30 + 200, rejected, missing, int(fault),
             int(status == "stopped"), round(duration, 3), _iso(ended), sid])
        self.counts["sessions"] += 1
        self._outcome(course, sid, started)
        self._sign(sid, ended, day)

    def _events(self, sid: int, course: dict[str, Any], started: datetime, ended: datetime, status: str,
                reason: str | None, delivered: int, recorded: int, prescribed: int, mso: int, intensity: bool,
                fault: bool, lost: bool, noise: bool, drift: bool, gap_a: int, gap_b: int, tech: str,
                run_ms: int) -> None:
        rng = self.rng
        ev = self.events

        def add(offset_s: float, kind: str, code: str | None, detail: Any, by: str | None = None,
                device_t: int | None = None) -> None:
            ev.append((sid, _iso(started + timedelta(seconds=offset_s)), device_t, kind, code,
                       None if detail is None else json.dumps(detail, sort_keys=True), by))

        answers = [{"id": q, "question": q.replace("_", " "), "answer": "no" if q not in ("earplugs", "coil")
                    else "yes", "note": ""} for q in CHECKLIST]
        add(-60, "checklist", None, {"answers": answers}, tech)
        self.audit.append((_iso(started - timedelta(seconds=60)), tech, "add_checklist", "session", str(sid),
                           None))
        add(0, "armed", "console", {"commanded": True}, tech)
        spec = course["spec"]
        add(0.2, "protocol", None, spec.as_dict(), None, 500)
        add(0.3, "intensity", None, {"mso": mso, "prescribed_mso": prescribed}, None, 600)
        add(1, "run_started", "train", {"started_at": "console"}, None, 1000)
        run_s = run_ms / 1000
        if intensity:
            message = f"Intensity {mso} % MSO, prescribed {prescribed} % MSO"
            add(1.1, "alarm", "intensity", {"raised": True, "message": message})
            if rng.random() < 0.3:
                self.overrides.append((new_uuid(), course["patient"], course["course"], sid,
                                       json.dumps([{"code": "intensity", "message": "differs"}]),
                                       "patient could not tolerate the prescribed intensity", tech,
                                       _iso(started)))
        if drift:
            add(run_s * 0.4, "alarm", "off_target",
                {"raised": True, "message": "Coil off target: 5.2 mm, 3.1°"})
            add(run_s * 0.5, "alarm", "off_target",
                {"raised": False, "message": "Coil off target", "lasted_s": 20})
        if fault:
            t = run_s * rng.uniform(0.2, 0.8)
            add(t, "fault", "COIL_OVERTEMP", {"text": "coil temperature 40.2 C"}, None, int(t * 1000))
            add(t, "alarm", "device_fault", {"raised": True, "message": "Device fault COIL_OVERTEMP"})
            add(t + 40, "clear", "COIL_OVERTEMP", None, None, int(t * 1000) + 40000)
            add(t + 40, "alarm", "device_fault", {"raised": False, "message": "Device fault", "lasted_s": 40})
        if lost or noise:
            t = run_s * gap_a / max(delivered, 1)
            if lost:
                add(t, "device_lost", None, {"reason": "the serial port closed"}, None, int(t * 1000))
                add(t + 3, "device_restored", None, None, None, int(t * 1000) + 3000)
            add(t + 3, "pulses_missing", None, {"first": gap_a, "last": gap_b, "pulses": gap_b - gap_a + 1})
        if status == "stopped":
            add(run_s - 1, "pause", None, {"source": "console", "reason": reason}, tech)
            add(run_s, "end_requested", "stopped", {"reason": reason}, tech)
        if rng.random() < self.rates.side_effect:
            rating = rng.randint(1, 5)
            add(run_s + 30, "side_effect", rng.choice(SIDE_EFFECTS), {"rating": rating}, tech)
        if rng.random() < self.rates.severe_side_effect:
            add(run_s + 31, "side_effect", "headache", {"rating": rng.randint(7, 9),
                                                        "note": "asked for a cold pack"}, tech)
        if rng.random() < self.rates.adverse:
            self.adverse.append((new_uuid(), course["patient"], course["course"], sid, "syncope",
                                 _iso(started + timedelta(seconds=run_s * 0.5)),
                                 "patient felt faint, recovered lying down", "session stopped", tech,
                                 _iso(ended)))
            add(run_s * 0.5, "adverse_event", "syncope", {"description": "patient felt faint"}, tech)
        if rng.random() < 0.6:
            add(run_s + 40, "observation", None, {"mood": "brighter",
                                                  "patient_said": "I slept better this week",
                                                  "technician_saw": "chatted during the rest periods"}, tech)
        if status != "interrupted":
            add((ended - started).total_seconds(), "end", status,
                {"pulses_delivered": delivered, "pulses_recorded": recorded,
                 **({"reason": reason} if reason else {})}, tech if status != "completed" else None)

    def _outcome(self, course: dict[str, Any], sid: int, at: datetime) -> None:
        n = course["n"]
        if n != 1 and n % 5:
            return
        base = course["baseline"]
        drop = course["response"] * min(1.0, n / 30)
        total = max(0, min(27, round(base * (1 - drop) + self.rng.randint(-2, 2))))
        items = [total // 9 + (1 if i < total % 9 else 0) for i in range(9)]
        items[8] = 0
        items[0] += total - sum(items)
        self.outcomes.append((course["patient"], course["course"], sid, total, json.dumps(items),
                              _iso(at - timedelta(minutes=10))))

    def _sign(self, sid: int, ended: datetime, day: int) -> None:
        if day >= self.days - 10 or self.rng.random() < self.rates.unsigned_backlog:
            return
        uid, username, name = self.rng.choice(self.supervisors)
        meaning = "approved" if self.rng.random() < 0.3 else "reviewed"
        at = _iso(ended + timedelta(days=self.rng.uniform(0.2, 6)))
        digest = hashlib.sha256(f"bench-{sid}".encode()).hexdigest()
        self.signatures.append((sid, uid, username, name, meaning, at, digest))
        self.audit.append((at, username, "sign_session", "session", str(sid),
                           json.dumps({"meaning": meaning, "record_hash": digest})))

    def flush(self) -> None:
        c = self.conn
        c.executemany("INSERT INTO session_events (session_id, at, device_t_ms, kind, code, detail, by_user) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)", self.events)
        c.executemany("INSERT INTO signatures (session_id, user_id, signer_username, signer_name, "
                      "signer_role, meaning, signed_at, record_hash) "
                      "VALUES (?, ?, ?, ?, 'supervisor', ?, ?, ?)", self.signatures)
        c.executemany("INSERT INTO outcomes (patient_id, course_id, session_id, instrument, total, items, "
                      "taken_at, "
                      "entered_by) VALUES (?, ?, ?, 'PHQ-9', ?, ?, ?, 'bench')", self.outcomes)
        c.executemany("INSERT INTO overrides (uuid, kind, patient_id, course_id, session_id, violations, "
                      "reason, "
                      "by_user, by_role, at) VALUES (?, 'intensity', ?, ?, ?, ?, ?, ?, 'technician', ?)",
                      self.overrides)
        c.executemany("INSERT INTO adverse_events (uuid, patient_id, course_id, session_id, kind, "
                      "occurred_at, description, actions_taken, by_user, recorded_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      self.adverse)
        self.events, self.signatures, self.outcomes, self.overrides, self.adverse = [], [], [], [], []

    def write_audit(self) -> None:
        """The audit rows in time order, hash-chained exactly as console.audit writes them."""
        rows = sorted(self.audit)
        prev = None
        out = []
        for i, (at, actor, action, entity, entity_id, new) in enumerate(rows, 1):
            digest = row_hash(i, at, actor, action, entity, entity_id, None, new, prev)
            out.append((i, at, actor, action, entity, entity_id, None, new, prev, digest))
            prev = digest
        self.conn.executemany("INSERT INTO audit_log (id, at, actor, action, entity, entity_id, old_values, "
                              "new_values, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", out)


def generate(path: Path | str, *, chairs: int = 20, per_day: int = 10, days: int = 250, seed: int = 1,
             rates: Rates | None = None) -> dict[str, Any]:
    """Write the clinic-year database to ``path`` (replacing it); returns what was made and how long
    it took."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    for p in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    open_database(partial).close()  # the program's schema, every migration
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    # The per-row "only while recording" triggers cost a lookup per pulse; the rows made
    # here belong to sessions being made, so they are set aside and put back as they were.
    guards = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                          "AND name IN ('pulses_only_while_recording', 'poses_only_while_recording')"
                          ).fetchall()
    rng = random.Random(seed)
    conn.execute("BEGIN")
    for name, _ in guards:
        conn.execute(f"DROP TRIGGER {name}")
    gen = _Generator(conn, rng, rates or Rates(), days)
    gen.people(chairs)
    slots: dict[tuple[int, int], dict[str, Any]] = {}
    tech_of_chair = {c: gen.technicians[c % len(gen.technicians)] for c in range(chairs)}
    day_index = 0
    calendar = START_DAY
    while day_index < days:
        if calendar.weekday() < 5:
            for chair in range(chairs):
                tech = tech_of_chair[chair] if rng.random() < 0.8 else rng.choice(gen.technicians)
                for slot in range(per_day):
                    at = calendar + timedelta(minutes=50 * slot + rng.randint(0, 10))
                    course = slots.get((chair, slot))
                    if course is None or course["n"] >= COURSE_SESSIONS:
                        course = gen.new_course(slot, day_index, at)
                        # Courses already under way on the first day: spread where they stand.
                        if not slots.get((chair, slot)) and day_index == 0:
                            course["n"] = (chair * per_day + slot) * 7 % COURSE_SESSIONS
                        slots[(chair, slot)] = course
                    gen.session(course, at, tech, day_index)
            gen.flush()
            day_index += 1
            if day_index % 25 == 0:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                log.info("clinic year: day %d of %d, %d sessions", day_index, days, gen.counts["sessions"])
        calendar += timedelta(days=1)
    gen.write_audit()
    for _, sql in guards:
        conn.execute(sql)
    conn.execute("INSERT INTO settings (key, value, changed_at, changed_by) VALUES "
                 "('clinic_name', '\"Bench Clinic\"', ?, 'bench')", [_iso(START_DAY)])
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    partial.rename(path)
    return {**gen.counts, "seconds": round(time.perf_counter() - t0, 1),
            "bytes": path.stat().st_size, "chairs": chairs, "per_day": per_day, "days": days}


def cached(chairs: int = 20, per_day: int = 10, days: int = 250,
           seed: int = 1) -> tuple[Path, dict[str, Any]]:
    """The clinic-year file under bench/results/, generated on first use; (path, how it was made)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"clinic-year-v{GENERATOR_VERSION}-{chairs}x{per_day}x{days}-s{seed}.db"
    info_path = path.with_suffix(".json")
    if path.exists() and info_path.exists():
        return path, {**json.loads(info_path.read_text()), "cached": True}
    info = generate(path, chairs=chairs, per_day=per_day, days=days, seed=seed)
    info_path.write_text(json.dumps(info))
    return path, {**info, "cached": False}
