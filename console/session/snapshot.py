"""What the live view shows, as one immutable snapshot.

The session runner builds a LiveSnapshot from the recorder's state at most
30 times a second; the UI only ever reads snapshots (never one signal per
device frame). Plot series are not copied into each snapshot: the snapshot
says how many points exist (``series_len``) and the UI asks the runner for
the points after the ones it already has (``SessionRunner.series_since``).

Every field is named and typed, and a snapshot never changes once built: the
recorder's fields come from ``live_view.build_snapshot``, the runner's own
(storage and command problems) are added with ``dataclasses.replace``, which
makes a new snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Alarm(NamedTuple):
    """An alarm the technician must notice; ``kind`` is one of ALARM_KINDS."""

    kind: str
    message: str
    since_host_t: float


ALARM_KINDS = ("off_target", "tracker_lost", "device_fault", "device_lost", "intensity")


class SeriesPoint(NamedTuple):
    """One point of the live plots: session seconds, distance (mm), intensity (% MSO);
    a pulse's ``on_target`` (the same rule as the alarm; None without a pose)."""

    t_s: float
    distance_mm: float | None
    mso: int | None
    is_pulse: bool
    on_target: bool | None = None


@dataclass(frozen=True)
class LiveSnapshot:
    """Everything the technician sees at one instant of a session."""

    session_id: int | None = None
    state: str = "ready"  # ready, armed, running, paused, ended, interrupted
    end_status: str | None = None  # completed, stopped, aborted (when state == "ended")
    end_reason: str | None = None
    device_connected: bool = False
    device_state: str | None = None  # IDLE, ARMED, RUNNING, PAUSED, FAULT
    device_label: str | None = None  # "Acme Neuro SIM-1 SN0001"
    device_model: str | None = None  # the model the device named (its safety limits may be its own)
    coil_type: str | None = None  # the coil the device reports (None: it names none)
    protocol_name: str | None = None
    pulses_delivered: int = 0
    pulses_observed: bool = True  # False: the device cannot report each pulse (counts say nothing)
    pulses_recorded: int = 0
    pulses_planned: int | None = None
    train: int = 0
    trains_planned: int | None = None
    mso: int | None = None
    prescribed_mso: int | None = None
    mt_mso: float | None = None
    percent_mt: float | None = None  # current intensity as % of MT
    elapsed_s: float = 0.0
    remaining_s: float | None = None
    pose_visible: bool = False
    offset_x_mm: float | None = None  # coil offset from the target in the target's frame
    offset_y_mm: float | None = None
    depth_mm: float | None = None
    distance_mm: float | None = None
    angle_deg: float | None = None
    zone: str = "none"  # on (within tolerance), off, none (no pose): session_alarms.pose_zone
    tol_distance_mm: float = 3.0
    tol_angle_deg: float = 3.0
    on_target_share: float | None = None  # pulses on target / pulses with a pose
    faults_active: tuple[str, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    frames_received: int = 0
    frames_rejected: int = 0
    frames_missing: int = 0
    faults: int = 0
    pauses: int = 0
    series_len: int = 0
    stopping: bool = False  # an end was asked; waiting for the device's end of session
    pause_reason: str | None = None  # why it is paused: the console's reason, a fault, the device's own
    alarms_acknowledged: tuple[str, ...] = ()  # active alarms the technician has acknowledged
    pulses_repeated: int = 0  # counts the device reported again (kept once)
    coil_temp_c: float | None = None
    pose_quality: float = 0.0  # the tracker's quality of the last pose (0 = not seen)
    pose_host_t: float | None = None  # host monotonic time the last pose was read (latency figures)
    target_tracked: bool = True  # False: the course has no target pose (placed by a rule, e.g. 5.5 cm)
    protocol_confirmed: bool = True  # the device has reported the course's protocol: Start may be pressed
    # (build_snapshot always says which; a snapshot built without a recorder has no protocol to wait for)
    stopping_at_panel: bool = False  # Stop pressed on a device the console cannot stop: at its panel
    course_protocol: str | None = None  # the protocol the course prescribes (protocol_name: the device's)
    # from the runner, not the recorder
    unsaved_rows: int = 0  # rows handed to the writer and not yet committed
    storage_error: str | None = None  # saving to the database failed: the words to show
    command_error: str | None = None  # the last device command failed: the words to show
