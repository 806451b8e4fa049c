"""The clinic's stimulation safety limits, and the check of a protocol against them.

The limits are data (``resources/safety_limits.json``): a table of maximum
train duration by frequency and intensity (% MT), minimum inter-train
intervals, separate limits for intermittent and continuous theta burst, a
cap on the pulses a patient receives in one day, the clinic's maximum % MT
and maximum % MSO, each with its source cited in the file (or marked
unverified: set by the medical director). A device model or coil type may
have a table of its own (``equipment``); otherwise the default applies. The
program ships the clinic's values and checks against them; it has no limits
of its own.

The check runs at the intensity the device delivers, not only at the
prescription: the device's % MSO over the motor threshold is the effective
% MT, and a setting above the prescription needs a signed override
(:func:`check_delivered`), before the start and at every change during the
run (:func:`intensity_refusal`).

Reading the table never interpolates: between rows the next higher
frequency applies and between columns the next higher intensity (both give
the shorter, stricter limit), and a protocol beyond the table is outside the
limits rather than guessed at. A protocol outside the limits cannot start
without a physician's signed override (:func:`record_override`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlite_utils

from console.clinic.protocols import ProtocolSpec
from console.clinic.records import effective_percent_mt
from console.errors import ClinicError
from console.people.permissions import require
from console.people.signing import confirm_signer
from console.resource_data import load as load_json
from console.safety import overrides
from console.safety.overrides import Scope

if TYPE_CHECKING:
    from console.people.user import User

log = logging.getLogger(__name__)

LIMITS_FILE = "safety_limits.json"
_EPS = 1e-9


class LimitsFileError(ClinicError):
    """The clinic's safety-limits file cannot be used; the message says what is wrong in it."""


class LimitViolation(NamedTuple):
    """One way a protocol is outside the limits: a code for programs, a message for people."""

    code: str
    message: str
    limit: float | None = None
    actual: float | None = None


@dataclass(frozen=True)
class ItiRule:
    up_to_percent_mt: float
    min_iti_s: float


@dataclass(frozen=True)
class ThetaBurstLimits:
    """One kind of theta burst (burst > 1), iTBS or cTBS: no published table, the clinic's own numbers."""

    kind: str  # "iTBS" or "cTBS", as people read it
    max_percent_mt: float
    max_train_s: float
    min_iti_s: float
    max_pulses_per_session: int
    cite: str


@dataclass(frozen=True)
class DailyLimit:
    """The most pulses one patient receives in one day, all sessions together."""

    max_pulses: int
    cite: str


@dataclass(frozen=True)
class SafetyLimits:
    version: str
    clinic_max_percent_mt: float
    max_percent_mso: int
    table_percent_mt: tuple[float, ...]
    table_rows: tuple[tuple[float, tuple[float, ...]], ...]  # (freq_hz, max train s per column), ascending
    table_cite: str
    iti_applies_above_hz: float
    iti_rules: tuple[ItiRule, ...]  # ascending by intensity
    iti_cite: str
    itbs: ThetaBurstLimits | None
    ctbs: ThetaBurstLimits | None
    daily: DailyLimit | None = None
    table_name: str = "default"
    """Which table applies: "default", or the name of the clinic's entry for this device or coil."""

    def max_train_s(self, freq_hz: float, percent_mt: float) -> float | None:
        """The table's limit for one train, or None when the protocol is beyond the table."""
        row = next((values for freq, values in self.table_rows if freq >= freq_hz - _EPS), None)
        if row is None:
            return None
        column = next((i for i, pct in enumerate(self.table_percent_mt) if pct >= percent_mt - _EPS), None)
        return None if column is None else row[column]

    def min_iti_s(self, percent_mt: float) -> float | None:
        """The shortest rest between trains at this intensity, or None beyond the rules."""
        rule = next((r for r in self.iti_rules if r.up_to_percent_mt >= percent_mt - _EPS), None)
        return None if rule is None else rule.min_iti_s


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise LimitsFileError(f"{LIMITS_FILE}: {where} must be a number of 0 or more (found {value!r}).")
    return float(value)


