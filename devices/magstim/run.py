"""The console's commands to a Magstim, and the protocol run the adapter carries out for them.

The Magstim has no protocol, train-count or rest setting, so with
``control=1`` the adapter runs the console's protocol itself, on its link
thread: LOAD sets a Rapid's frequency, pulses per train and train duration
(after checking the energy rules and the theta-burst refusal), START arms
and, once the unit is ready, fires one train per ``EH`` with the rests timed
here, PAUSE disarms (a train in progress stops), RESUME re-arms, STOP and the
last train's end disarm. A unit that disarms itself (hot coil, coil pulled,
a minute armed without a pulse) pauses the run; the technician resumes it.
Every step goes into the record through the adapter's notes.

This is a mixin of :class:`devices.magstim.adapter.MagstimAdapter`: it uses
the link's exchange, notes and unit view, declared below for the type checker.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from devices.adapter import CommandRefused, CommandTimeout
from devices.magstim.codec import Receiver, Reply, number
from devices.magstim.rules import ARMING_S, READY, Unit, digits, load_problem, settle_s, train_problem
from devices.magstim.view import FAULT_WORDS
from devices.protocol import ProtocolSpec

log = logging.getLogger(__name__)


class RunState:
    """The console's protocol as the adapter runs it."""

    def __init__(self, spec: ProtocolSpec) -> None:
        self.spec = spec
        self.trains_done = 0
        self.phase = "arming"  # arming, between, finishing, paused
        self.next_at = 0.0
        self.arm_deadline = 0.0
        self.earliest = 0.0  # the next train not before this (its rest after the last one)

