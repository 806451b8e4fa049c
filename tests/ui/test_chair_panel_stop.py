"""Stop on a device the console cannot stop (issue 20, item 1): the technician stops it at its
own panel; the record keeps its last pulses and notes when they ceased.

The recorder alone, fed a device's events by the clock (tests.engine.feed)."""

from __future__ import annotations

import json

from console.clinic.protocols import ProtocolSpec
from tests.engine.feed import CLOCK, Feed

ITBS = ProtocolSpec("iTBS left DLPFC", 5.0, 30, 20, 8.0, 3)


def _running() -> Feed:
    feed = Feed(protocol=ITBS, prescribed_mso=62)
    feed.status("RUNNING")
    feed.train(1, "START", 0)
    for count in range(1, 11):
        feed.pose()
        feed.pulse(count)
        feed.wait(67)
    return feed


def test_the_record_stays_open_until_the_pulses_cease_and_notes_when(qtbot) -> None:
    feed = _running()
    rec = feed.rec
    rec.stop(feed.h, None, by="tina", wait_for_device=True)
    rec.watch_panel_stop(feed.h)
    pressed = feed.h
    assert rec.snapshot().stopping_at_panel
    for count in range(11, 21):  # the device goes on until it is stopped at its panel
        feed.wait(67)
        feed.pulse(count)
    last = feed.h
    quiet = rec.config.stop_grace_s + ITBS.iti_s
    rec.tick(last + quiet - 0.5)
    assert not rec.ended  # a pause between trains is not the end
    rec.tick(last + quiet + 0.1)
    feed.collect()
    assert rec.ended and rec.end_status == "stopped" and rec.end_reason is None
    assert rec.pulses.recorded == 20 and rec.pulses.after_end == 0  # none lost
    end = json.loads(next(e["detail"] for e in feed.events if e["kind"] == "end"))
    assert end["stopped_at_panel"] is True and end["pulses_after_stop"] == 10
    assert end["pulses_ceased_at"] == CLOCK.iso(last) and end["pulses_ceased_at"] > CLOCK.iso(pressed)
    assert "pulses_still_arriving" not in end


def test_the_reason_given_while_it_is_stopping_becomes_the_end_reason(qtbot) -> None:
    feed = _running()
    rec = feed.rec
    rec.stop(feed.h, None, by="tina", wait_for_device=True)
    rec.watch_panel_stop(feed.h)
    rec.reason_given(feed.h + 1, "stopped", "Patient asked to stop", by="tina")
    rec.tick(feed.h + 60)
    feed.collect()
    assert rec.ended and rec.end_reason == "Patient asked to stop"
    reason = next(e for e in feed.events if e["kind"] == "reason")
    assert json.loads(reason["detail"])["pressed_at"] == CLOCK.iso(feed.h)
