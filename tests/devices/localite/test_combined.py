"""The Navigator as the tracker of a two-device session (devices.combined): read beside the
simulated MagPro on a real pty, its poses reach the session between the stimulator's pulses, and
its own di/dt pulses and amplitude are not counted twice."""

from __future__ import annotations

from devices import events as ev
from devices.combined import CombinedAdapter
from devices.localite.adapter import from_url as localite_url
from devices.localite.sim.process import NavigatorProcess
from devices.magventure.adapter import from_url as magventure_url
from devices.magventure.sim.process import MagProProcess

from ..magventure.support import collect, drain, n_pulses


def test_every_stimulator_pulse_follows_a_navigator_pose_and_only_its_pulses_count() -> None:
    with NavigatorProcess("--speed", "1", "--pulse-hz", "5", "--amplitude", "30") as nav, \
            MagProProcess("--protocol", "itbs", "--speed", "20", "--autostart", "--mso", "62") as magpro:
        tracker = localite_url(f"{nav.url}?poll_hz=20")
        session = CombinedAdapter(magventure_url(magpro.url), tracker)
        session.open()
        try:
            events = collect(session, n_pulses(60), timeout=120)
        finally:
            session.close()
        events += drain(session)
    assert session.tracker_identity is not None and session.tracker_identity.vendor == "Localite"
    assert session.identity is not None and session.identity.vendor == "MagVenture"
    pulses = [e for e in events if isinstance(e, ev.Pulse)]
    assert [p.count for p in pulses][:60] == list(range(1, 61))  # the MagPro's, once each
    assert {p.mso for p in pulses} == {62}  # none of Navigator's (at 30 %)
    assert {e.mso for e in events if isinstance(e, ev.Intensity)} <= {62}
    first_pulse = events.index(pulses[0])
    assert any(isinstance(e, ev.Pose) and e.visible for e in events[:first_pulse])
    assert not [e for e in events if isinstance(e, ev.Fault)]
