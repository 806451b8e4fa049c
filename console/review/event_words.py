"""A session event in plain words for the reviewer, with the technical part kept apart.

The record stores what the device and the console said (codes, flags, raw
arguments: "commanded: true", "iti_s: 26.0", a serial port's own error
text). A supervisor reads what happened ("Device armed from the console",
"75 trains of 40 pulses at 10 Hz, 26 s between trains"); the exact technical
words stay available as a secondary line for whoever needs them (a service
engineer), never in the main sentence. Plain functions on the decoded event
rows of console.review.detail, so the screen and the printed report agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.resource_data.lists import plain_pause_reason

_OUTCOMES = {
    "sent": "sent to the device",
    "acknowledged": "confirmed by the device",
    "refused": "refused by the device",
    "unsupported": "not possible with this device (nothing was sent)",
    "timed_out": "no answer from the device",
    "failed": "not delivered: the connection broke",
}
_COMMANDS = {
    "START": "start", "STOP": "stop", "PAUSE": "pause", "RESUME": "resume", "ARM": "arm",
    "LOAD": "load the protocol", "SET": "set the intensity",
}
_STATUS = {
    "completed": "completed", "stopped": "stopped before the end", "aborted": "abandoned",
    "interrupted": "interrupted (the program or computer stopped)",
}


@dataclass(frozen=True)
class EventWords:
    """What an event says: ``what`` (the event's name), ``text`` (plain) and ``technical`` (may be '')."""

    what: str
    text: str
    technical: str = ""


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:g}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        if any(isinstance(v, dict | list) for v in value):
            return f"{len(value)} recorded"  # a checklist's answers: the Record tab shows them in full
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return f"({technical_words(value)})"
    return str(value)


def technical_words(detail: Any) -> str:
    """A detail as 'key: value' pairs with readable keys and values (yes/no, not True/False)."""
    if detail is None:
        return ""
    if isinstance(detail, dict):
        return ", ".join(f"{str(k).replace('_', ' ')}: {_value(v)}" for k, v in detail.items()
                         if v not in (None, "", []))
    return _value(detail)


def protocol_words(d: dict[str, Any]) -> str:
    """'10 Hz rTMS left DLPFC: 75 trains of 40 pulses at 10 Hz, 26 s between trains'."""
    name = d.get("name") or "protocol"
    trains, per_train, freq = d.get("trains"), d.get("pulses_per_train"), d.get("freq_hz")
    burst, iti = d.get("burst"), d.get("iti_s")
    parts = []
    if trains and per_train:
        how = f"{_num(trains)} trains of {_num(per_train)} pulses"
        if isinstance(burst, int | float) and burst > 1:
            how += f" in bursts of {_num(burst)}" + (f", {_num(freq)} bursts a second" if freq else "")
        elif freq:
            how += f" at {_num(freq)} Hz"
        parts.append(how)
    if iti:
        parts.append(f"{_num(iti)} s between trains")
    return f"{name}: {', '.join(parts)}" if parts else str(name)


def _where(source: Any) -> str:
    return {"console": " from the console", "device": " at the device"}.get(str(source), "")


def event_words(event: dict[str, Any]) -> EventWords:
    """The event (a row with its detail decoded) in words."""
    kind, code = event.get("kind") or "", event.get("code")
    raw = event.get("detail")
    d: dict[str, Any] = raw if isinstance(raw, dict) else {}
    words = _WORDERS.get(kind)
    if words is not None:
        return words(code, d, raw)
    return EventWords(kind.replace("_", " "), technical_words(raw) or (str(code) if code else ""))


