"""The review flags: what in a session record a supervisor should look at first, and why.

A flag is computed from the record, never stored: the session row's summary
(pulses, on-target count, faults, frames), its events (intensity alarms, the
device lost, side effects, adverse events), recorded overrides and the
patient's motor thresholds. Two ways, kept in step (a test compares them on
every session of a database that has each flag):

- :func:`flag_ctes` and :func:`mask_sql` give each session a bit mask in SQL,
  so the queue filters and sorts a clinic-year of sessions inside SQLite:
  the rules that need events are sets built once per query from indexes,
  joined once, the rest read the session row's summary;
- :func:`flag_reasons` reads one session and says in words why each flag is
  raised ("2400 of 3000 planned pulses delivered").

The labels, weights and limits are the clinic's (``resources/review_flags.json``);
the motor threshold's age limit is the clinic setting ``mt_remeasure_days``.
The flags inform the reviewer; they judge nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from console.clinic.settings import definitions, get_setting
from console.errors import ClinicError
from console.resource_data import load as load_json
from db.schema import SIDE_EFFECT_RATING

log = logging.getLogger(__name__)

FLAGS_FILE = "review_flags.json"
CODES = ("adverse", "ended_early", "intensity", "short", "off_target", "fault", "device_lost", "frames",
         "mt_old", "not_observed")
"""Every flag, most serious first; a flag's bit in the mask is 1 << its index here."""
ENDED_EARLY = ("stopped", "aborted", "interrupted")
_ISO_MS = "%Y-%m-%dT%H:%M:%f+00:00"  # strftime giving the database's one time format (db.database.utc_now)


@dataclass(frozen=True)
class FlagRule:
    code: str
    label: str
    weight: int
    help: str

    @property
    def bit(self) -> int:
        return 1 << CODES.index(self.code)


@dataclass(frozen=True)
class FlagConfig:
    """The rules with the clinic's limits, read once per query."""

    rules: tuple[FlagRule, ...]
    on_target_min_percent: float
    side_effect_min: int
    mt_days: int

    def rule(self, code: str) -> FlagRule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise ClinicError(f"There is no review flag {code!r}; known: {', '.join(CODES)}.")

    def rules_in(self, mask: int) -> list[FlagRule]:
        return [r for r in self.rules if mask & r.bit]

    def score(self, mask: int) -> int:
        return sum(r.weight for r in self.rules_in(mask))


@dataclass(frozen=True)
class Flag:
    """One raised flag of one session, with the reason in words."""

    code: str
    label: str
    reason: str


def flag_config(db: sqlite_utils.Database | None) -> FlagConfig:
    """The rules as the clinic has them now (its file, its settings); with no database, the shipped
    settings (a list read where no chair's settings are at hand, e.g. a bench of the hub)."""
    data = load_json(FLAGS_FILE)
    specs = data.get("flags", {})
    rules = []
    for code in CODES:
        spec = specs.get(code, {})
        rules.append(FlagRule(code, str(spec.get("label", code)), int(spec.get("weight", 1)),
                              str(spec.get("help", ""))))
    try:
        mt_days = int(get_setting(db, "mt_remeasure_days") if db is not None
                      else definitions()["mt_remeasure_days"]["default"])
    except (ClinicError, KeyError):
        mt_days = 28
    return FlagConfig(tuple(rules), float(data.get("on_target_min_percent", 95)),
                      int(data.get("side_effect_rating_at_least", 7)), mt_days)


def mask_params(config: FlagConfig) -> dict[str, Any]:
    """The named parameters :func:`mask_sql` uses."""
    return {"ot_min": config.on_target_min_percent, "se_min": config.side_effect_min,
            "mt_shift": f"+{config.mt_days} days"}


NOT_OBSERVED = ("pulses not observed: this device does not report each pulse, so the record cannot say "
                "how many were given (never read it as none)")
"""The words for a session whose device could not report its pulses (issue 16: a Magstim fired
from its front panel or a trigger line), wherever the record is shown."""


def _bit(code: str) -> int:
    return 1 << CODES.index(code)


# Sessions whose motor threshold at the start was older than the limit, or who had none
# on record although the session belonged to a course. Each threshold opens a window
# [measured, next measured); sessions of the patient in that window started after
# measured + limit used a stale threshold. Index ranges on sessions(patient_id, started_at).
_MT_OLD = f"""
    SELECT s2.id FROM (
        SELECT patient_id, measured_at,
               lead(measured_at) OVER (PARTITION BY patient_id ORDER BY measured_at, id) AS next_at
        FROM motor_thresholds) w
    JOIN sessions s2 ON s2.patient_id = w.patient_id
        AND s2.started_at >= strftime('{_ISO_MS}', w.measured_at, :mt_shift)
        AND s2.started_at < coalesce(w.next_at, '9999-12-31')
    WHERE s2.course_id IS NOT NULL
    UNION ALL
    SELECT s3.id FROM (SELECT patient_id, min(measured_at) AS first_at FROM motor_thresholds
                       GROUP BY patient_id) f
    JOIN sessions s3 ON s3.patient_id = f.patient_id AND s3.started_at < f.first_at
    WHERE s3.course_id IS NOT NULL
    UNION ALL
    SELECT s4.id FROM patients p4 CROSS JOIN sessions s4 ON s4.patient_id = p4.id
    WHERE p4.id NOT IN (SELECT patient_id FROM motor_thresholds) AND s4.course_id IS NOT NULL"""