_ABOUT_TABLE = ("name", "device", "coil", "cite", "source")
"""An equipment entry's own description, not limits that replace the default's."""


def _matches(wanted: str | None, given: str | None) -> bool:
    return wanted is None or (given is not None and wanted.strip().casefold() == given.strip().casefold())


def equipment_table(
    data: Mapping[str, Any], device: str | None = None, coil: str | None = None
) -> Mapping[str, Any] | None:
    """The clinic's table for this device model and coil type, or None (the default applies).

    An entry names a device, a coil type or both; it applies when every part it names matches
    (letter case ignored), and one naming both wins over one naming only one.
    """
    tables = (data.get("equipment") or {}).get("tables") or []
    fitting = [t for t in tables if (t.get("device") or t.get("coil"))
               and _matches(t.get("device"), device) and _matches(t.get("coil"), coil)]
    if not fitting:
        return None
    return max(fitting, key=lambda t: (t.get("device") is not None) + (t.get("coil") is not None))


def _theta_burst(entry: Mapping[str, Any], kind: str, where: str) -> ThetaBurstLimits:
    return ThetaBurstLimits(
        kind,
        _number(entry["max_percent_mt"], f"{where}.max_percent_mt"),
        _number(entry["max_train_s"], f"{where}.max_train_s"),
        _number(entry["min_iti_s"], f"{where}.min_iti_s"),
        int(_number(entry["max_pulses_per_session"], f"{where}.max_pulses_per_session")),
        str(entry.get("cite") or "unverified: set by the medical director"),
    )


def parse_limits(
    data: Mapping[str, Any], device: str | None = None, coil: str | None = None
) -> SafetyLimits:
    """Build :class:`SafetyLimits` from the file's content for this device model and coil type
    (their own table's entries over the default); a mistake in it is named plainly."""
    table_name = "default"
    own = equipment_table(data, device, coil)
    if own is not None:
        table_name = str(own["name"])
        data = {**data, **{k: v for k, v in own.items() if k not in _ABOUT_TABLE}}
    try:
        table = data["train_duration"]
        columns = tuple(_number(v, "train_duration.percent_mt") for v in table["percent_mt"])
        if not columns or list(columns) != sorted(set(columns)):
            raise LimitsFileError(
                f"{LIMITS_FILE}: train_duration.percent_mt must rise from column to column."
            )
        rows = []
        for freq_text, values in table["max_train_s"].items():
            try:
                freq = float(freq_text)
            except ValueError:
                raise LimitsFileError(
                    f"{LIMITS_FILE}: train_duration.max_train_s has a row {freq_text!r} "
                    "that is not a frequency."
                ) from None
            if len(values) != len(columns):
                raise LimitsFileError(
                    f"{LIMITS_FILE}: the {freq_text} Hz row has {len(values)} values "
                    f"for {len(columns)} columns."
                )
            rows.append((freq, tuple(_number(v, f"the {freq_text} Hz row") for v in values)))
        rows.sort()
        iti = data["inter_train_interval"]
        rules = tuple(
            sorted(
                (
                    ItiRule(
                        _number(r["up_to_percent_mt"], "inter_train_interval.up_to_percent_mt"),
                        _number(r["min_iti_s"], "inter_train_interval.min_iti_s"),
                    )
                    for r in iti["min_iti_s"]
                ),
                key=lambda r: r.up_to_percent_mt,
            )
        )
        tbs = data.get("theta_burst") or {}
        itbs = _theta_burst(tbs["itbs"], "iTBS", "theta_burst.itbs") if tbs.get("itbs") else None
        ctbs = _theta_burst(tbs["ctbs"], "cTBS", "theta_burst.ctbs") if tbs.get("ctbs") else None
        daily = None
        if data.get("daily_pulses") is not None:
            d = data["daily_pulses"]
            daily = DailyLimit(int(_number(d["max_pulses"], "daily_pulses.max_pulses")),
                               str(d.get("cite") or "unverified: set by the medical director"))
        return SafetyLimits(
            version=str(data.get("version", "")),
            clinic_max_percent_mt=_number(data["clinic_max_percent_mt"], "clinic_max_percent_mt"),
            max_percent_mso=int(_number(data["max_percent_mso"], "max_percent_mso")),
            table_percent_mt=columns,
            table_rows=tuple(rows),
            table_cite=str(table.get("cite", "the clinic's table")),
            iti_applies_above_hz=_number(
                iti.get("applies_above_hz", 1), "inter_train_interval.applies_above_hz"
            ),
            iti_rules=rules,
            iti_cite=str(iti.get("cite", "the clinic's inter-train rules")),
            itbs=itbs,
            ctbs=ctbs,
            daily=daily,
            table_name=table_name,
        )
    except KeyError as exc:
        raise LimitsFileError(f"{LIMITS_FILE}: the entry {exc.args[0]!r} is missing.") from None
    except (TypeError, AttributeError) as exc:
        raise LimitsFileError(f"{LIMITS_FILE}: an entry has the wrong shape ({exc}).") from None


