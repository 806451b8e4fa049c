"""The device's side of the line: sequence numbers, CRCs, and the noise scenario.

Frames are encoded to the same bytes as ``devices.tscp.encode_frame`` (a test
holds the two equal) by a specialised path about seven times cheaper, since a
250 Hz pose stream at x1000 asks for a quarter of a million frames a second.

Noise is injected only into scheduled frames (never into HELLO, EOS or the
replies to commands), decided by a generator seeded from the run seed, so the
same seed corrupts the same frames. Each injected fault goes to the fault log
with the counts a TSCP receiver must make for it. A corrupted frame counts as
missing only once a later frame of the same connection is accepted (a HELLO
resets the count, a closed connection never reports it), so its record is
written when that is known.
"""

from __future__ import annotations

import binascii
import random
from collections.abc import Iterable
from typing import Any

from devices.sim.faultlog import FaultLog
from devices.sim.settings import SimSettings
from devices.tscp import MAX_LINE, SEQ_MOD

_NOISE_STREAM = 3
_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789."
_GARBAGE = bytes(b for b in range(256) if b not in b"$\r\n")
_NEVER_NOISED = frozenset(("HELLO", "EOS"))


def encode(seq: int, type_: str, payload: str) -> bytes:
    """``$seq,TYPE,payload*CRC\\r\\n``: the bytes ``encode_frame(seq, TYPE, payload.split(","))`` gives."""
    body = (f"{seq},{type_},{payload}" if payload else f"{seq},{type_}").encode("ascii")
    return b"$%s*%04X\r\n" % (body, binascii.crc_hqx(body, 0xFFFF))


class Noise:
    """Decides, frame by frame, whether and how the line garbles it."""

    def __init__(self, settings: SimSettings, seed: int) -> None:
        self.rate = settings.noise_rate
        self.kinds = list(settings.noise_kinds)
        self.weights = [settings.noise_kinds[k] for k in self.kinds]
        self.rng = random.Random(seed * 1_000_003 + _NOISE_STREAM)

    def pick(self) -> str | None:
        if self.rng.random() >= self.rate:
            return None
        return self.rng.choices(self.kinds, self.weights)[0]

    def garbage(self, n_max: int) -> bytes:
        n = self.rng.randint(1, max(1, n_max))
        return bytes(self.rng.choice(_GARBAGE) for _ in range(n))


class FrameLink:
    def __init__(self, fault_log: FaultLog, noise: Noise | None = None) -> None:
        self.log = fault_log
        self.noise = noise
        self.seq = 0
        self._unresolved: list[dict[str, Any]] = []
        self.run_ended = False
        """Noise garbles frames until the run's EOS is on the line: the scenario is a noisy
        session, and a session's counts end with its run (so tests can compare exactly)."""

    def connection_opened(self) -> None:
        """A new connection starts the frame count again at 0 (the host sees HELLO first)."""
        self.connection_closed()
        self.seq = 0

    def connection_closed(self) -> None:
        """Corrupted frames not followed by an accepted frame are never counted as missing."""
        for rec in self._unresolved:
            rec["missing"] = 0
            self.log.write(rec)
        self._unresolved.clear()

    def _accepted(self, type_: str) -> None:
        if not self._unresolved:
            return
        missing = 0 if type_ == "HELLO" else 1
        for rec in self._unresolved:
            rec["missing"] = missing
            self.log.write(rec)
        self._unresolved.clear()

    def encode(self, outs: Iterable[tuple[str, str]], *, scheduled: bool = True) -> bytes:
        """Frames to bytes, with sequence numbers; noise applies to scheduled frames only."""
        parts: list[bytes] = []
        seq = self.seq
        for type_, payload in outs:
            noise = self.noise if scheduled and not self.run_ended else None
            frame = encode(seq, type_, payload)
            kind = noise.pick() if noise is not None and type_ not in _NEVER_NOISED else None
            if type_ == "EOS":
                self.run_ended = True
            if kind is None:
                if self._unresolved:
                    self._accepted(type_)
                parts.append(frame)
            else:
                assert noise is not None
                parts.append(self._garble(kind, noise, seq, type_, payload, frame))
            seq = (seq + 1) % SEQ_MOD
        self.seq = seq
        return b"".join(parts)

    def _garble(self, kind: str, noise: Noise, seq: int, type_: str, payload: str, frame: bytes) -> bytes:
        t = int(payload.split(",", 1)[0]) if payload[:1].isdigit() else None
        rec: dict[str, Any] = {"kind": kind, "device_t": t, "seq": seq, "type": type_}
        room = MAX_LINE - (len(frame) - 2)
        if kind == "garbage" or (kind == "garbage_prefix" and room < 1):
            junk = noise.garbage(16)
            rec.update(kind="garbage", bytes=len(junk), rejected=1, missing=0)
            self._accepted(type_)
            self.log.write(rec)
            return junk + b"\r\n" + frame
        if kind == "garbage_prefix":
            junk = noise.garbage(min(16, room))
            rec.update(bytes=len(junk), rejected=1, missing=0)
            self._accepted(type_)
            self.log.write(rec)
            return junk + frame
        star = len(frame) - 7  # index of "*"
        if kind == "corrupt_crc":
            i = noise.rng.randrange(1, star)
            new = noise.rng.choice([c for c in _SAFE if c != frame[i]])
            bad = frame[:i] + bytes((new,)) + frame[i + 1 :]
        else:  # truncated: cut before the CRC, so the rest can never pass for a frame
            bad = frame[: noise.rng.randrange(2, star)] + b"\r\n"
        rec["rejected"] = 1
        self._unresolved.append(rec)
        return bad