def flag_ctes() -> str:
    """Common table expressions for :func:`mask_sql`: ``flagged(session_id, bits)``, the flags that
    come from events, overrides and motor thresholds, for the few sessions that have any.

    Each source is one index range over the whole database, evaluated once per
    statement; sessions then join it once (bits of one session are OR-ed by
    summing the distinct powers of two).
    """
    b = _bit
    return f"""flag_sources(session_id, bit) AS (
        SELECT session_id, {b('adverse')} FROM session_events WHERE kind = 'adverse_event'
        UNION ALL SELECT session_id, {b('adverse')} FROM adverse_events WHERE session_id IS NOT NULL
        UNION ALL SELECT session_id, {b('adverse')} FROM session_events INDEXED BY idx_events_rating
            WHERE kind = 'side_effect' AND {SIDE_EFFECT_RATING} >= :se_min
        UNION ALL SELECT session_id, {b('intensity')} FROM session_events
            WHERE kind = 'alarm' AND code = 'intensity'
        UNION ALL SELECT session_id, {b('intensity')} FROM overrides
            WHERE kind = 'intensity' AND session_id IS NOT NULL
        UNION ALL SELECT session_id, {b('device_lost')} FROM session_events WHERE kind = 'device_lost'
        UNION ALL SELECT id, {b('mt_old')} FROM ({_MT_OLD})),
    flagged AS MATERIALIZED (
        SELECT session_id, sum(DISTINCT bit) AS bits FROM flag_sources GROUP BY session_id)"""


def mask_sql(alias: str = "s", flagged: str = "flagged") -> str:
    """An SQL expression of the flags of the session row ``alias`` as a bit mask.

    ``flagged`` is the alias of :func:`flag_ctes`'s ``flagged``, LEFT JOINed on
    the session id; the other flags come from the session row's own summary.
    """
    s = alias
    parts = {
        "ended_early": f"{s}.status IN ({', '.join(repr(x) for x in ENDED_EARLY)})",
        # A device that cannot report each pulse (pulses_observed = 0) is "not observed", never short.
        "short": f"""{s}.pulses_observed = 1 AND {s}.pulses_planned IS NOT NULL
            AND {s}.pulses_delivered < {s}.pulses_planned""",
        "not_observed": f"{s}.pulses_observed = 0",
        "off_target": f"""{s}.pulses_on_target IS NOT NULL AND {s}.pulses_recorded > 0
            AND {s}.pulses_on_target * 100.0 < :ot_min * {s}.pulses_recorded""",
        "fault": f"{s}.faults > 0",
        "frames": f"""{s}.frames_missing > 0 OR {s}.frames_rejected > 0
            OR {s}.pulses_recorded < {s}.pulses_delivered""",
    }
    summary = " | ".join(f"(CASE WHEN {sql} THEN {_bit(code)} ELSE 0 END)" for code, sql in parts.items())
    return f"(coalesce({flagged}.bits, 0) | {summary})"


def score_sql(config: FlagConfig, mask: str) -> str:
    """An SQL expression of the weight total of the mask expression ``mask`` (for ordering)."""
    return "(" + " + ".join(f"(CASE WHEN ({mask}) & {r.bit} THEN {r.weight} ELSE 0 END)"
                            for r in config.rules) + ")"


# --- one session, in words ----------------------------------------------------------------------

