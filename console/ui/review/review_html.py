"""A session's review record as HTML sections, for the detail screen and the printed report alike.

One source of wording, so the screen and the paper say the same: summary,
flags with reasons, signatures (name, time, meaning, and whether the record
is unchanged since), the technician's entries, the event log, addenda with
their signatures and the audit history. Everything a person typed is escaped.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from console.review.detail import SessionDetail
from console.review.event_words import event_words, technical_words
from console.review.flags import NOT_OBSERVED
from console.review.queue import local_words
from console.review.signoff import Signature
from console.ui.widgets.formatting import DASH, clock


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return DASH
    return f"{value:.{digits}f}{unit}"


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><td class='k'>{esc(k)}</td><td>{v}</td></tr>" for k, v in pairs)


def signature_words(sig: Signature) -> str:
    """'Approved by Dr. Sue Super, 2026-03-01 14:30' — name, time and meaning, as everywhere."""
    return f"{sig.meaning.capitalize()} by {sig.signer_name}, {local_words(sig.signed_at)}"


def signatures_html(d: SessionDetail) -> str:
    if not d.signatures:
        return "<p class='unsigned'><b>Not signed.</b> This session has not been reviewed yet.</p>"
    lines = []
    for sig in d.signatures:
        comment = f" — “{esc(sig.comment)}”" if sig.comment else ""
        lines.append(f"<li><b>{esc(signature_words(sig))}</b> ({esc(sig.signer_role or 'supervisor')})"
                     f"{comment}</li>")
    if d.record_unchanged is True:
        state = "<p class='ok'>Locked. The record is unchanged since it was signed (SHA-256 checked).</p>"
    elif d.record_unchanged is False:
        state = ("<p class='bad'><b>The record differs from what was signed.</b> "
                 "Report this to the clinic's administrator.</p>")
    else:
        state = "<p>Locked: later remarks are addenda.</p>"
    return f"<ul class='sig'>{''.join(lines)}</ul>{state}"


def flags_html(d: SessionDetail) -> str:
    """The flags with their reasons; a session whose coil was not tracked says so in the same place,
    so "no problems" never stands for "not watched"."""
    tracking = f"<p class='unsigned'><b>{esc(d.tracking_words)}</b></p>" if d.tracking_words else ""
    if not d.flags:
        return tracking + "<p class='ok'>No problems flagged.</p>"
    return tracking + "<ul class='flags'>" + "".join(
        f"<li><b>{esc(f.label)}</b>: {esc(f.reason)}</li>" for f in d.flags) + "</ul>"


def summary_html(d: SessionDetail) -> str:
    s, p = d.session, d.patient
    recorded = s["pulses_recorded"] or 0
    share = (f"{100 * s['pulses_on_target'] / recorded:.1f} % ({s['pulses_on_target']} of {recorded})"
             if s["pulses_on_target"] is not None and recorded else DASH)
    if not d.coil_tracked:
        share = "not known: the coil position was not tracked"
    planned = s["pulses_planned"]
    rx = DASH
    if s["prescribed_mso"] is not None:
        rx = f"{s['prescribed_mso']} % MSO"
        if s["mt_mso"] and s["percent_mt"]:
            rx += f" ({s['percent_mt']:g} % of MT {s['mt_mso']:g} % MSO)"
    parts = (s["device_vendor"], s["device_model"], s["device_serial"])
    device = " ".join(str(x) for x in parts if x) or DASH
    if s.get("coil_type"):
        device += f", coil {s['coil_type']}"
    if s.get("pulses_observed", 1):
        pulses = (f"{s['pulses_delivered']} delivered" + (f" of {planned} planned" if planned else "")
                  + f", {recorded} recorded")
    else:  # never "0 delivered" for a device that cannot say (issue 16)
        pulses = esc(NOT_OBSERVED[0].upper() + NOT_OBSERVED[1:]) + (f"; {planned} planned" if planned else "")
    status = esc(s["status"]) + (f": {esc(s['end_reason'])}" if s["end_reason"] else "")
    left = [
        ("Patient", f"{esc(p['clinic_id'])} ({esc(p['initials'])})"),
        ("Session", esc(d.title.split(" · ", 1)[1] if " · " in d.title else DASH)),
        ("Started", esc(local_words(s["started_at"]))),
        ("Ended", esc(local_words(s["ended_at"]))),
        ("Duration", esc(clock(s["duration_s"]))),
        ("Status", status),
        ("Technician", esc(d.person(s["technician"]))),
        ("Device", esc(device)),
        ("CPT code", esc(d.cpt.text) if d.cpt is not None else "none (no course, or nothing delivered)"),
    ]
    right = [
        ("Pulses", pulses),
        ("Trains", esc(s["trains_delivered"])),
        ("Prescription", esc(rx)),
        ("On target", esc(share)),
        ("Distance", f"mean {_num(s['mean_distance_mm'], 1, ' mm')}, "
                     f"largest {_num(s['max_distance_mm'], 1, ' mm')}"
         f" (tolerance {s['tol_distance_mm']:g} mm, {s['tol_angle_deg']:g}°)"
         if d.coil_tracked else "not tracked"),
        ("Frames", f"{s['frames_received']} received, {s['frames_rejected']} rejected, "
                   f"{s['frames_missing']} missing"),
        ("Faults, pauses", f"{s['faults']}, {s['pauses']}"),
    ]
    return (f"<table class='summary'><tr><td valign='top'><table>{_rows(left)}</table></td>"
            f"<td valign='top'><table>{_rows(right)}</table></td></tr></table>")


def _when(e: dict[str, Any]) -> str:
    return esc(local_words(e["at"]))


def _clock(e: dict[str, Any]) -> str:
    """An event's local time to the second (events of one session are seconds apart)."""
    try:
        return esc(datetime.fromisoformat(e["at"]).astimezone().strftime("%H:%M:%S"))
    except (TypeError, ValueError):
        return esc(e["at"])