def _armed(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("armed", "Device made ready to stimulate" + _where(code))


def _run_started(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("run started", "Stimulation started" + _where(d.get("started_at")))


def _pause(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    reason = plain_pause_reason(d.get("reason") or (raw if isinstance(raw, str) else ""))
    return EventWords("paused", "Paused" + _where(d.get("source")) + (f": {reason}" if reason else ""))


def _resume(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("resumed", "Resumed" + _where(d.get("source")))


def _reason(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    what = {"pause": "the pause", "stopped": "the stop"}.get(str(code), "it")
    reason = d.get("reason") or "not given"
    return EventWords("reason given", f"Reason for {what}: {reason}")


def _end_requested(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    reason = d.get("reason")
    return EventWords("end asked", "Stop pressed" + (f": {reason}" if reason else ""))


def _end(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    status = _STATUS.get(str(code), str(code or "ended"))
    text = f"Session {status}"
    if d.get("pulses_delivered") is not None:
        text += f": {_num(d['pulses_delivered'])} pulses delivered"
        if d.get("pulses_recorded") is not None and d["pulses_recorded"] != d["pulses_delivered"]:
            text += f", {_num(d['pulses_recorded'])} recorded"
    if d.get("reason"):
        text += f" ({d['reason']})"
    return EventWords("ended", text)


def _fault(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    text = d.get("text") or (raw if isinstance(raw, str) else "")
    return EventWords("device fault", f"The device reported a fault{': ' + text if text else ''}",
                      f"device code {code}" if code else "")


def _clear(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("fault cleared", "The device's fault cleared", f"device code {code}" if code else "")


def _device_lost(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("device lost", "Connection to the device lost", str(d.get("reason") or ""))


def _device_restored(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("device back", "Connection to the device restored")


def _device_changed(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("device changed", "A different device answered after reconnecting",
                      technical_words(d))


def _device_restarted(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("device restarted", "The device restarted its pulse count; the pulses after it "
                      "are counted on from before", technical_words(d))


def _pulses_missing(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    n = d.get("pulses")
    first, last = d.get("first"), d.get("last")
    which = ("" if first is None else f" (pulse {first})" if first == last
             else f" (pulses {first} to {last})")
    many = f"{_num(n)} pulses" if n != 1 else "1 pulse"
    return EventWords("pulses not received", f"{many} not received from the device{which}")


def _pulse_repeated(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("pulse repeated", f"The device reported pulse {_value(d.get('count', '?'))} twice; "
                      "it is counted once")


def _alarm(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    message = str(d.get("message") or str(code or "alarm").replace("_", " "))
    headline, _, technical = message.partition(": ") if code == "device_lost" else (message, "", "")
    if d.get("raised"):
        return EventWords("alarm", f"Alarm: {headline}", technical)
    lasted = d.get("lasted_s")
    how_long = f" after {_num(round(lasted))} s" if isinstance(lasted, int | float) else ""
    return EventWords("alarm over", f"Alarm over{how_long}: {headline}", technical)


def _alarm_ack(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("alarm seen", f"Alarm seen by the technician ({str(code or '').replace('_', ' ')})")


def _intensity(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    text = f"Intensity {_num(d['mso'])} % MSO" if d.get("mso") is not None else "Intensity"
    if d.get("percent_mt") is not None:
        text += f" ({_num(round(float(d['percent_mt'])))} % of motor threshold)"
    if d.get("prescribed_mso") is not None:
        same = d.get("mso") == d.get("prescribed_mso")
        text += ", as prescribed" if same else f"; prescribed {_num(d['prescribed_mso'])} % MSO"
    return EventWords("intensity set", text)


def _protocol(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("protocol", "Device loaded " + protocol_words(d))


def _command(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    name = str(code or "")
    verb = _COMMANDS.get(name, name.lower() or "act")
    args = d.get("args") or []
    if name == "SET" and args:
        verb += f" to {_value(args[0])} % MSO"
    outcome = _OUTCOMES.get(str(d.get("outcome")), str(d.get("outcome") or ""))
    answer = d.get("message") or d.get("reason")
    technical = f"{name} {' '.join(_value(a) for a in args)}".strip()
    return EventWords("device command", f"Console asked the device to {verb}: {outcome}"
                      + (f" ({answer})" if answer else ""), technical)


def _note(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    return EventWords("note", str(d.get("text") or (raw if isinstance(raw, str) else "")))


def _side_effect(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    text = str(code or "side effect").replace("_", " ")
    if d.get("rating") is not None:
        text += f", rated {_value(d['rating'])} of 10"
    if d.get("note"):
        text += f": {d['note']}"
    return EventWords("side effect", text[:1].upper() + text[1:])


def _see_record(what: str) -> Any:
    def words(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
        return EventWords(what, "See the Record tab")
    return words


def _adverse(code: Any, d: dict[str, Any], raw: Any) -> EventWords:
    kind = str(code or "adverse event").replace("_", " ")
    return EventWords("adverse event", f"{kind[:1].upper()}{kind[1:]} (see the Record tab)")


_WORDERS = {
    "armed": _armed, "run_started": _run_started, "pause": _pause, "resume": _resume, "reason": _reason,
    "end_requested": _end_requested, "end": _end, "fault": _fault, "clear": _clear,
    "device_lost": _device_lost, "device_restored": _device_restored, "device_changed": _device_changed,
    "device_restarted": _device_restarted, "pulses_missing": _pulses_missing,
    "pulse_repeated": _pulse_repeated, "alarm": _alarm, "alarm_ack": _alarm_ack, "intensity": _intensity,
    "protocol": _protocol, "command": _command, "note": _note, "side_effect": _side_effect,
    "checklist": _see_record("checklist"), "observation": _see_record("observation"),
    "adverse_event": _adverse,
}
