"""The clinic's stimulation safety limits, and the check of a protocol against them.

The limits are data (``resources/safety_limits.json``): a table of maximum
train duration by frequency and intensity (% MT), minimum inter-train
intervals, limits for theta burst, the clinic's maximum % MT and maximum %
MSO, each with its source cited in the file. The program ships the clinic's
values and checks against them; it has no limits of its own.

Reading the table never interpolates: between rows the next higher
frequency applies and between columns the next higher intensity (both give
the shorter, stricter limit), and a protocol beyond the table is outside the
limits rather than guessed at. A protocol outside the limits cannot start
without a supervisor's signed override (:func:`record_override`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlite_utils

from console.clinic.protocols import ProtocolSpec
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
class PatternedLimits:
    """Theta burst (burst > 1): no published table, the clinic's own numbers."""

    max_percent_mt: float
    max_train_s: float
    min_iti_s: float
    max_pulses_per_run: int
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
    patterned: PatternedLimits | None

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


def parse_limits(data: Mapping[str, Any]) -> SafetyLimits:
    """Build :class:`SafetyLimits` from the file's content; a mistake in it is named plainly."""
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
        patterned = None
        if data.get("patterned") is not None:
            p = data["patterned"]
            patterned = PatternedLimits(
                _number(p["max_percent_mt"], "patterned.max_percent_mt"),
                _number(p["max_train_s"], "patterned.max_train_s"),
                _number(p["min_iti_s"], "patterned.min_iti_s"),
                int(_number(p["max_pulses_per_run"], "patterned.max_pulses_per_run")),
                str(p.get("cite", "the clinic's theta-burst limits")),
            )
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
            patterned=patterned,
        )
    except KeyError as exc:
        raise LimitsFileError(f"{LIMITS_FILE}: the entry {exc.args[0]!r} is missing.") from None
    except (TypeError, AttributeError) as exc:
        raise LimitsFileError(f"{LIMITS_FILE}: an entry has the wrong shape ({exc}).") from None


def load_limits() -> SafetyLimits:
    """The clinic's limits (its own copy when TMS_CONSOLE_RESOURCES has one, else the shipped file)."""
    try:
        data = load_json(LIMITS_FILE)
    except ValueError as exc:  # JSONDecodeError
        raise LimitsFileError(f"{LIMITS_FILE} is not valid JSON: {exc}") from None
    return parse_limits(data)


def as_spec(protocol: ProtocolSpec | Mapping[str, Any] | Any) -> ProtocolSpec:
    """A protocol given as a ProtocolSpec, a preset/JSON dict, or a ProtocolLoaded event."""
    if isinstance(protocol, ProtocolSpec):
        return protocol
    if isinstance(protocol, Mapping):
        return ProtocolSpec.from_mapping(protocol)
    fields = ("name", "freq_hz", "pulses_per_train", "trains", "iti_s", "burst")
    return ProtocolSpec.from_mapping({f: getattr(protocol, f) for f in fields if hasattr(protocol, f)})


def _fmt(value: float) -> str:
    return f"{value:g}"


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


def _check_patterned(limits: SafetyLimits, spec: ProtocolSpec, percent_mt: float) -> list[LimitViolation]:
    p = limits.patterned
    if p is None:
        return [
            LimitViolation(
                "patterned_not_configured",
                f"{spec.name}: the clinic's limits have no entry for theta burst (burst "
                f"{spec.burst}), so this protocol cannot be checked.",
            )
        ]
    out = []
    if percent_mt > p.max_percent_mt + _EPS:
        out.append(
            LimitViolation(
                "patterned_percent_mt",
                f"{_fmt(percent_mt)} % MT is above {_fmt(p.max_percent_mt)} % MT, the limit "
                f"for theta burst ({p.cite}).",
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
                f"for theta burst ({p.cite}).",
                p.max_train_s,
                train,
            )
        )
    if spec.trains > 1 and spec.iti_s < p.min_iti_s - _EPS:
        out.append(
            LimitViolation(
                "iti_too_short",
                f"Rest between trains of {_fmt(spec.iti_s)} s is shorter than "
                f"{_fmt(p.min_iti_s)} s, the minimum for theta burst ({p.cite}).",
                p.min_iti_s,
                spec.iti_s,
            )
        )
    if spec.planned_pulses > p.max_pulses_per_run:
        out.append(
            LimitViolation(
                "too_many_pulses",
                f"{spec.planned_pulses} pulses in one run is more than "
                f"{p.max_pulses_per_run}, the limit for theta burst ({p.cite}).",
                p.max_pulses_per_run,
                spec.planned_pulses,
            )
        )
    return out


def _check_rtms(limits: SafetyLimits, spec: ProtocolSpec, percent_mt: float) -> list[LimitViolation]:
    out = []
    train = _train_s(spec)
    limit = limits.max_train_s(spec.freq_hz, percent_mt)
    where = f"{_fmt(spec.freq_hz)} Hz and {_fmt(percent_mt)} % MT"
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
                    f"{_fmt(percent_mt)} % MT is beyond them.",
                    None,
                    spec.iti_s,
                )
            )
        elif spec.iti_s < min_iti - _EPS:
            out.append(
                LimitViolation(
                    "iti_too_short",
                    f"Rest between trains of {_fmt(spec.iti_s)} s at {_fmt(percent_mt)} % MT "
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
                f"{_fmt(percent_mt)} % MT is above the clinic's maximum of "
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
    supervisor: User,
    password: str,
    session_or_course: Scope | tuple[str, int],
    violations: Iterable[LimitViolation],
    reason: str,
) -> int:
    """A supervisor's signed override of the limits (re-authenticated), audited; returns its id.

    ``session_or_course`` is a :class:`Scope` or ``("course", id)`` /
    ``("session", id)``: before a session exists the override names its course,
    and :func:`console.safety.overrides.attach_to_session` links it when the session starts.
    """
    violations = list(violations)
    if not violations:
        raise ClinicError("There is nothing to override: the protocol is within the limits.")
    if not (reason or "").strip():
        raise ClinicError("Give the reason for the override: it is kept with the session record.")
    signer = confirm_signer(db, supervisor, password, "override_safety")
    return overrides.record(
        db, signer, "safety_limit", _scope(session_or_course), violations, reason, signed=True
    )


def check_intensity(prescribed_mso: int, device_mso: int) -> list[LimitViolation]:
    """The device is set to something other than the prescription (asks for an override with a reason)."""
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
    """The technician goes on with a device intensity other than the prescription, saying why."""
    require(user, "record_session")
    violations = check_intensity(prescribed_mso, device_mso)
    if not violations:
        raise ClinicError("There is nothing to override: the device intensity matches the prescription.")
    return overrides.record(
        db, user, "intensity", _scope(session_or_course), violations, reason, signed=False
    )