def _who(d: SessionDetail, e: dict[str, Any]) -> str:
    return f"<span class='muted'>({esc(d.person(e['by_user']))}, {_when(e)})</span>"


def _side_effect(d: SessionDetail, e: dict[str, Any]) -> str:
    detail = e["detail"] if isinstance(e["detail"], dict) else {}
    words = esc(str(e["code"] or "side effect").replace("_", " "))
    if detail.get("rating") is not None:
        words += f" — rated {esc(detail['rating'])}/10"
    if detail.get("note"):
        words += f" — {esc(detail['note'])}"
    return f"<li>{words} {_who(d, e)}</li>"


def entries_html(d: SessionDetail) -> str:
    out = []
    checklist = d.entries.get("checklist", [])
    if checklist:
        last = checklist[-1]
        answers = (last["detail"] or {}).get("answers", []) if isinstance(last["detail"], dict) else []
        rows = "".join(
            f"<tr><td>{esc(a.get('question') or a.get('id'))}</td><td><b>{esc(a.get('answer'))}</b></td>"
            f"<td>{esc(a.get('note'))}</td></tr>" for a in answers)
        who = esc(d.person(last["by_user"]))
        out.append(f"<h3>Checklist</h3><p class='muted'>by {who}, {_when(last)}</p>"
                   f"<table class='grid'>{rows}</table>")
    else:
        out.append("<h3>Checklist</h3><p class='muted'>No checklist recorded.</p>")
    effects = d.entries.get("side_effect", [])
    out.append("<h3>Side effects</h3>" + ("<ul>" + "".join(_side_effect(d, e) for e in effects) + "</ul>"
                                          if effects else "<p class='muted'>None recorded.</p>"))
    adverse = d.entries.get("adverse_event", [])
    if adverse:
        out.append("<h3>Adverse events</h3><ul>" + "".join(
            f"<li><b>{esc(str(e['code'] or '').replace('_', ' '))}</b>: {esc(technical_words(e['detail']))} "
            f"{_who(d, e)}</li>" for e in adverse) + "</ul>")
    notes = d.entries.get("note", [])
    out.append("<h3>Notes</h3>" + ("<ul>" + "".join(
        f"<li>{esc((e['detail'] or {}).get('text') if isinstance(e['detail'], dict) else e['detail'])} "
        f"{_who(d, e)}</li>" for e in notes) + "</ul>"
        if notes else "<p class='muted'>No notes.</p>"))
    observations = d.entries.get("observation", [])
    if observations:
        items = []
        for e in observations:
            det = e["detail"] if isinstance(e["detail"], dict) else {}
            parts = []
            if det.get("mood"):
                parts.append(f"Mood: {esc(det['mood'])}")
            if det.get("patient_said"):
                parts.append(f"Patient said: “{esc(det['patient_said'])}”")
            if det.get("technician_saw"):
                parts.append(f"Technician saw: {esc(det['technician_saw'])}")
            if det.get("wants_to_work_on"):
                parts.append(f"Wants to work on: {esc(det['wants_to_work_on'])}")
            items.append(f"<li>{'<br>'.join(parts)} {_who(d, e)}</li>")
        out.append("<h3>Observations</h3><ul>" + "".join(items) + "</ul>")
    if d.overrides:
        out.append("<h3>Overrides</h3><ul>" + "".join(
            f"<li><b>{esc(o['kind'].replace('_', ' '))}</b> by {esc(d.person(o['by_user']))} "
            f"({esc(o['by_role'])}), "
            f"{esc(local_words(o['at']))}: {esc(o['reason'])}</li>" for o in d.overrides) + "</ul>")
    return "".join(out)