def load_limits(device: str | None = None, coil: str | None = None) -> SafetyLimits:
    """The clinic's limits (its own copy when TMS_CONSOLE_RESOURCES has one, else the shipped file),
    for this device model and coil type when the clinic has a table of their own."""
    try:
        data = load_json(LIMITS_FILE)
    except ValueError as exc:  # JSONDecodeError, or the file does not match its schema
        raise LimitsFileError(f"{LIMITS_FILE} cannot be used: {exc}") from None
    return parse_limits(data, device, coil)


def as_spec(protocol: ProtocolSpec | Mapping[str, Any] | Any) -> ProtocolSpec:
    """A protocol given as a ProtocolSpec, a preset/JSON dict, or a ProtocolLoaded event."""
    if isinstance(protocol, ProtocolSpec):
        return protocol
    if isinstance(protocol, Mapping):
        return ProtocolSpec.from_mapping(protocol)
    fields = ("name", "freq_hz", "pulses_per_train", "trains", "iti_s", "burst")
    return ProtocolSpec.from_mapping({f: getattr(protocol, f) for f in fields if hasattr(protocol, f)})


def _fmt(value: float) -> str:
    """A number for people: no trailing zeros, at most two decimals (an effective % MT of
    121.0526... reads 121.05; the checks themselves compare the exact value)."""
    return f"{round(value, 2):g}"


def _pct(percent_mt: float) -> str:
    """An intensity in % MT for people, to 0.1 % (the checks compare the exact value)."""
    return f"{round(percent_mt, 1):g}"


def _invalid(spec: ProtocolSpec) -> list[LimitViolation]:
    problems = []
    if not spec.freq_hz > 0:
        problems.append(f"frequency {_fmt(spec.freq_hz)} Hz")
    if spec.pulses_per_train <= 0:
        problems.append(f"{spec.pulses_per_train} pulses per train")
    if spec.trains <= 0:
        problems.append(f"{spec.trains} trains")
    if not spec.iti_s >= 0:
        problems.append(f"inter-train interval {_fmt(spec.iti_s)} s")
    if spec.burst <= 0:
        problems.append(f"burst {spec.burst}")
    if not problems:
        return []
    return [
        LimitViolation(
            "protocol_invalid", f"The protocol {spec.name!r} cannot be checked: " + ", ".join(problems) + "."
        )
    ]


def _train_s(spec: ProtocolSpec) -> float:
    """One train's length; with no rest between trains the whole run is one train."""
    if spec.iti_s <= _EPS and spec.trains > 1:
        return spec.run_s
    return spec.train_s


def is_continuous_theta_burst(spec: ProtocolSpec) -> bool:
    """cTBS: theta burst given as one train, or trains without rest; iTBS rests between trains."""
    return spec.burst > 1 and (spec.trains <= 1 or spec.iti_s <= _EPS)


