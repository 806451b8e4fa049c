"""One session out of the database, as session-export.schema.json (JSON) or one CSV row per pulse.

The export is read straight from the stored rows, never from a live
recorder, so it says exactly what the record holds. A session is named by
its local number (what ``record`` printed) or its UUID. Extra keys beyond
the schema (the session's local id and UUID, thinned poses, addenda, the
session's CPT code under ``session.billing``) are
additions the schema allows; nothing the schema requires is left out.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from typing import IO, Any

import sqlite_utils

from console.clinic.protocols import preset
from console.geometry import POSE_FIELDS
from console.review.billing import session_cpt

log = logging.getLogger(__name__)

SCHEMA_ID = "tms-console/session-export/1"
CSV_COLUMNS = (
    "session", "count", "device_t_ms", "mso", "didt", "train",
    *POSE_FIELDS, "distance_mm", "angle_deg", "on_target",
)
SUMMARY_COLUMNS = (
    "pulses_planned", "pulses_delivered", "pulses_recorded", "trains_delivered", "pulses_on_target",
    "max_distance_mm", "mean_distance_mm", "frames_received", "frames_rejected", "frames_missing",
    "faults", "pauses", "duration_s",
)


class ExportError(Exception):
    """The session cannot be exported; the message says why, for a person."""


def find_session(db: sqlite_utils.Database, ref: int | str) -> dict[str, Any]:
    """The session row named by its local id or its UUID, or ExportError."""
    text = str(ref).strip()
    if text.isdigit():
        rows = list(db.query("SELECT * FROM sessions WHERE id = ?", [int(text)]))
    else:
        rows = list(db.query("SELECT * FROM sessions WHERE uuid = ?", [text]))
    if not rows:
        raise ExportError(f"There is no session {text!r} in this database.")
    return rows[0]


def _pose(row: dict[str, Any]) -> dict[str, float] | None:
    if row.get("x") is None:
        return None
    return {k: row[k] for k in POSE_FIELDS}


def _json_or_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # an odd value is exported as stored, not dropped


def _protocol(db: sqlite_utils.Database, session: dict[str, Any]) -> dict[str, Any] | None:
    """The protocol the device reported (its last PROTO), else the preset of that name."""
    row = db.execute(
        "SELECT detail FROM session_events WHERE session_id = ? AND kind = 'protocol' "
        "ORDER BY id DESC LIMIT 1", [session["id"]],
    ).fetchone()
    if row is not None and row[0]:
        data = json.loads(row[0])
        return {k: data[k] for k in ("name", "freq_hz", "pulses_per_train", "trains", "iti_s", "burst")}
    spec = preset(session["protocol"])
    return spec.as_dict() if spec is not None else None


def pulse_rows(db: sqlite_utils.Database, session_id: int) -> Iterator[dict[str, Any]]:
    return db.query("SELECT * FROM pulses WHERE session_id = ? ORDER BY count", [session_id])


def session_export(db: sqlite_utils.Database, ref: int | str) -> dict[str, Any]:
    """The whole session as a JSON-ready dict (session-export.schema.json)."""
    s = find_session(db, ref)
    sid = s["id"]
    patient = db.execute(
        "SELECT clinic_id, initials FROM patients WHERE id = ?", [s["patient_id"]]
    ).fetchone()
    course_uuid = method = None
    if s["course_id"] is not None:
        found = db.execute("SELECT uuid, targeting_method FROM courses WHERE id = ?",
                           [s["course_id"]]).fetchone()
        course_uuid, method = found if found else (None, None)
    target = _json_or_text(s["target_pose"])
    pulses = [
        {
            "count": p["count"], "device_t_ms": p["device_t_ms"], "mso": p["mso"], "didt": p["didt"],
            "train": p["train"], "pose": _pose(p), "distance_mm": p["distance_mm"],
            "angle_deg": p["angle_deg"],
            "on_target": None if p["on_target"] is None else bool(p["on_target"]),
            "pose_age_ms": p.get("pose_age_ms"),  # how old the pose was at the pulse (None: no pose)
        }
        for p in pulse_rows(db, sid)
    ]
    events = [
        {
            "at": e["at"], "device_t_ms": e["device_t_ms"], "kind": e["kind"], "code": e["code"],
            "detail": _json_or_text(e["detail"]), "by_user": e["by_user"],
        }
        for e in db.query("SELECT * FROM session_events WHERE session_id = ? ORDER BY id", [sid])
    ]
    poses = [
        {"device_t_ms": p["device_t_ms"], "pose": _pose(p), "quality": p["quality"],
         "distance_mm": p["distance_mm"], "angle_deg": p["angle_deg"]}
        for p in db.query("SELECT * FROM poses WHERE session_id = ? ORDER BY idx", [sid])
    ]
    addenda = [
        {"at": a["at"], "by_user": a["by_user"], "text": a["text"]}
        for a in db.query("SELECT * FROM addenda WHERE session_id = ? ORDER BY id", [sid])
    ]
    summary = {k: s[k] for k in SUMMARY_COLUMNS}
    # False: the device cannot report each pulse, and the pulse counts say nothing of what was given.
    summary["pulses_observed"] = bool(s.get("pulses_observed", 1))
    return {
        "schema": SCHEMA_ID,
        "session": {
            "id": s["uuid"],
            "local_id": sid,
            "patient": {"id": patient[0], "initials": patient[1]},
            "course_id": course_uuid,
            "number_in_course": s["number_in_course"],
            "status": s["status"],
            "end_reason": s["end_reason"],
            "started_at": s["started_at"],
            "ended_at": s["ended_at"],
            "technician": s["technician"],
            "protocol": _protocol(db, s),
            "prescription": {
                "mt_mso": s["mt_mso"], "percent_mt": s["percent_mt"], "mso": s["prescribed_mso"],
            },
            "target": target if isinstance(target, dict) else None,
            # Without a target pose (a scalp rule such as the 5.5 cm rule) the coil was not tracked:
            # on-target figures are absent, not "all fine".
            "coil_position_tracked": isinstance(target, dict),
            "targeting_method": method,
            "tolerance": {"distance_mm": s["tol_distance_mm"], "angle_deg": s["tol_angle_deg"]},
            # Worked out from the record when exported (resources/cpt_codes.json); None: no code.
            "billing": cpt.as_export() if (cpt := session_cpt(db, sid)) is not None else None,
        },
        "device": {
            "adapter": s["device_url"], "vendor": s["device_vendor"], "model": s["device_model"],
            "serial": s["device_serial"], "firmware": s["device_firmware"],
            "coil_type": s.get("coil_type"),  # as the device reported it (None: it names none)
        },
        "summary": summary,
        "pulses": pulses,
        "events": events,
        "poses": poses,
        "addenda": addenda,
    }


def write_json(db: sqlite_utils.Database, ref: int | str, out: IO[str]) -> None:
    json.dump(session_export(db, ref), out, indent=1, ensure_ascii=False)
    out.write("\n")


def write_csv(db: sqlite_utils.Database, ref: int | str, out: IO[str]) -> int:
    """One row per pulse, in count order; returns the number of pulse rows written."""
    s = find_session(db, ref)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for p in pulse_rows(db, s["id"]):
        writer.writerow([s["uuid"], *(("" if p[c] is None else p[c]) for c in CSV_COLUMNS[1:])])
        n += 1
    return n
