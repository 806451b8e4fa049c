"""SessionRecorder fed with device event sequences: state, record rows, alarms, summary."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.clinic.protocols import ProtocolSpec
from console.session.recording_terms import InvalidAction
from devices import events as ev

from .feed import Feed

ITBS = ProtocolSpec("iTBS left DLPFC", 5, 30, 20, 8, 3)


def run_train(f: Feed, train: int, first: int, n: int, step_ms: int = 100) -> None:
    f.train(train, "START", n)
    for c in range(first, first + n):
        f.pose()
        f.pulse(c)
        f.wait(step_ms)
    f.train(train, "END", n)


# ---------------------------------------------------------------- state machine

def test_a_full_run_goes_ready_armed_running_completed() -> None:
    f = Feed(prescribed_mso=62, mt_mso=52.0, percent_mt=120.0)
    assert f.rec.state == "ready"
    f.status("IDLE")
    f.rec.start(f.h, by="tech")
    assert f.rec.state == "armed"
    run_train(f, 1, 1, 30)
    assert f.rec.state == "running"
    f.wait(8000)
    run_train(f, 2, 31, 30)
    f.eos(60)
    assert f.rec.state == "ended"
    assert (f.rec.end_status, f.rec.end_reason) == ("completed", None)
    final = f.rec.final_changes()
    assert final["status"] == "completed"
    assert final["pulses_delivered"] == final["pulses_recorded"] == 60
    assert final["trains_delivered"] == 2
    assert final["pulses_on_target"] == 60
    assert final["ended_at"].startswith("2026-03-02T09:")
    assert len(f.pulses) == 60 and [p["count"] for p in f.pulses] == list(range(1, 61))
    assert {p["train"] for p in f.pulses[:30]} == {1} and {p["train"] for p in f.pulses[30:]} == {2}
    assert f.kinds()[-1] == ("end", "completed")


def test_a_device_started_from_its_own_panel_is_recorded_without_start() -> None:
    f = Feed()
    f.pulse(1)
    assert f.rec.state == "running"
    assert f.detail("run_started")[0]["started_at"] == "device"
    assert len(f.pulses) == 1


def test_device_pause_and_resume_follow_the_status_edges() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    assert f.rec.state == "running"
    f.status("PAUSED")
    f.status("PAUSED")
    assert f.rec.state == "paused" and f.rec.pauses == 1
    f.status("RUNNING")
    assert f.rec.state == "running"
    assert f.kinds("pause") == [("pause", None)] and f.kinds("resume") == [("resume", None)]
    assert f.detail("pause")[0]["source"] == "device"


def test_a_fault_that_halts_the_run_is_a_pause_with_its_cause() -> None:
    f = Feed()
    f.status("RUNNING")
    f.pulse(1)
    f.send(ev.Fault(f.t, f.h, "COIL_OVERTEMP", None))
    f.status("FAULT")
    assert f.rec.state == "paused" and f.rec.pauses == 1
    # in plain words (issue 14, item 10); the code stays in the fault event
    assert f.detail("pause") == [{"reason": "The device stopped: the coil became too warm",
                                  "source": "device"}]
    f.send(ev.Cleared(f.t, f.h, "COIL_OVERTEMP"))
    f.status("RUNNING")
    assert f.rec.state == "running"


def test_console_pause_is_not_undone_by_a_stale_running_status() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    f.rec.pause(f.h, "Patient asked to pause", by="tech")
    f.status("RUNNING")  # sent before the device took the PAUSE
    assert f.rec.state == "paused"
    f.status("PAUSED")
    assert f.rec.pauses == 1
    f.rec.resume(f.h, by="tech")
    f.status("PAUSED")  # stale again
    assert f.rec.state == "running"
    assert f.detail("pause")[0]["reason"] == "Patient asked to pause"
    assert f.events[-1]["by_user"] == "tech"


def test_the_snapshot_says_why_the_session_is_paused_whoever_paused_it() -> None:
    """The technician sees the reason of the pause now in effect: theirs, the device's
    own pause at its panel, or the fault that halted the run; none once it runs again."""
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    f.rec.pause(f.h, "Patient sneezing", by="tech")
    f.status("PAUSED")
    assert f.rec.snapshot().pause_reason == "Patient sneezing"
    f.rec.resume(f.h, by="tech")
    f.wait(4000)  # past the echo of the console's pause
    f.status("RUNNING")
    assert f.rec.snapshot().pause_reason is None
    f.status("PAUSED")  # paused at the device's own panel
    assert f.rec.state == "paused" and f.rec.snapshot().pause_reason == "Paused at the device"
    f.status("RUNNING")
    f.send(ev.Fault(f.t, f.h, "COIL_OVERTEMP", None))
    f.status("FAULT")
    assert f.rec.snapshot().pause_reason == "The device stopped: the coil became too warm"


def test_a_snapshot_is_typed_and_never_changes() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    snap = f.rec.snapshot()
    assert not hasattr(snap, "extra")
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.state = "ended"  # type: ignore[misc]
    f.rec.stop(f.h, "Patient asked to stop", by="tech")
    assert snap.stopping is False and f.rec.snapshot().stopping is True


def test_stop_waits_for_the_device_and_keeps_pulses_in_flight() -> None:
    f = Feed()
    f.rec.start(f.h)
    run_train(f, 1, 1, 10)
    f.rec.stop(f.h, "Patient asked to stop", by="tech")
    assert f.rec.state == "running" and f.rec.stopping
    f.pulse(11)
    f.eos(11, "STOPPED")
    assert (f.rec.end_status, f.rec.end_reason) == ("stopped", "Patient asked to stop")
    assert len(f.pulses) == 11
    assert f.events[-1]["by_user"] == "tech"


def test_stop_without_an_answer_ends_after_the_grace_time() -> None:
    f = Feed(stop_grace_s=2.0)
    f.rec.start(f.h)
    f.pulse(1)
    f.rec.stop(f.h, "operator")
    f.rec.tick(f.h + 1.0)
    assert not f.rec.ended
    f.rec.tick(f.h + 2.5)
    f.collect()
    assert (f.rec.end_status, f.rec.end_reason) == ("stopped", "operator")


def test_abort_is_recorded_as_aborted_with_its_reason_and_not_softened() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.pulse(1)
    f.rec.abort(f.h, "Seizure", by="tech")
    f.rec.stop(f.h, "operator")
    f.eos(1, "STOPPED")
    assert (f.rec.end_status, f.rec.end_reason) == ("aborted", "Seizure")


def test_stop_before_any_pulse_ends_at_once() -> None:
    f = Feed()
    f.rec.stop(f.h, "Patient did not attend")
    f.collect()
    assert f.rec.ended and f.rec.final_changes()["duration_s"] is None


def test_end_of_stream_without_eos_is_stopped_with_the_given_reason() -> None:
    f = Feed()
    f.pulse(1)
    f.rec.close(f.h, "device closed")
    f.collect()
    assert (f.rec.end_status, f.rec.end_reason) == ("stopped", "device closed")


def test_eos_stopped_at_the_device_says_so() -> None:
    f = Feed()
    f.pulse(1)
    f.eos(1, "STOPPED")
    assert (f.rec.end_status, f.rec.end_reason) == ("stopped", "stopped at the device")


def test_actions_that_do_not_fit_the_state_are_refused_clearly() -> None:
    f = Feed()
    with pytest.raises(InvalidAction, match="pause"):
        f.rec.pause(f.h, "x")
    f.rec.start(f.h)
    with pytest.raises(InvalidAction, match="start"):
        f.rec.start(f.h)
    with pytest.raises(InvalidAction, match="reason"):
        f.rec.stop(f.h, "  ")
    f.rec.stop(f.h, "operator")
    with pytest.raises(InvalidAction, match="ended"):
        f.rec.abort(f.h, "x")


def test_an_eos_before_the_session_started_is_not_this_session_s_end() -> None:
    f = Feed()
    f.eos(3000)
    assert f.rec.state == "ready" and f.rec.pulses_delivered == 0


def test_pulses_after_the_end_are_not_added_to_a_closed_record() -> None:
    f = Feed()
    f.pulse(1)
    f.eos(1)
    f.pulse(2)
    assert len(f.pulses) == 1 and f.rec.pulses.after_end == 1


# ---------------------------------------------------------------- pulses

def test_a_repeated_pulse_count_is_stored_once() -> None:
    f = Feed()
    for c in (1, 2, 2, 3, 1):
        f.pulse(c)
    assert [p["count"] for p in f.pulses] == [1, 2, 3]
    assert f.rec.pulses.repeated == 2 and f.rec.snapshot().pulses_repeated == 2
    assert [d["count"] for d in f.detail("pulse_repeated")] == [2, 1]


def restarted_device(f: Feed, *, hello: bool, first: int = 1, clock_from: int = 200) -> None:
    """50 pulses, the device restarts (clock and count begin again), then its pulses first..50."""
    f.rec.start(f.h)
    run_train(f, 1, 1, 50)
    if hello:
        f.send(ev.Hello(None, f.h, "TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0"))
    host_ms = f.t
    for c in range(first, 51):
        t = clock_from + 100 * c
        f.send(ev.Pose(t, (host_ms + 100 * c) / 1000, -42.0, 38.0, 61.0, 1.0, 0.0, 0.0, 0.0, 0.98))
        f.send(ev.Pulse(t, (host_ms + 100 * c) / 1000, c, 62, 140.0))


@pytest.mark.parametrize("hello", [True, False])
def test_a_device_restart_is_a_new_segment_and_keeps_every_pulse(hello: bool) -> None:
    f = Feed(prescribed_mso=62)
    restarted_device(f, hello=hello)
    assert [p["count"] for p in f.pulses] == list(range(1, 101))
    assert [p["device_t_ms"] for p in f.pulses[50:52]] == [300, 400]
    assert f.detail("device_restarted") == [{"segment": 1, "count_offset": 50, "previous_run_pulses": 50}]
    assert f.rec.pulses.repeated == 0 and not f.kinds("pulse_repeated") and not f.kinds("pulses_missing")
    f.send(ev.EndOfSession(5300, 6.0, 50, "COMPLETE"))
    s = f.rec.final_changes()
    assert (s["status"], s["pulses_delivered"], s["pulses_recorded"]) == ("completed", 100, 100)
    assert s["duration_s"] == pytest.approx(9.9, abs=0.2)  # device time runs on across the restart


def test_gaps_and_repeats_are_judged_within_the_new_segment() -> None:
    f = Feed(prescribed_mso=62)
    restarted_device(f, hello=True, first=3)
    assert [p["count"] for p in f.pulses] == [*range(1, 51), *range(53, 101)]
    assert f.detail("pulses_missing") == [{"first": 51, "last": 52, "pulses": 2}]
    f.send(ev.Pulse(200 + 100 * 50, 9.0, 50, 62, 140.0))  # the last pulse again, at its own time
    assert f.rec.pulses.repeated == 1 and f.detail("pulse_repeated")[0]["count"] == 100
    assert len(f.pulses) == 98 and len(f.kinds("device_restarted")) == 1


def test_a_hello_on_reconnect_with_the_count_running_on_is_no_new_segment() -> None:
    f = Feed(prescribed_mso=62)
    f.rec.start(f.h)
    run_train(f, 1, 1, 20)
    f.send(ev.Hello(None, f.h, "TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0"))
    run_train(f, 2, 21, 20)
    assert [p["count"] for p in f.pulses] == list(range(1, 41)) and not f.kinds("device_restarted")


def test_gaps_in_the_count_are_reported_and_delivered_is_the_device_count() -> None:
    f = Feed()
    for c in (1, 2, 5):
        f.pulse(c)
    f.eos(8)
    assert f.detail("pulses_missing") == [
        {"first": 3, "last": 4, "pulses": 2},
        {"first": 6, "last": 8, "pulses": 3},
    ]
    s = f.rec.summary()
    assert (s["pulses_delivered"], s["pulses_recorded"]) == (8, 3)


def test_pulses_lost_during_an_outage_are_marked_so() -> None:
    f = Feed()
    f.pulse(1)
    f.send(ev.DeviceLost(None, f.h, "no data for 2 s"))
    assert "device_lost" in {a.kind for a in f.rec.alarms.values()}
    f.wait(3000)
    f.send(ev.DeviceRestored(None, f.h))
    f.pulse(6)
    assert f.detail("pulses_missing") == [{"first": 2, "last": 5, "pulses": 4, "during_outage": True}]
    assert ("device_lost", None) in f.kinds() and ("device_restored", None) in f.kinds()
    assert not f.rec.alarms


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 60), max_size=80), st.integers(0, 70))
def test_any_count_sequence_stores_each_pulse_once_and_accounts_for_the_rest(counts, eos) -> None:
    f = Feed()
    f.rec.start(f.h)
    for c in counts:
        f.pulse(c)
    f.eos(eos)
    stored = [p["count"] for p in f.pulses]
    assert len(stored) == len(set(stored)) == len(set(counts))
    delivered = max([*counts, eos, 0])
    s = f.rec.summary() if not f.rec.ended else f.rec.final_changes()
    assert s["pulses_delivered"] == delivered
    # every count up to the highest seen is either stored or inside a reported gap
    # (a late, out-of-order count may fill a gap reported earlier)
    gaps = set()
    for d in f.detail("pulses_missing"):
        gaps.update(range(d["first"], d["last"] + 1))
    assert set(range(1, delivered + 1)) <= set(stored) | gaps


# ---------------------------------------------------------------- pose and target

def test_each_pulse_carries_its_pose_distance_angle_and_on_target() -> None:
    f = Feed(tol_distance_mm=3.0, tol_angle_deg=3.0)
    f.pose(dx=2.0)
    f.pulse(1)
    f.pose(dx=4.0)
    f.pulse(2)
    tilt = (0.99966, 0.0, 0.02618, 0.0)  # 3.0 deg about y
    f.pose(q=tilt)
    f.pulse(3)
    f.pose(visible=False)
    f.pulse(4)
    p = f.pulses
    assert (p[0]["distance_mm"], p[0]["on_target"]) == (2.0, 1)
    assert p[0]["x"] == pytest.approx(-40.0)
    assert (p[1]["distance_mm"], p[1]["on_target"]) == (4.0, 0)
    assert p[2]["angle_deg"] == pytest.approx(3.0, abs=0.01)
    assert p[3]["x"] is None and p[3]["on_target"] is None and p[3]["distance_mm"] is None
    s = f.rec.summary()
    assert s["pulses_on_target"] == 2 - (p[2]["on_target"] == 0)
    assert s["max_distance_mm"] == 4.0


def test_a_stale_pose_is_not_used_for_a_pulse() -> None:
    f = Feed()
    f.pose()
    f.wait(1500)
    f.pulse(1)
    assert f.pulses[0]["x"] is None


def test_without_a_target_pulses_keep_the_pose_but_no_on_target() -> None:
    f = Feed(target=None)
    f.pose(dx=1.0)
    f.pulse(1)
    assert f.pulses[0]["x"] == pytest.approx(-41.0) and f.pulses[0]["on_target"] is None
    assert f.rec.summary()["pulses_on_target"] is None


def test_pose_is_thinned_to_changes_and_one_a_second() -> None:
    f = Feed()
    for i in range(300):  # 10 s at 30 Hz, jitter well under 0.5 mm
        f.pose(dx=0.1 * (i % 3))
        f.wait(33)
    assert 10 <= len(f.poses) <= 12
    gaps = [b["device_t_ms"] - a["device_t_ms"] for a, b in zip(f.poses, f.poses[1:], strict=False)]
    assert max(gaps) <= 1000 + 33


def test_pose_moves_and_visibility_changes_are_kept() -> None:
    f = Feed()
    for i in range(10):
        f.pose(dx=0.6 * i)
        f.wait(33)
    assert len(f.poses) == 10
    f.pose(visible=False)
    f.wait(33)
    f.pose(visible=False)
    f.wait(33)
    f.pose(dx=5.4)
    assert len(f.poses) == 12
    assert f.poses[10]["x"] is None and f.poses[10]["quality"] == 0.0
    assert [p["idx"] for p in f.poses] == list(range(12))


def test_a_small_turn_is_a_change_too() -> None:
    f = Feed()
    f.pose()
    f.wait(33)
    f.pose(q=(0.99996, 0.0, 0.0, 0.00873))  # 1 deg about z
    assert len(f.poses) == 2


# ---------------------------------------------------------------- alarms

def test_off_target_alarm_after_more_than_a_second_of_device_time() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    for _ in range(30):  # 0.99 s off target: no alarm
        f.pose(dx=7.0)
        f.wait(33)
    assert "off_target" not in f.rec.alarms
    f.pose()
    for _ in range(40):
        f.pose(dx=7.0)
        f.wait(33)
    assert "off_target" in f.rec.alarms
    assert f.rec.snapshot().zone == "off"
    f.rec.acknowledge(f.h, "off_target", by="tech")
    assert f.rec.snapshot().alarms_acknowledged == ("off_target",)
    f.pose(dx=1.0)
    assert "off_target" not in f.rec.alarms
    raised = f.detail("alarm", "off_target")
    assert [d["raised"] for d in raised] == [True, False]
    assert ("alarm_ack", "off_target") in f.kinds()


def test_no_off_target_alarm_before_the_run_or_while_paused() -> None:
    f = Feed()
    for _ in range(60):
        f.pose(dx=9.0)
        f.wait(33)
    assert not f.rec.alarms
    f.pulse(1)
    f.rec.pause(f.h, "Coil repositioning")
    for _ in range(60):
        f.pose(dx=9.0)
        f.wait(33)
    assert "off_target" not in f.rec.alarms


def test_tracker_lost_alarm_and_clear() -> None:
    f = Feed()
    f.pose()
    f.pulse(1)
    for _ in range(20):
        f.pose(visible=False)
        f.wait(33)
    assert "tracker_lost" in f.rec.alarms
    assert f.rec.snapshot().pose_visible is False and f.rec.snapshot().zone == "none"
    f.pose()
    assert "tracker_lost" not in f.rec.alarms


def test_pose_frames_that_stop_coming_raise_tracker_lost() -> None:
    f = Feed()
    f.pose()
    f.pulse(1)
    for c in range(2, 20):
        f.wait(100)
        f.pulse(c)
    assert "tracker_lost" in f.rec.alarms


def test_a_device_fault_is_counted_once_alarmed_and_cleared() -> None:
    f = Feed()
    f.pulse(1)
    f.send(ev.Fault(f.t, f.h, "COIL_OVERTEMP", "coil 41 C"))
    f.send(ev.Fault(f.t, f.h, "COIL_OVERTEMP", "coil 41 C"))
    assert f.rec.device.faults == 1 and f.rec.snapshot().faults_active == ("COIL_OVERTEMP",)
    assert "device_fault" in f.rec.alarms
    f.send(ev.Cleared(f.t, f.h, "COIL_OVERTEMP"))
    assert not f.rec.alarms
    assert f.kinds("fault") == [("fault", "COIL_OVERTEMP")]
    assert f.kinds("clear") == [("clear", "COIL_OVERTEMP")]


def test_intensity_changes_are_events_and_off_prescription_is_an_alarm() -> None:
    f = Feed(prescribed_mso=62, mt_mso=52.0)
    f.status("IDLE", mso=62)
    f.pulse(1, mso=62)
    assert "intensity" not in f.rec.alarms
    f.send(ev.Intensity(f.t, f.h, 70))
    assert "intensity" in f.rec.alarms
    assert f.detail("intensity")[-1] == {"mso": 70, "prescribed_mso": 62, "percent_mt": 134.6}
    assert f.rec.snapshot().percent_mt == 134.6
    f.send(ev.Intensity(f.t, f.h, 62))
    assert "intensity" not in f.rec.alarms


def test_all_alarms_clear_when_the_session_ends() -> None:
    f = Feed()
    f.pulse(1)
    f.send(ev.Fault(f.t, f.h, "INTERLOCK", None))
    f.eos(1, "STOPPED")
    assert not f.rec.alarms
    assert [d["raised"] for d in f.detail("alarm", "device_fault")] == [True, False]


# ---------------------------------------------------------------- notes, summary, live view

def test_notes_and_side_effects_are_events_with_validated_input() -> None:
    f = Feed()
    f.rec.note(f.h, "  Patient said the clicks were loud ", by="tech")
    f.rec.side_effect(f.h, "headache", 3, "mild, frontal", by="tech")
    f.collect()
    assert f.detail("note") == [{"text": "Patient said the clicks were loud"}]
    assert f.detail("side_effect", "headache") == [{"rating": 3, "note": "mild, frontal"}]
    for bad in (11, -1, 2.5, True):
        with pytest.raises(InvalidAction):
            f.rec.side_effect(f.h, "headache", bad)
    with pytest.raises(InvalidAction):
        f.rec.note(f.h, " ")


def test_protocol_and_identity_reach_the_summary() -> None:
    f = Feed()
    f.send(ev.Hello(None, f.h, "TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0"))
    f.send(ev.ProtocolLoaded(f.t, f.h, *ITBS))
    f.send(ev.ProtocolLoaded(f.t, f.h, *ITBS))
    s = f.rec.summary()
    assert s["pulses_planned"] == 600 and s["protocol"] == "iTBS left DLPFC"
    assert s["device_serial"] == "SN0001"
    assert len(f.kinds("protocol")) == 1
    assert f.rec.snapshot().device_label == "Acme Neuro SIM-1 SN0001"


def test_snapshot_and_series_follow_the_run() -> None:
    f = Feed(protocol=ITBS, prescribed_mso=62)
    f.rec.start(f.h)
    run_train(f, 1, 1, 30, step_ms=66)
    f.rec.set_link_counters(500, 2, 1)
    snap = f.rec.snapshot()
    assert snap.state == "running" and snap.pulses_delivered == 30 and snap.train == 1
    assert snap.trains_planned == 20 and snap.pulses_planned == 600
    assert snap.zone == "on" and snap.on_target_share == 1.0
    assert (snap.frames_received, snap.frames_rejected, snap.frames_missing) == (500, 2, 1)
    assert snap.remaining_s == pytest.approx(192 - 2, abs=0.01)
    pulse_points = [p for p in f.rec.series if p.is_pulse]
    assert len(pulse_points) == 30 and pulse_points[0].mso == 62
    assert snap.series_len == len(f.rec.series)
    times = [p.t_s for p in f.rec.series]
    assert times == sorted(times)


def test_device_time_wrapping_at_32_bits_keeps_durations_right() -> None:
    f = Feed()
    f.t = 2**32 - 500
    f.pulse(1)
    f.t = 500  # wrapped
    f.pulse(2)
    f.eos(2)
    assert f.rec.final_changes()["duration_s"] == 1.0


def test_a_quick_console_pause_and_resume_is_one_pause_when_the_device_obeys_late() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    f.rec.pause(f.h, "adjusting the coil", by="tech")
    f.wait(200)
    f.rec.resume(f.h, by="tech")
    f.wait(100)
    f.status("PAUSED")  # the device obeys PAUSE after the console already resumed
    f.wait(300)
    f.status("RUNNING")  # ... and RESUME
    assert f.rec.state == "running" and f.rec.pauses == 1
    assert [d["source"] for d in f.detail("pause")] == ["console"]


def test_a_device_pause_long_after_a_console_pause_is_its_own() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    f.rec.pause(f.h, "adjusting the coil", by="tech")
    f.status("PAUSED")
    f.rec.resume(f.h, by="tech")
    f.status("RUNNING")
    f.wait(60_000)
    f.status("PAUSED")  # the technician paused at the device's own panel
    assert f.rec.state == "paused" and f.rec.pauses == 2
    assert [d["source"] for d in f.detail("pause")] == ["console", "device"]