def _detail(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _events(db: sqlite_utils.Database, session_id: int, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    marks = ",".join("?" for _ in kinds)
    return list(db.query(f"SELECT * FROM session_events WHERE session_id = ? AND kind IN ({marks}) "
                         "ORDER BY id", [session_id, *kinds]))


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "–"


def _adverse(db: sqlite_utils.Database, s: dict[str, Any], cfg: FlagConfig,
             events: list[dict[str, Any]]) -> str | None:
    words = []
    kinds = [e["code"] or "adverse event" for e in events if e["kind"] == "adverse_event"]
    if not kinds:
        kinds = [r[0] for r in db.execute("SELECT kind FROM adverse_events WHERE session_id = ? ORDER BY id",
                                          [s["id"]])]
    if kinds:
        words.append("adverse event recorded: " + ", ".join(kinds))
    for e in events:
        d = _detail(e["detail"])
        if e["kind"] == "side_effect" and isinstance(d, dict):
            raw = d.get("rating")
            if raw is None:  # a side effect noted without a rating
                continue
            try:
                rating = int(raw)
            except (TypeError, ValueError):
                continue
            if rating >= cfg.side_effect_min:
                words.append(f"side effect {e['code'] or ''} rated {rating}/10".replace("  ", " "))
    return "; ".join(words) or None


def _intensity(db: sqlite_utils.Database, s: dict[str, Any], events: list[dict[str, Any]]) -> str | None:
    alarms = [_detail(e["detail"]) or {} for e in events if e["kind"] == "alarm" and e["code"] == "intensity"]
    raised = [a for a in alarms if a.get("raised")]
    overrides = db.execute("SELECT reason, by_user FROM overrides WHERE session_id = ? "
                           "AND kind = 'intensity' ORDER BY id", [s["id"]]).fetchall()
    if not alarms and not overrides:
        return None
    if raised:
        what = str(raised[0].get("message") or "intensity differed from the prescription")
        if len(raised) > 1:
            what += f" ({len(raised)} times)"
    else:
        what = f"prescribed {s['prescribed_mso']} % MSO, changed with an override"
    if overrides:
        reason, by = overrides[-1]
        return f"{what}; override by {by}: {reason}"
    return f"{what}; no override recorded"


def _mt(db: sqlite_utils.Database, s: dict[str, Any], cfg: FlagConfig) -> str | None:
    if s["course_id"] is None:
        return None
    row = db.execute("SELECT measured_at, mso FROM motor_thresholds WHERE patient_id = ? "
                     "AND measured_at <= ? ORDER BY measured_at DESC, id DESC LIMIT 1",
                     [s["patient_id"], s["started_at"]]).fetchone()
    if row is None:
        return "no motor threshold was on record before the session"
    stale_from = db.execute(f"SELECT strftime('{_ISO_MS}', ?, ?)",
                            [row[0], f"+{cfg.mt_days} days"]).fetchone()[0]
    if s["started_at"] < stale_from:
        return None
    age = (datetime.fromisoformat(s["started_at"]) - datetime.fromisoformat(row[0])).days
    return (f"motor threshold {row[1]:g} % MSO measured {row[0][:10]}, {age} days before the session "
            f"(re-measure after {cfg.mt_days} days)")


def flag_reasons(db: sqlite_utils.Database, session: dict[str, Any] | int,
                 config: FlagConfig | None = None) -> list[Flag]:
    """The raised flags of one session (a sessions row or its id), most serious first, with reasons."""
    cfg = config or flag_config(db)
    if isinstance(session, int):
        found = list(db.query("SELECT * FROM sessions WHERE id = ?", [session]))
        if not found:
            raise ClinicError(f"There is no session {session}.")
        s = found[0]
    else:
        s = session
    events = _events(db, s["id"], ("adverse_event", "side_effect", "alarm", "fault", "device_lost",
                                   "pulses_missing"))
    planned, delivered, recorded = s["pulses_planned"], s["pulses_delivered"] or 0, s["pulses_recorded"] or 0
    reasons: dict[str, str | None] = {"adverse": _adverse(db, s, cfg, events)}
    if s["status"] in ENDED_EARLY:
        reasons["ended_early"] = f"{s['status']}" + (f": {s['end_reason']}" if s["end_reason"] else "")
    reasons["intensity"] = _intensity(db, s, events)
    if not s.get("pulses_observed", 1):
        reasons["not_observed"] = NOT_OBSERVED
    elif planned is not None and delivered < planned:
        reasons["short"] = f"{delivered} of {planned} planned pulses delivered ({planned - delivered} short)"
    on = s["pulses_on_target"]
    if on is not None and recorded > 0 and on * 100.0 < cfg.on_target_min_percent * recorded:
        reasons["off_target"] = (f"{on} of {recorded} recorded pulses on target ({_pct(on, recorded)}; "
                                 f"minimum {cfg.on_target_min_percent:g} %), largest distance "
                                 f"{s['max_distance_mm'] or 0:.1f} mm")
    if s["faults"]:
        reasons["fault"] = f"{s['faults']} device fault(s)" + _fault_words(events)
    lost = [e for e in events if e["kind"] == "device_lost"]
    if lost:
        # The port's own error text is for a service engineer: it stays in the event log's details.
        reasons["device_lost"] = f"connection lost {len(lost)} time(s); the event log has the details"
    frames = []
    if recorded < delivered:
        frames.append(f"{delivered - recorded} pulse(s) delivered but not received")
    if s["frames_missing"]:
        frames.append(f"{s['frames_missing']} frame(s) missing")
    if s["frames_rejected"]:
        frames.append(f"{s['frames_rejected']} damaged frame(s) rejected")
    if frames:
        reasons["frames"] = "; ".join(frames)
    reasons["mt_old"] = _mt(db, s, cfg)
    return [Flag(r.code, r.label, str(reasons[r.code])) for r in cfg.rules if reasons.get(r.code)]


def _fault_words(events: list[dict[str, Any]]) -> str:
    """': coil temperature above 40 C (COIL_OVERTEMP)': the device's words first, its code after."""
    seen: dict[str, str] = {}
    for e in events:
        if e["kind"] == "fault" and e["code"]:
            detail = _detail(e["detail"])
            text = detail.get("text") if isinstance(detail, dict) else None
            seen.setdefault(e["code"], f"{text} ({e['code']})" if text else e["code"])
    return (": " + ", ".join(seen[c] for c in sorted(seen))) if seen else ""