def _check_patterned(limits: SafetyLimits, spec: ProtocolSpec, percent_mt: float) -> list[LimitViolation]:
    p = limits.ctbs if is_continuous_theta_burst(spec) else limits.itbs
    kind = "continuous theta burst (cTBS)" if is_continuous_theta_burst(spec) else \
        "intermittent theta burst (iTBS)"
    if p is None:
        return [
            LimitViolation(
                "patterned_not_configured",
                f"{spec.name}: the clinic's limits have no entry for {kind}, so this protocol "
                "cannot be checked.",
            )
        ]
    out = []
    if percent_mt > p.max_percent_mt + _EPS:
        out.append(
            LimitViolation(
                "patterned_percent_mt",
                f"{_pct(percent_mt)} % MT is above {_fmt(p.max_percent_mt)} % MT, the limit "
                f"for {kind} ({p.cite}).",
                p.max_percent_mt,
                percent_mt,
            )
        )
    train = _train_s(spec)
    if train > p.max_train_s + _EPS:
        out.append(
            LimitViolation(
                "train_too_long",
                f"Trains of {train:.2f} s are longer than {_fmt(p.max_train_s)} s, the limit "
                f"for {kind} ({p.cite}).",
                p.max_train_s,
                train,
            )
        )
    if spec.trains > 1 and not is_continuous_theta_burst(spec) and spec.iti_s < p.min_iti_s - _EPS:
        out.append(
            LimitViolation(
                "iti_too_short",
                f"Rest between trains of {_fmt(spec.iti_s)} s is shorter than "
                f"{_fmt(p.min_iti_s)} s, the minimum for {kind} ({p.cite}).",
                p.min_iti_s,
                spec.iti_s,
            )
        )
    if spec.planned_pulses > p.max_pulses_per_session:
        out.append(
            LimitViolation(
                "too_many_pulses",
                f"{spec.planned_pulses} pulses in one session is more than "
                f"{p.max_pulses_per_session}, the limit for {kind} ({p.cite}).",
                p.max_pulses_per_session,
                spec.planned_pulses,
            )
        )
    return out


def _check_rtms(limits: SafetyLimits, spec: ProtocolSpec, percent_mt: float) -> list[LimitViolation]:
    out = []
    train = _train_s(spec)
    limit = limits.max_train_s(spec.freq_hz, percent_mt)
    where = f"{_fmt(spec.freq_hz)} Hz and {_pct(percent_mt)} % MT"
    if limit is None:
        out.append(
            LimitViolation(
                "outside_table",
                f"{where} is beyond the clinic's train-duration table ({limits.table_cite}: "
                f"up to {_fmt(limits.table_rows[-1][0])} Hz and "
                f"{_fmt(limits.table_percent_mt[-1])} % MT).",
                None,
                train,
            )
        )
    elif train > limit + _EPS:
        out.append(
            LimitViolation(
                "train_too_long",
                f"Trains of {train:.2f} s at {where} are longer than the clinic's limit of "
                f"{_fmt(limit)} s ({limits.table_cite}).",
                limit,
                train,
            )
        )
    if spec.trains > 1 and spec.freq_hz > limits.iti_applies_above_hz + _EPS:
        min_iti = limits.min_iti_s(percent_mt)
        if min_iti is None:
            out.append(
                LimitViolation(
                    "outside_iti_rules",
                    f"The clinic's inter-train rules ({limits.iti_cite}) stop at "
                    f"{_fmt(limits.iti_rules[-1].up_to_percent_mt)} % MT; "
                    f"{_pct(percent_mt)} % MT is beyond them.",
                    None,
                    spec.iti_s,
                )
            )
        elif spec.iti_s < min_iti - _EPS:
            out.append(
                LimitViolation(
                    "iti_too_short",
                    f"Rest between trains of {_fmt(spec.iti_s)} s at {_pct(percent_mt)} % MT "
                    f"is shorter than the clinic's minimum of {_fmt(min_iti)} s "
                    f"({limits.iti_cite}).",
                    min_iti,
                    spec.iti_s,
                )
            )
    return out


