"""The simulated stimulator and tracker: a deterministic state machine over device time.

``advance(to_t)`` produces every frame due up to device millisecond ``to_t``
(poses, 1 Hz STAT, the run's trains and pulses, faults) and ``handle()`` answers
a host command at the current device time. Nothing here knows about wall
time, ports or sequence numbers: the same seed, options and commands give the
same frames, which is what makes the byte stream reproducible and lets tests
check exact pulse times.

Frames come out as ``(TYPE, payload)`` pairs, payload being the fields after
the TYPE joined by commas; the link layer adds sequence numbers and CRCs.
Two pseudo-frames steer the server: ``#UNPLUG`` (the unplug scenario's moment)
and the return after ``EOS``; ``advance`` returns right after either so the
server can act before anything later is produced.
"""

from __future__ import annotations

import heapq
import logging
import random
from typing import Any

import numpy as np

from devices.protocol import ProtocolSpec
from devices.sim.config import SimConfig
from devices.sim.plan import RunEvent, RunPlan
from devices.sim.pose import DriftWindow, PoseModel
from devices.sim.settings import SimSettings
from devices.sim.thermal import CoilThermal
from devices.tscp import PLACES, format_decimal, format_proto_fields

log = logging.getLogger(__name__)

Out = tuple[str, str]
UNPLUG = "#UNPLUG"
INF = 1 << 62
_DIDT_STREAM = 2
TEMP_PLACES = PLACES["coil_temp_c"]
DIDT_PLACES = PLACES["didt"]


class _Run:
    """One protocol run: its event list, run clock and counters."""

    def __init__(self, plan: RunPlan, events: list[RunEvent], origin: int) -> None:
        self.plan = plan
        self.events = events
        self.i = 0
        self.origin = origin  # device ms of run ms 0 while running
        self.frozen = 0  # run ms at which the clock stopped (paused or faulted)
        self.pulses = 0
        self.train = 0
        self.in_train = False
        self.delivered = 0

    def next_t(self) -> int:
        return self.origin + self.events[self.i].run_ms if self.i < len(self.events) else INF


