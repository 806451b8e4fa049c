"""The recorder's memory stays bounded however long the session (issue 13, #10).

An accelerated day is some 18,000 pulses; the recorder used to keep every plot point
and every pulse count for the whole run (about 0.3 KB a pulse). These tests feed far
more than a day straight into a real SessionRecorder and check what it keeps: the size
of its growing containers against fixed caps, and the Python memory it holds between
20,000 and 50,000 pulses. No timing is asserted.
"""

from __future__ import annotations

import gc
import tracemalloc

from console.session.plot_series import HISTORY, RECENT, PlotSeries
from console.session.pulse_tally import REPEAT_WINDOW
from console.session.snapshot import SeriesPoint
from devices import events as ev

from .feed import TARGET, Feed

GROWTH_LIMIT_BYTES = 512 * 1024
"""Allowed growth over 20,000 pulses: the thinned history may be anywhere between half full and
full at either end (some 0.2 MB); the old recorder grew some 5 MB over them."""


def _day(f: Feed, first: int, last: int) -> None:
    """Pulses ``first``..``last`` at 10 Hz with a pose before each (the coil moving a little)."""
    rec = f.rec
    for count in range(first, last + 1):
        f.t += 50
        rec.feed(ev.Pose(f.t, f.h, TARGET.x + (count % 7) * 0.3, TARGET.y, TARGET.z, 1.0, 0.0, 0.0, 0.0,
                         0.98))
        f.t += 50
        rec.feed(ev.Pulse(f.t, f.h, count, 62, 140.0))
        rec.take_rows()  # what the runner does: rows go to the writer, not kept here


def _running_feed() -> Feed:
    f = Feed(prescribed_mso=62)
    f.rec.start(f.h)
    f.status("RUNNING")
    return f


def test_the_recorder_keeps_bounded_containers_over_fifty_thousand_pulses() -> None:
    f = _running_feed()
    _day(f, 1, 50_000)
    rec = f.rec
    assert rec.pulses.recorded == 50_000 and rec.pulses.delivered == 50_000
    assert len(rec.series) > 50_000  # every point counted ...
    assert rec.series.retained <= RECENT + HISTORY  # ... a bounded number kept
    assert rec.pulses.counts_kept <= REPEAT_WINDOW
    assert rec.snapshot().series_len == len(rec.series)


def test_python_memory_does_not_grow_between_ten_and_thirty_thousand_pulses() -> None:
    f = _running_feed()
    tracemalloc.start()
    try:
        _day(f, 1, 10_000)
        gc.collect()
        before = tracemalloc.take_snapshot()
        _day(f, 10_001, 30_000)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grew = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grew < GROWTH_LIMIT_BYTES, f"the recorder grew {grew} bytes over 20,000 pulses"


def test_a_repeat_is_still_a_repeat_and_a_restart_a_restart_after_a_long_run() -> None:
    f = _running_feed()
    _day(f, 1, 3 * REPEAT_WINDOW)
    last = 3 * REPEAT_WINDOW
    f.collect()
    f.events.clear()
    # the last pulse again, at its own device time: the same pulse, kept once
    f.send(ev.Pulse(f.t, f.h, last, 62, 140.0))
    assert f.rec.pulses.repeated == 1 and f.rec.pulses.recorded == last
    # the device counts from 1 again (no HELLO): long forgotten counts are a new run, never dropped
    f.wait(500)
    f.pulse(1)
    f.wait(100)
    f.pulse(2)
    assert [k for k, _ in f.kinds()].count("device_restarted") == 1
    assert f.rec.pulses.recorded == last + 2
    assert [p["count"] for p in f.pulses[-2:]] == [last + 1, last + 2]


def _points(n: int) -> list[SeriesPoint]:
    return [SeriesPoint(i / 10.0, float(i % 13), 62 if i % 2 else None, bool(i % 2)) for i in range(n)]


def test_the_plot_series_keeps_the_series_since_contract() -> None:
    """series[n:] gives exactly len - n points, in time order; the recent ones exact."""
    series = PlotSeries(recent=100, history=50)
    points = _points(1_000)
    for p in points:
        series.append(p)
    assert len(series) == 1_000 and series.retained <= 150
    for n in (0, 1, 37, 500, 899, 900, 950, 999, 1_000):
        got = series[n:]
        assert len(got) == 1_000 - n
        assert [p.t_s for p in got] == sorted(p.t_s for p in got)
        assert all(p in points for p in got)
        if n >= 900:
            assert got == points[n:]
    # a view attached late, then following: no point twice, none missed, the tail exact
    taken = len(series[0:])
    series.append(SeriesPoint(100.0, 1.0, 62, True))
    assert series[taken:] == [SeriesPoint(100.0, 1.0, 62, True)]
    assert list(series)[-1] == SeriesPoint(100.0, 1.0, 62, True)