def check_protocol(
    limits: SafetyLimits, protocol: ProtocolSpec | Mapping[str, Any] | Any, percent_mt: float, mso: int
) -> list[LimitViolation]:
    """Every way the protocol at this intensity is outside the limits; empty = within them.

    ``percent_mt`` is the prescribed intensity in % of motor threshold and
    ``mso`` the device setting it gives (% of maximum stimulator output).
    """
    spec = as_spec(protocol)
    out = _invalid(spec)
    if not (isinstance(percent_mt, int | float) and math.isfinite(percent_mt) and percent_mt > 0):
        out.append(
            LimitViolation("percent_mt_invalid", f"The intensity {percent_mt!r} % MT cannot be checked.")
        )
        return out
    if percent_mt > limits.clinic_max_percent_mt + _EPS:
        out.append(
            LimitViolation(
                "percent_mt_above_clinic_max",
                f"{_pct(percent_mt)} % MT is above the clinic's maximum of "
                f"{_fmt(limits.clinic_max_percent_mt)} % MT.",
                limits.clinic_max_percent_mt,
                percent_mt,
            )
        )
    if mso > limits.max_percent_mso:
        out.append(
            LimitViolation(
                "mso_above_max",
                f"The device setting {mso} % MSO is above the clinic's maximum of "
                f"{limits.max_percent_mso} % MSO.",
                limits.max_percent_mso,
                mso,
            )
        )
    if out and out[0].code == "protocol_invalid":
        return out
    if spec.burst > 1:
        out.extend(_check_patterned(limits, spec, percent_mt))
    else:
        out.extend(_check_rtms(limits, spec, percent_mt))
    if out:
        log.info(
            "protocol %s at %s %% MT / %s %% MSO is outside the limits: %s",
            spec.name,
            percent_mt,
            mso,
            ", ".join(v.code for v in out),
        )
    return out


def check_daily(
    limits: SafetyLimits, protocol: ProtocolSpec | Mapping[str, Any] | Any, pulses_today: int
) -> list[LimitViolation]:
    """The day's pulses so far plus this session's planned pulses against the clinic's daily cap."""
    daily = limits.daily
    if daily is None:
        return []
    total = pulses_today + as_spec(protocol).planned_pulses
    if total <= daily.max_pulses:
        return []
    return [
        LimitViolation(
            "daily_pulses",
            f"This session would bring today's pulses to {total:,} ({pulses_today:,} already given today), "
            f"more than {daily.max_pulses:,}, the clinic's limit for one day ({daily.cite}).",
            daily.max_pulses,
            total,
        )
    ]


def check_delivered(
    limits: SafetyLimits,
    protocol: ProtocolSpec | Mapping[str, Any] | Any,
    *,
    mt_mso: float,
    percent_mt: float,
    prescribed_mso: int,
    device_mso: int,
) -> list[LimitViolation]:
    """A device setting above the prescription, checked at the % MT it actually delivers.

    Empty at or below the prescription (below asks for the technician's reason,
    :func:`check_intensity`). Above it: that it is above the prescription, and every
    way the protocol at the effective % MT (device % MSO / MT) is outside the limits;
    only a signed override lets it go on. The prescription is rounded down
    (console.clinic.records.prescribed_mso), so any setting above it delivers more
    than was prescribed.
    """
    if device_mso <= prescribed_mso:
        return []
    effective = effective_percent_mt(device_mso, mt_mso) or 0.0
    above = LimitViolation(
        "above_prescription",
        f"The device is set to {device_mso} % MSO, {effective:.1f} % of the motor threshold "
        f"({_fmt(mt_mso)} % MSO): above the prescription of {_fmt(percent_mt)} % MT "
        f"({prescribed_mso} % MSO).",
        percent_mt,
        effective,
    )
    return [above, *check_protocol(limits, protocol, effective, device_mso)]


class IntensityRefused(ClinicError):
    """A change of the device's intensity the console will not send; the message says why."""