def events_html(d: SessionDetail, limit: int | None = None) -> str:
    """The event log in plain words; the technical words (device codes, the port's own error text)
    on a small second line, for whoever needs them."""
    events = d.events if limit is None else d.events[:limit]
    rows = []
    for e in events:
        words = event_words(e)
        technical = f"<br><span class='tech'>{esc(words.technical)}</span>" if words.technical else ""
        by = d.person(e["by_user"]) if e["by_user"] else ""
        rows.append(f"<tr><td>{_clock(e)}</td><td>{esc(words.what.capitalize())}</td>"
                    f"<td>{esc(words.text)}{technical}</td><td>{esc(by)}</td></tr>")
    left = len(d.events) - len(events)
    more = f"<p class='muted'>… and {left} more events.</p>" if left else ""
    return ("<table class='grid'><tr><th>Time</th><th>Event</th><th>What happened</th><th>By</th></tr>"
            f"{''.join(rows)}</table>{more}")


def addenda_html(d: SessionDetail) -> str:
    if not d.addenda:
        return "<p class='muted'>No addenda.</p>"
    items = []
    for a in d.addenda:
        sig = a.get("signature")
        signed = (f"<br><span class='sig'>Signed: {esc(signature_words(sig))}</span>" if sig else
                  "<br><span class='muted'>Written before sign-off (not separately signed)</span>")
        items.append(f"<li><b>{esc(d.person(a['by_user']))}</b>, {esc(local_words(a['at']))}:<br>"
                     f"{esc(a['text'])}{signed}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def audit_html(d: SessionDetail) -> str:
    if not d.audit:
        return "<p class='muted'>No changes by a person are recorded for this session.</p>"
    rows = "".join(
        f"<tr><td>{esc(local_words(r['at']))}</td><td>{esc(d.person(r['actor']))}</td>"
        f"<td>{esc(r['action'].replace('_', ' '))}</td>"
        f"<td>{esc(_audit_words(r['new']))}</td></tr>" for r in reversed(d.audit))
    return f"<table class='grid'><tr><th>Time</th><th>Who</th><th>What</th><th>Values</th></tr>{rows}</table>"


def _audit_words(values: Any) -> str:
    if not isinstance(values, dict):
        return "" if values is None else json.dumps(values)
    keep = {k: v for k, v in values.items()
            if k not in ("record_hash", "session_id", "at", "by_user", "signature_id", "addendum_id")}
    if isinstance(keep.get("detail"), dict):  # an entry's own fields, said as its fields
        keep = {**{k: v for k, v in keep.items() if k not in ("detail", "kind")}, **keep["detail"]}
    text = technical_words(keep)
    return text if len(text) < 300 else text[:297] + "…"


SCREEN_CSS = """
h3 { margin: 10px 0 4px 0; font-size: 15px; }
td.k { color: #9aa7b4; padding-right: 10px; }
td { padding: 2px 6px; }
table.grid th { text-align: left; color: #9aa7b4; padding: 2px 6px; }
.muted { color: #9aa7b4; }
.ok { color: #3aa776; }
.bad { color: #ff8a80; }
.unsigned { color: #f0c36a; }
.tech { color: #7d8894; font-size: small; }
"""

PAPER_CSS = """
body { color: #111; }
h2 { font-size: 13pt; margin: 12px 0 4px 0; }
h3 { font-size: 11pt; margin: 8px 0 2px 0; }
td.k { color: #555; padding-right: 8px; }
td, th { padding: 1px 5px; font-size: 9pt; }
table.grid th { text-align: left; color: #555; border-bottom: 1px solid #999; }
.muted { color: #666; }
.ok { color: #1d6b47; }
.bad { color: #a11d12; }
.unsigned { color: #8a5a00; }
.tech { color: #777; font-size: 7.5pt; }
"""