class SimDevice:
    def __init__(self, config: SimConfig, settings: SimSettings) -> None:
        self.config = config
        self.settings = settings
        self.spec: ProtocolSpec | None = config.protocol
        self.state = "ARMED" if self.spec else "IDLE"
        self.mso = config.mso
        self.now = -1
        """Device ms up to which every frame has been produced."""
        self.records: list[dict[str, Any]] = []
        """Scenario events for the fault log, drained by the server."""
        self.poses = PoseModel(settings, config.seed, config.pose_hz)
        self.thermal = CoilThermal(settings.thermal)
        self.scenarios = frozenset(config.scenarios)
        self._k = 0  # next pose index
        self._next_stat = 0
        self._timers: list[tuple[int, int, str]] = []
        self._timer_order = 0
        self._run: _Run | None = None
        self._fault: str | None = None
        self._greeted = False
        self._didt = random.Random(config.seed * 1_000_003 + _DIDT_STREAM)
        if config.starts_itself:
            self._timer(settings.autostart_delay_ms, "autostart")

    # --- frames ------------------------------------------------------------------
    def hello(self) -> Out:
        i = self.settings.identity
        return ("HELLO", f"TSCP/1,{i.vendor},{i.model},{i.serial},{i.firmware}")

    def connection_opened(self) -> list[Out]:
        """What a host hears first: HELLO, and on the very first connection the loaded
        protocol and the intensity, so it knows the setup without asking."""
        out = [self.hello()]
        if not self._greeted:
            self._greeted = True
            t = max(self.now, 0)
            if self.spec:
                out.append(("PROTO", ",".join(format_proto_fields(t, self.spec))))
            out.append(("INT", f"{t},{self.mso}"))
        return out

    def _stat(self, t: int) -> Out:
        temp = self.thermal.temp(t)
        return ("STAT", f"{t},{self.state},{self.mso},{format_decimal(temp, TEMP_PLACES)},"
                        f"{self.settings.identity.coil_id}")

    # --- time ----------------------------------------------------------------------
    def _timer(self, t: int, kind: str) -> None:
        heapq.heappush(self._timers, (t, self._timer_order, kind))
        self._timer_order += 1

    def _run_t(self) -> int:
        return self._run.next_t() if self._run is not None and self.state == "RUNNING" else INF

    def next_t(self) -> int:
        """Device time of the next frame (always finite: poses never stop)."""
        return min(self._timers[0][0] if self._timers else INF, self._run_t(), self._next_stat,
                   self.poses.time_of(self._k))

    def advance(self, to_t: int) -> list[Out]:
        """Every frame due up to device ms ``to_t``, in order; returns early after EOS or
        ``#UNPLUG`` (the caller calls again to go on)."""
        out: list[Out] = []
        while True:
            t_timer = self._timers[0][0] if self._timers else INF
            t_run = self._run_t()
            t = min(t_timer, t_run, self._next_stat)
            t_pose = self.poses.time_of(self._k)
            if t_pose < t:
                if t_pose > to_t:
                    break
                k1 = self.poses.first_after(min(t - 1, to_t))
                out.extend(("POSE", p) for p in self.poses.payloads(self._k, k1))
                self._k = k1
                continue
            if t > to_t:
                break
            if t_timer == t:
                self._on_timer(heapq.heappop(self._timers), out)
            elif t_run == t:
                if self._on_run_event(t, out):
                    self.now = max(self.now, t)
                    return out
            else:
                out.append(self._stat(t))
                self._next_stat += 1000
        self.now = max(self.now, to_t)
        return out

    # --- timers --------------------------------------------------------------------
    def _on_timer(self, timer: tuple[int, int, str], out: list[Out]) -> None:
        t, _, kind = timer
        if kind == "autostart":
            if self.state == "ARMED":
                self._start(t)
            else:
                log.warning("autostart at %d ms: nothing to start (state %s)", t, self.state)
        elif kind == "clear":
            code = self._fault or "COIL_OVERTEMP"
            self._fault = None
            out.append(("CLEAR", f"{t},{code}"))
            self.records.append({"kind": "fault_cleared", "device_t": t, "code": code,
                                 "coil_temp_c": round(self.thermal.temp(t), 2)})
            if self.state == "FAULT":
                self._resume(t)
        elif kind == "tracker_found":
            self.records.append({"kind": "tracker_found", "device_t": t})

    # --- the run -------------------------------------------------------------------
    def _marks(self) -> dict[str, float]:
        s = self.settings
        marks: dict[str, float] = {}
        if "drift" in self.scenarios:
            marks["drift"] = s.drift.at
            marks["drift_back"] = s.drift.back_at
        if "tracker-loss" in self.scenarios:
            marks["tracker-loss"] = s.tracker_loss_at
        if "overheat" in self.scenarios:
            marks["overheat"] = s.overheat_at
        if "unplug" in self.scenarios:
            marks["unplug"] = s.unplug_at
        return marks

    def _start(self, t: int) -> None:
        assert self.spec is not None
        plan = RunPlan(self.spec)
        self._run = _Run(plan, plan.events(self._marks()), t)
        self.state = "RUNNING"

    def _freeze(self, t: int, state: str) -> None:
        """Stop the run clock at device ms ``t``: events from there on wait for a resume."""
        assert self._run is not None
        self._run.frozen = t - self._run.origin
        self.state = state

    def _resume(self, t: int) -> None:
        assert self._run is not None
        self._run.origin = t - self._run.frozen
        self.state = "RUNNING"

    def _on_run_event(self, t: int, out: list[Out]) -> bool:
        run = self._run
        assert run is not None
        ev = run.events[run.i]
        run.i += 1
        kind = ev.kind
        if kind == "PULSE":
            run.pulses += 1
            run.delivered += 1
            mso = self.mso
            s = self.settings
            didt = mso * s.didt_per_mso * (1.0 + self._didt.gauss(0.0, s.didt_rel_sigma))
            out.append(("PULSE", f"{t},{run.pulses},{mso},{format_decimal(didt, DIDT_PLACES)}"))
            self.thermal.pulse(t, mso)
            if self._fault is None and self.thermal.overheated(t):
                self._overtemp(t, out)
        elif kind == "TRAIN_START":
            run.train = ev.train
            run.in_train = True
            run.delivered = 0
            out.append(("TRAIN", f"{t},{ev.train},START,{ev.arg}"))
        elif kind == "TRAIN_END":
            run.in_train = False
            out.append(("TRAIN", f"{t},{ev.train},END,{run.delivered}"))
        elif kind == "EOS":
            self._end(t, "COMPLETE", out)
            return True
        else:
            return self._on_mark(t, str(ev.arg), out)
        return False

    def _overtemp(self, t: int, out: list[Out]) -> None:
        temp = self.thermal.temp(t)
        limit = format_decimal(self.settings.thermal.fault_above_c, TEMP_PLACES)
        self._fault = "COIL_OVERTEMP"
        self.thermal.boost_c = None  # the coolant recovers; the coil cools at rest
        out.append(("FAULT", f"{t},COIL_OVERTEMP,coil temperature above {limit} C"))
        self._freeze(t, "FAULT")
        clear_t = self.thermal.cooled_at(t)
        self._timer(clear_t, "clear")
        self.records.append({"kind": "fault", "code": "COIL_OVERTEMP", "device_t": t,
                             "coil_temp_c": round(temp, 2), "clear_t": clear_t,
                             "pulse_count": self._run.pulses if self._run else 0})

    def _on_mark(self, t: int, name: str, out: list[Out]) -> bool:
        s = self.settings
        rec: dict[str, Any] = {"kind": name.replace("-", "_"), "device_t": t}
        if name == "drift":
            d = s.drift
            self.poses.drift = DriftWindow(t, d.ramp_s * 1000, d.back_s * 1000,
                                           np.array(d.direction) * d.mm, d.deg, np.array(d.axis))
            rec.update(mm=d.mm, deg=d.deg, ramp_ms=round(d.ramp_s * 1000))
        elif name == "drift_back":
            if self.poses.drift is not None:
                self.poses.drift.back_t = t
            rec["back_ms"] = round(s.drift.back_s * 1000)
        elif name == "tracker-loss":
            self.poses.hidden.append((t, t + s.tracker_loss_ms))
            rec["end_t"] = t + s.tracker_loss_ms
            self._timer(t + s.tracker_loss_ms, "tracker_found")
        elif name == "overheat":
            self.thermal.boost_c = s.overheat_heat_c
            rec["coil_temp_c"] = round(self.thermal.temp(t), 2)
        elif name == "unplug":
            out.append((UNPLUG, ""))
            return True  # the server logs it with what was lost
        self.records.append(rec)
        return False

    def _end(self, t: int, reason: str, out: list[Out]) -> None:
        run = self._run
        assert run is not None
        out.append(("EOS", f"{t},{run.pulses},{reason}"))
        self.records.append({"kind": "eos", "device_t": t, "pulses": run.pulses, "reason": reason})
        self._run = None
        self.spec = None
        self.state = "IDLE"
        self.thermal.boost_c = None

    # --- host commands ---------------------------------------------------------------
    def handle(self, command: str, args: tuple) -> list[Out]:
        """Answer one host command at the current device time."""
        t = max(self.now, 0)
        if command == "ID?":
            return [self.hello()]
        if command == "PING":
            return [("PONG", str(t))]
        if self.config.no_commands:
            return [("NAK", f"{command},UNSUPPORTED")]
        handler = getattr(self, "_cmd_" + command.lower(), None)
        if handler is None:
            return [("NAK", f"{command},UNSUPPORTED")]
        return handler(t, *args)

    def _nak(self, command: str, reason: str) -> list[Out]:
        return [("NAK", f"{command},{reason}")]

    def _cmd_load(self, t: int, name: str, freq: float, ppt: int, trains: int, iti: float,
                  burst: int) -> list[Out]:
        if self.state not in ("IDLE", "ARMED"):
            return self._nak("LOAD", "BAD_STATE")
        spec = ProtocolSpec(name, freq, ppt, trains, iti, burst)
        if spec.problem():
            log.info("LOAD refused: %s", spec.problem())
            return self._nak("LOAD", "BAD_VALUE")
        self.spec = spec
        self.state = "ARMED"
        return [("ACK", "LOAD"), ("PROTO", ",".join(format_proto_fields(t, spec)))]

    def _cmd_set(self, t: int, mso: int) -> list[Out]:
        if not 0 <= mso <= 100:
            return self._nak("SET", "BAD_VALUE")
        if self.state == "FAULT":
            return self._nak("SET", "BAD_STATE")
        out: list[Out] = [("ACK", "SET")]
        if mso != self.mso:
            self.mso = mso
            out.append(("INT", f"{t},{mso}"))
        return out

    def _cmd_start(self, t: int) -> list[Out]:
        if self.state != "ARMED":
            return self._nak("START", "BAD_STATE")
        if self.mso == 0:
            return self._nak("START", "BAD_VALUE")
        self._start(t + 1)
        return [("ACK", "START")]

    def _cmd_pause(self, t: int) -> list[Out]:
        if self.state != "RUNNING":
            return self._nak("PAUSE", "BAD_STATE")
        self._freeze(t + 1, "PAUSED")
        return [("ACK", "PAUSE")]

    def _cmd_resume(self, t: int) -> list[Out]:
        if self.state != "PAUSED":
            return self._nak("RESUME", "BAD_STATE")
        self._resume(t + 1)
        return [("ACK", "RESUME")]

    def _cmd_stop(self, t: int) -> list[Out]:
        run = self._run
        if run is None or self.state not in ("RUNNING", "PAUSED", "FAULT"):
            return self._nak("STOP", "BAD_STATE")
        out: list[Out] = [("ACK", "STOP")]
        if run.in_train:
            out.append(("TRAIN", f"{t},{run.train},END,{run.delivered}"))
        self._end(t, "STOPPED", out)
        return out