def intensity_refusal(
    db: sqlite_utils.Database,
    *,
    session_id: int | None,
    course_id: int | None,
    protocol: ProtocolSpec | Mapping[str, Any] | Any | None,
    mt_mso: float | None,
    percent_mt: float | None,
    prescribed_mso: int | None,
    device_mso: int,
) -> str | None:
    """Why the console must not set ``device_mso`` during this session (None: it may).

    At or below the prescription, or with no prescription to compare to, it may. Above it,
    only with a signed override that covers exactly this setting (the gate's own words),
    given for this session, or for the course today and not yet used by another session.
    """
    if prescribed_mso is None or mt_mso is None or percent_mt is None or device_mso <= prescribed_mso:
        return None
    if protocol is None:
        return (f"{device_mso} % MSO is above the prescription of {prescribed_mso} % MSO, and the "
                "protocol is not known to check it against the clinic's limits.")
    violations = check_delivered(load_limits(), protocol, mt_mso=mt_mso, percent_mt=percent_mt,
                                 prescribed_mso=prescribed_mso, device_mso=device_mso)
    if overrides.signed_covering(db, "safety_limit", [v.message for v in violations],
                                 session_id=session_id, course_id=course_id) is not None:
        return None
    effective = violations[0].actual or 0.0
    return (f"{device_mso} % MSO is {effective:.1f} % of the motor threshold ({_fmt(mt_mso)} % MSO), above "
            f"the prescription of {_fmt(percent_mt)} % MT ({prescribed_mso} % MSO): setting it needs a "
            "physician's signed override. The device stays at its setting.")


def _scope(session_or_course: Scope | tuple[str, int]) -> Scope:
    if isinstance(session_or_course, Scope):
        return session_or_course
    kind, ident = session_or_course
    if kind == "session":
        return Scope.session(int(ident))
    if kind == "course":
        return Scope.course(int(ident))
    raise ValueError(f"an override is for a 'session' or a 'course', not {kind!r}")


def record_override(
    db: sqlite_utils.Database,
    physician: User,
    password: str,
    session_or_course: Scope | tuple[str, int],
    violations: Iterable[LimitViolation],
    reason: str,
) -> int:
    """A physician's signed override of the limits (re-authenticated), audited; returns its id.

    ``session_or_course`` is a :class:`Scope` or ``("course", id)`` /
    ``("session", id)``: before a session exists the override names its course,
    and :func:`console.safety.overrides.attach_to_session` links it when the session starts.
    """
    violations = list(violations)
    if not violations:
        raise ClinicError("There is nothing to override: the protocol is within the limits.")
    if not (reason or "").strip():
        raise ClinicError("Give the reason for the override: it is kept with the session record.")
    signer = confirm_signer(db, physician, password, "override_safety")
    return overrides.record(
        db, signer, "safety_limit", _scope(session_or_course), violations, reason, signed=True
    )


def check_intensity(prescribed_mso: int, device_mso: int) -> list[LimitViolation]:
    """The device is set to something other than the prescription. Below it the technician's reason
    lets it go on; above it the start gate asks a signed override instead (:func:`check_delivered`)."""
    if device_mso == prescribed_mso:
        return []
    return [
        LimitViolation(
            "intensity_differs",
            f"The device is set to {device_mso} % MSO; the prescription gives {prescribed_mso} % MSO.",
            prescribed_mso,
            device_mso,
        )
    ]


def record_intensity_override(
    db: sqlite_utils.Database,
    user: User,
    session_or_course: Scope | tuple[str, int],
    prescribed_mso: int,
    device_mso: int,
    reason: str,
) -> int:
    """The technician goes on with a device intensity below the prescription, saying why.

    Above the prescription a reason is not enough: it needs a signed override of the
    intensity actually delivered (:func:`check_delivered`, :func:`record_override`).
    """
    require(user, "record_session")
    if device_mso > prescribed_mso:
        raise ClinicError(
            f"The device is set to {device_mso} % MSO, above the prescription of {prescribed_mso} % MSO: "
            "a reason is not enough. Set the device to the prescription, or a physician signs an "
            "override for the higher setting."
        )
    violations = check_intensity(prescribed_mso, device_mso)
    if not violations:
        raise ClinicError("There is nothing to override: the device intensity matches the prescription.")
    return overrides.record(
        db, user, "intensity", _scope(session_or_course), violations, reason, signed=False
    )
