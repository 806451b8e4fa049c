"""Writes TSCP/1 capture files (the bytes a console would receive) of whole simulated runs.

Used with the real replay adapter (``replay://FILE``) to drive the real
runner, writer and SQLite file without a pty; the simulator-through-pty tests
are in test_record_cli.py.
"""

from __future__ import annotations

from pathlib import Path

from console.clinic.protocols import ProtocolSpec
from devices.tscp import encode_frame, format_pose_fields

TARGET = (-42.1, 38.55, 61.2, 0.9239, 0.0, 0.3827, 0.0)
ITBS = ProtocolSpec("iTBS left DLPFC", 5.0, 30, 20, 8.0, 3)


class Stream:
    def __init__(self) -> None:
        self.seq = 0
        self.out: list[bytes] = []

    def frame(self, type_: str, *fields: object) -> None:
        self.out.append(encode_frame(self.seq % 65536, type_, [*fields]))
        self.seq += 1


def pulse_times_ms(spec: ProtocolSpec) -> list[tuple[int, int, int]]:
    """(t_ms from run start, count, train) of every pulse, by TSCP.md's timing."""
    out = []
    count = 0
    period = (spec.train_s + spec.iti_s) * 1000
    for train in range(spec.trains):
        start = train * period
        for i in range(spec.pulses_per_train):
            if spec.burst > 1:
                burst, k = divmod(i, spec.burst)
                t = start + burst * 1000 / spec.freq_hz + k * 20
            else:
                t = start + i * 1000 / spec.freq_hz
            count += 1
            out.append((round(t), count, train + 1))
    return out


def write_run(path: Path, spec: ProtocolSpec = ITBS, *, pose_hz: int = 30, t0: int = 5000,
              drop_pulses: tuple[int, ...] = (), end: str | None = "COMPLETE",
              hidden_ms: tuple[int, int] | None = None, fault_ms: tuple[int, int] | None = None) -> Path:
    """A whole run; ``hidden_ms`` hides the coil from the tracker, ``fault_ms`` raises and clears
    COIL_OVERTEMP, both (start, end) in ms from the run's start."""
    s = Stream()
    s.frame("HELLO", "TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0")
    s.frame("PROTO", t0, spec.name, spec.freq_hz, spec.pulses_per_train, spec.trains, spec.iti_s, spec.burst)
    s.frame("STAT", t0, "IDLE", 62, "24.0", "C1")
    pulses = pulse_times_ms(spec)
    run_ms = pulses[-1][0] + 100
    timeline: list[tuple[int, int, tuple]] = []
    step = 1000 / pose_hz
    k = 0
    while k * step <= run_ms:
        t = round(k * step)
        hide = hidden_ms is not None and hidden_ms[0] <= t < hidden_ms[1]
        fields = format_pose_fields(t0 + t, None if hide else TARGET, 0.0 if hide else 0.98)
        timeline.append((t, 1, ("POSE", *fields)))
        k += 1
    for t in range(0, run_ms, 1000):
        timeline.append((t, 0, ("STAT", t0 + t, "RUNNING", 62, "25.0", "C1")))
    ppt = spec.pulses_per_train
    for t, count, train in pulses:
        if (count - 1) % ppt == 0:
            timeline.append((t, 2, ("TRAIN", t0 + t, train, "START", ppt)))
        if count not in drop_pulses:
            timeline.append((t, 3, ("PULSE", t0 + t, count, 62, "142.6")))
        if count % ppt == 0:
            timeline.append((t, 4, ("TRAIN", t0 + t, train, "END", ppt)))
    if fault_ms is not None:
        timeline.append((fault_ms[0], 5, ("FAULT", t0 + fault_ms[0], "COIL_OVERTEMP", "coil 40.2 C")))
        timeline.append((fault_ms[1], 5, ("CLEAR", t0 + fault_ms[1], "COIL_OVERTEMP")))
    timeline.sort(key=lambda x: (x[0], x[1]))
    for _, _, (type_, *fields) in timeline:
        s.frame(type_, *fields)
    if end:
        s.frame("EOS", t0 + run_ms, len(pulses), end)
    path.write_bytes(b"".join(s.out))
    return path
