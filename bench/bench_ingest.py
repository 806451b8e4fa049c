"""The recording path: pty -> adapter -> recorder -> writer -> committed SQLite rows.

Three figures (goals from issue 4):

- ingest rate: a whole 10 Hz session (3000 pulses, 30 Hz pose, ~72,000
  frames) written into a pseudo-terminal as fast as it will take it, read by
  the real serial adapter and recorded by the real SessionRunner; frames per
  second from the first byte to the moment the session's end is committed
  (goal >= 20,000 frames/s);
- database growth of that 37.5-minute session recorded from the simulator
  (30 Hz pose with the simulator's jitter): goal < 1 MB;
- CPU of the recording path at a real session's rate: the ``record``
  command against the simulator at speed 1 (real time), process CPU time
  over 60 s of the run after start-up, as a share of one core (goal < 3 %).

Run: ``python -m bench ingest`` (about 2 minutes; CPU_SECONDS shortens the
real-time part for a quick look).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.clinic.protocols import preset  # noqa: E402
from console.clinic.records import create_patient, open_course, record_motor_threshold  # noqa: E402
from console.session.plan import plan_session  # noqa: E402
from console.session.runner import SessionRunner  # noqa: E402
from db.database import open_database  # noqa: E402
from devices.registry import create_adapter  # noqa: E402
from tests.engine.capture import TARGET, write_run  # noqa: E402
from tests.engine.clinic_setup import login_for, screen_uneventfully  # noqa: E402

GOAL_FRAMES_PER_S = 20_000
GOAL_GROWTH_BYTES = 1_000_000
GOAL_CPU_SHARE = 0.03
CPU_SECONDS = float(os.environ.get("CPU_SECONDS", "60"))
POSE_KEYS = ("x", "y", "z", "qw", "qx", "qy", "qz")


def new_clinic(db_path: Path, protocol: str) -> None:
    db = open_database(db_path)
    try:
        p = create_patient(db, "BENCH-1", "Bench Patient")
        open_course(db, p.id, protocol, 120.0, target_pose=dict(zip(POSE_KEYS, TARGET, strict=True)))
        record_motor_threshold(db, p.id, 52.0, "EMG")
        screen_uneventfully(db, p.id)  # a course needs a safety screening to start
    finally:
        db.close()


def db_bytes(db_path: Path) -> int:
    """The file's size with the WAL folded in (what the session costs on disk)."""
    db = open_database(db_path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return db_path.stat().st_size + sum(
        p.stat().st_size for p in (Path(f"{db_path}-wal"), Path(f"{db_path}-shm")) if p.exists()
    )


def _blast(master: int, data: bytes, started: list[float]) -> None:
    """After the host's ``ID?``, write ``data`` into the pty master as fast as it drains
    (pyserial's open() flushes what came before); discard what the host sends."""
    heard = b""
    while b"ID?" not in heard:
        heard += os.read(master, 4096)
    view = memoryview(data)
    started.append(time.perf_counter())
    while view:
        readable, writable, _ = select.select([master], [master], [], 1.0)
        if readable:
            os.read(master, 4096)
        if writable:
            n = os.write(master, view[:16384])
            view = view[n:]


def ingest_rate(tmp: Path) -> dict:
    db_path = tmp / "ingest.db"
    new_clinic(db_path, "10hz")
    data = write_run(tmp / "10hz.tscp", preset("10hz")).read_bytes()
    master, slave = os.openpty()
    tty.setraw(slave)
    db = open_database(db_path)
    patient = db.execute("SELECT id FROM patients").fetchone()[0]
    from console.clinic.records import get_patient

    plan = plan_session(db, get_patient(db, patient))
    db.close()
    runner = SessionRunner(db_path, create_adapter(f"tscp+serial://{os.ttyname(slave)}"), plan)
    started: list[float] = []
    writer = threading.Thread(target=_blast, args=(master, data, started), daemon=True)
    writer.start()
    try:
        runner.open()
        runner.start()
        if not runner.wait_until_ended(600):
            raise RuntimeError("the session did not end")
        elapsed = time.perf_counter() - started[0]
        frames = runner.adapter.counters().received
        snap = runner.snapshot()
        writer.join(5)
    finally:
        runner.close()
        os.close(master)
        os.close(slave)
    rate = frames / elapsed
    print(f"ingest: {frames:,} frames in {elapsed:.2f} s = {rate:,.0f} frames/s committed "
          f"(goal {GOAL_FRAMES_PER_S:,}); pulses recorded {snap.pulses_recorded}")
    return {"ingest_frames": frames, "ingest_s": round(elapsed, 3), "ingest_frames_per_s": round(rate),
            "ingest_pulses_recorded": snap.pulses_recorded,
            "ingest_ok": rate >= GOAL_FRAMES_PER_S and snap.pulses_recorded == 3000}


def _record_cmd(db_path: Path, url: str) -> subprocess.Popen:
    user, env = login_for(db_path)  # a technician's account: record says who is asking
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", url, "--patient", "BENCH-1",
         "--db", str(db_path), *user],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )


def growth(tmp: Path) -> dict:
    from devices.sim.process import SimulatorProcess

    db_path = tmp / "growth.db"
    new_clinic(db_path, "10hz")
    before = db_bytes(db_path)
    with SimulatorProcess("10hz", speed=200, pose_hz=30, seed=3) as sim:
        proc = _record_cmd(db_path, sim.url)
        _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"record failed: {err.strip()}")
    after = db_bytes(db_path)
    db = open_database(db_path)
    pulses, poses = (db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("pulses", "poses"))
    db.close()
    grew = after - before
    print(f"growth: a 37.5-minute 10 Hz session at 30 Hz pose adds {grew / 1e6:.3f} MB "
          f"({pulses} pulses, {poses} poses kept; goal < 1 MB)")
    return {"growth_bytes": grew, "growth_pulses": pulses, "growth_poses": poses,
            "growth_ok": grew < GOAL_GROWTH_BYTES and pulses == 3000}


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cpu_share(tmp: Path) -> dict:
    from devices.sim.process import SimulatorProcess

    db_path = tmp / "cpu.db"
    new_clinic(db_path, "10hz")
    with SimulatorProcess("10hz", speed=1, pose_hz=30, seed=4) as sim:
        proc = _record_cmd(db_path, sim.url)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("SESSION"):
                raise RuntimeError(f"record did not start: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(5.0)  # start-up (imports, first commands) is not the recording path
            cpu0, wall0 = _cpu_s(proc.pid), time.monotonic()
            time.sleep(CPU_SECONDS)
            cpu1, wall1 = _cpu_s(proc.pid), time.monotonic()
        finally:
            proc.terminate()
            proc.communicate(timeout=60)
    share = (cpu1 - cpu0) / (wall1 - wall0)
    print(f"cpu: the record command uses {share:.2%} of one core at a real session's rate "
          f"(speed 1, 10 Hz, 30 Hz pose, {wall1 - wall0:.0f} s measured; goal < {GOAL_CPU_SHARE:.0%})")
    return {"cpu_share": round(share, 4), "cpu_measured_s": round(wall1 - wall0, 1),
            "cpu_ok": share < GOAL_CPU_SHARE}


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as d:
        tmp = Path(d)
        figures = ingest_rate(tmp)
        figures.update(growth(tmp))
        figures.update(cpu_share(tmp))
    figures["ok"] = all(v for k, v in figures.items() if k.endswith("_ok"))
    return figures


if __name__ == "__main__":
    print(main())
