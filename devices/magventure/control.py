"""What the MagVenture adapter needs to control a unit (``control=1``): the train values a MagPro
takes, and how a command recognises the unit's answer among everything else it sends.

The MagPro sends no ACK or NAK (no public source shows one): a command is confirmed by the message
that shows its effect (the new amplitude, the enabled bit, "train running", the train settings
read back), recognised by its ID, never by arriving next.
"""

from __future__ import annotations

from collections.abc import Callable

from devices.magventure import messages as msg

Match = Callable[[msg.Message], str | None]
"""A command's test of one message: None (not its answer), "" (done) or why it was refused."""


def _sb(m: msg.Message) -> msg.StatusByte | None:
    return getattr(m, "sb", None)


def enabled_is(state: bool) -> Match:
    def match(m: msg.Message) -> str | None:
        sb = _sb(m)
        return "" if sb is not None and sb.enabled == state else None

    return match


def _steps(value: float, places: int = 1) -> int:
    scaled = round(value * 10 ** places)
    if abs(scaled / 10 ** places - value) > 1e-9:
        raise ValueError(f"{value:g} is not a multiple of 0.1")
    return scaled


def _whole(value: int | float, what: str) -> int:
    if not float(value).is_integer():
        raise ValueError(f"{what} must be a whole number, not {value}")
    return int(value)


def train_values(freq: object, ppt: object, trains: object, iti: object, burst: object
                 ) -> tuple[int, int, int, int]:
    """The MagPro's train fields (rate x10, pulses, trains, ITI x10) for a protocol, within the
    ranges public clients allow (MAGIC setTrain); ValueError says which value is not."""
    if burst != 1:
        raise ValueError("theta-burst protocols are chosen on the stimulator's own Timing page")
    values = (freq, ppt, trains, iti)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise ValueError("a value is not a number")
    rate, per_train, n_trains, interval = (float(v) for v in values)  # type: ignore[arg-type]
    rate_x10 = _steps(rate)
    if not (1 <= rate_x10 <= 10 or (rate_x10 % 10 == 0 and 10 <= rate_x10 <= 1000)):
        raise ValueError(f"the rate must be 0.1-1 Hz in 0.1 steps or 1-100 Hz in whole hertz, not {rate:g}")
    pulses = _whole(per_train, "pulses per train")
    if pulses not in range(1, 101) and pulses not in range(1000, 2001, 100):
        raise ValueError(f"pulses per train must be 1-100 or 1000-2000 in hundreds, not {pulses}")
    count = _whole(n_trains, "the number of trains")
    if count not in range(1, 501):
        raise ValueError(f"the number of trains must be 1-500, not {count}")
    iti_x10 = _steps(interval)
    if not 1 <= iti_x10 <= 1200:
        raise ValueError(f"the interval between trains must be 0.1-120 s, not {interval:g} s")
    return rate_x10, pulses, count, iti_x10