class ProtocolRun:
    """LOAD, SET, START, PAUSE, RESUME and STOP, and the run they drive (link thread only)."""

    _unit: Unit
    _receiver: Receiver
    _speed: float
    _spec: ProtocolSpec | None
    _run: RunState | None
    _settled_at: float
    _next_poll: float

    def _exchange(self, letter: str, data: str | bytes = "@", *, secret: bool = False) -> Reply | None:
        raise NotImplementedError

    def _note(self, kind: str, **data: Any) -> None:
        raise NotImplementedError

    def _poll_params(self) -> Reply | None:
        raise NotImplementedError

    def _armed(self) -> bool:
        raise NotImplementedError

    # --- commands (run on the link thread) ------------------------------------------------------

    def _require(self, reply: Reply | None, what: str) -> Reply:
        if reply is None:
            raise CommandTimeout(f"The Magstim did not answer {what}.")
        if reply.error == "state":
            raise CommandRefused(f"The Magstim refused {what}: it is not possible in its current state.",
                                 "BAD_STATE")
        if reply.error is not None:
            raise CommandRefused(f"The Magstim refused {what}: it did not accept the value.", "BAD_VALUE")
        return reply

    def _do_load(self, name: Any, freq: Any, ppt: Any, trains: Any, iti: Any, burst: Any = 1) -> None:
        try:
            spec = ProtocolSpec(str(name), float(freq), int(ppt), int(trains), float(iti), int(burst))
        except (TypeError, ValueError):
            raise CommandRefused("LOAD needs a name, frequency, pulses per train, trains, rest and burst.",
                                 "BAD_VALUE") from None
        if self._run is not None:
            raise CommandRefused("A protocol is running: stop it before loading another.", "BAD_STATE")
        problem = load_problem(self._unit, spec, self._receiver.view.power)
        if problem:
            raise CommandRefused(problem, "UNSUPPORTED" if spec.burst > 1 else "BAD_VALUE")
        if self._unit.rapid:
            tenths = round(spec.train_s * 10)
            for letter, value in (("B", round(spec.freq_hz * 10)), ("D", spec.pulses_per_train),
                                  ("[", max(tenths, 1))):
                self._require(self._exchange(letter, number(value, digits(self._unit, letter))),
                              f"the train setting {letter}")
            self._poll_params()
        self._spec = spec
        self._note("protocol", **spec.as_dict())

    def _do_set(self, mso: object) -> None:
        if not isinstance(mso, int) or not 0 <= mso <= 100:
            raise CommandRefused(f"{mso!r} is not a power the Magstim takes (0 to 100 %).", "BAD_VALUE")
        spec = self._spec
        if self._unit.rapid and spec is not None and spec.burst == 1:
            problem = train_problem(mso, spec.freq_hz, spec.pulses_per_train,
                                    spec.iti_s if spec.trains > 1 else float("inf"))
            if problem:
                raise CommandRefused("The power was not changed: " + problem, "BAD_VALUE")
        old = self._receiver.view.power
        self._require(self._exchange("@", number(mso, 3)), f"power {mso} %")
        if old is not None:
            self._settled_at = time.monotonic() + settle_s(old, mso) / self._speed
        self._poll_params()

    def _do_start(self) -> None:
        spec = self._spec
        if spec is None:
            raise CommandRefused("Load a protocol before starting.", "BAD_STATE")
        if self._run is not None:
            raise CommandRefused("The protocol is already running.", "BAD_STATE")
        self._arm()
        run = RunState(spec)
        self._begin_arming(run)
        self._run = run
        self._note("start")

    def _arm(self) -> None:
        reply = self._exchange("E", "B")
        if reply is not None and reply.error == "state":
            view = self._receiver.view
            if view.faults:
                self._exchange("F")
                words = "; ".join(FAULT_WORDS[code] for code in sorted(view.faults))
                raise CommandRefused(f"The Magstim cannot be armed: {words}.", "BAD_STATE")
        self._require(reply, "arming")
        self._next_poll = time.monotonic()

    def _begin_arming(self, run: RunState) -> None:
        now = time.monotonic()
        run.phase = "arming"
        run.next_at = max(now + ARMING_S / self._speed, self._settled_at)
        run.arm_deadline = now + (ARMING_S * 3) / self._speed + 2.0

    def _do_pause(self) -> None:
        run = self._run
        if run is None or run.phase == "paused":
            raise CommandRefused("Nothing is running to pause.", "BAD_STATE")
        self._require(self._exchange("E", "A"), "disarming")
        run.phase = "paused"
        self._note("pause")

    def _do_resume(self) -> None:
        run = self._run
        if run is None or run.phase != "paused":
            raise CommandRefused("Nothing is paused to resume.", "BAD_STATE")
        if self._armed():
            self._exchange("E", "A")
        self._arm()
        self._begin_arming(run)
        self._note("resume")

    def _do_stop(self) -> None:
        if self._run is None:
            raise CommandRefused("Nothing is running to stop.", "BAD_STATE")
        self._require(self._exchange("E", "A"), "disarming")
        self._run = None
        self._note("end", reason="STOPPED")

    # --- the run --------------------------------------------------------------------------------

    def _run_step(self, run: RunState, now: float) -> None:
        spec = run.spec
        if run.phase == "finishing":
            self._exchange("E", "A")
            self._run = None
            self._note("end", reason="COMPLETE")
            return
        if run.phase == "arming":
            reply = self._poll_params()
            if reply is None or reply.instr is None or not reply.instr & READY or now < self._settled_at:
                if now > run.arm_deadline:
                    log.warning("the Magstim did not become ready to fire; the run is paused")
                    run.phase = "paused"
                    self._note("pause", reason="not ready")
                else:
                    run.next_at = now + 0.1 / self._speed
                return
            run.phase = "between"
            if now < run.earliest:  # resumed within a rest: the rest still counts
                run.next_at = run.earliest
                return
        if run.trains_done >= spec.trains:  # paused in the last train and resumed: nothing is left
            run.phase = "finishing"
            run.next_at = now
            return
        fire_t = time.monotonic()
        reply = self._exchange("E", "H")
        if reply is None or reply.error is not None:
            log.warning("the Magstim refused to fire; the run is paused")
            self._unit_disarmed(run)
            return
        run.trains_done += 1
        run.earliest = fire_t + (spec.train_s + spec.iti_s) / self._speed
        if run.trains_done >= spec.trains:
            run.phase = "finishing"
            run.next_at = fire_t + spec.train_s / self._speed + 0.01
        else:
            run.next_at = fire_t + (spec.train_s + spec.iti_s) / self._speed

    def _unit_disarmed(self, run: RunState) -> None:
        """The unit disarmed itself (hot coil, coil off, a minute without a pulse): the run pauses,
        and the coil temperature is read at once (the likeliest reason)."""
        run.phase = "paused"
        self._exchange("F")
        self._note("pause", reason="the stimulator disarmed")
