"""Issue 17: each pulse keeps the pose nearest before it and that pose's age; a pose older than the
clinic's limit marks the pulse "pose unknown", never a guessed position. With a separate tracker, a
pose read just after a pulse but taken before it still counts as before it; one taken after it
never does."""

from __future__ import annotations

from devices import events as ev
from tests.engine.feed import TARGET, Feed


def _started(feed: Feed) -> None:
    feed.status("IDLE")
    feed.rec.start(feed.h)
    feed.train(1, "START", 10)


def test_the_pose_nearest_before_the_pulse_with_its_age() -> None:
    feed = Feed(pose_max_age_ms=100)
    _started(feed)
    feed.pose(dx=1.0)
    feed.wait(30)
    feed.pose(dx=2.0)
    feed.wait(12)
    feed.pulse(1)
    [row] = feed.pulses
    assert row["x"] == TARGET.x + 2.0 and row["pose_age_ms"] == 12


def test_a_pose_taken_after_the_pulse_is_never_its_pose() -> None:
    feed = Feed(pose_max_age_ms=100)
    _started(feed)
    feed.pose(dx=1.0)  # at t
    feed.wait(40)
    # a separate tracker's pose taken at t+40 arrives before the pulse fired at t+20
    feed.send(ev.Pose(feed.t, feed.h, TARGET.x + 9.0, TARGET.y, TARGET.z, 1.0, 0.0, 0.0, 0.0, 0.98))
    feed.send(ev.Pulse(feed.t - 20, feed.h, 1, 62, 140.0))
    [row] = feed.pulses
    assert row["x"] == TARGET.x + 1.0 and row["pose_age_ms"] == 20


def test_a_pose_older_than_the_limit_is_pose_unknown() -> None:
    feed = Feed(pose_max_age_ms=100)
    _started(feed)
    feed.pose()
    feed.wait(101)
    feed.pulse(1)
    feed.pose()
    feed.wait(100)
    feed.pulse(2)
    first, second = feed.pulses
    assert (first["x"], first["pose_age_ms"], first["on_target"]) == (None, None, None)
    assert second["x"] == TARGET.x and second["pose_age_ms"] == 100 and second["on_target"] == 1


def test_the_coil_not_seen_at_the_last_frame_is_no_pose() -> None:
    feed = Feed(pose_max_age_ms=100)
    _started(feed)
    feed.pose()
    feed.wait(10)
    feed.pose(visible=False)
    feed.wait(10)
    feed.pulse(1)
    [row] = feed.pulses
    assert row["x"] is None and row["pose_age_ms"] is None
