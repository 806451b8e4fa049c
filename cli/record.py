"""``record``: record one session from a device into the database, headless.

    python main.py record --device URL --patient CLINIC_ID [--course ID] [--db PATH]
                          [--create-patient] [--technician NAME]

Prints ``SESSION <id>`` as its first line of stdout as soon as the session
exists, records until the device ends the run (EndOfSession), or until
Ctrl-C / SIGTERM (the session is then stopped with reason "operator"), and
exits 0. Anything that prevents recording (an unknown patient, a device that
cannot be reached, an address of an unknown kind, an unusable database)
exits non-zero with one line on stderr. Sessions a crash left in
*recording* are marked *interrupted* first.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from cli.common import add_db_option, db_path_of
from console.clinic.records import create_patient, find_patient
from console.errors import ClinicError
from console.safety.start_gate import pre_start_checks
from console.session.plan import plan_session
from console.session.runner import SessionRunner
from db.database import DatabaseUnusable, open_database
from db.recovery import mark_interrupted_sessions
from devices.adapter import DeviceError
from devices.registry import create_adapter

log = logging.getLogger(__name__)

DEMO_NAME = "Demo Patient"
OPERATOR = "operator"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "record", help="record one session from a device (headless)",
        description="Record one treatment session from a device into the database, without a window.",
    )
    p.add_argument("--device", required=True, metavar="URL",
                   help="device address, e.g. tscp+serial:///dev/ttyUSB0 or sim://")
    p.add_argument("--patient", required=True, metavar="CLINIC_ID", help="the patient's clinic id")
    p.add_argument("--course", type=int, default=None, metavar="ID",
                   help="record against this course (default: the patient's open course)")
    add_db_option(p)
    p.add_argument("--create-patient", action="store_true",
                   help=f"create the patient (named {DEMO_NAME!r}) when the clinic id is unknown")
    p.add_argument("--technician", default=None, metavar="NAME", help="who runs the session")
    p.set_defaults(func=run)


class _Failed(Exception):
    """One line for stderr, and the exit status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def run(args: argparse.Namespace) -> int:
    try:
        return _record(args)
    except _Failed as exc:
        print(f"record: {exc}", file=sys.stderr)
        return exc.status


def _refuse_unsafe_start(db: Any, course_id: int) -> None:
    """The hard safety checks hold headless too: an uncleared contraindication, a missing
    screening or motor threshold, or a protocol outside the clinic's limits without a
    supervisor's signed override refuses the recording (the console's start screen is
    where a person resolves them)."""
    checks = pre_start_checks(db, course_id)
    problems = list(checks.blockers)
    if checks.needs_limit_override:
        problems += [v.message for v in checks.limit_violations]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _Failed(f"This session cannot start: {problems[0]}{more}")


def _record(args: argparse.Namespace) -> int:
    db_path = db_path_of(args)
    try:
        db = open_database(db_path)
    except DatabaseUnusable as exc:
        raise _Failed(str(exc)) from exc
    adapter = None
    try:
        patient = find_patient(db, args.patient)
        if patient is None and not args.create_patient:
            raise _Failed(f"There is no patient with clinic id {args.patient!r} "
                          "(use --create-patient to create a demo patient).")
        # The device before anything is written: a command that cannot record changes nothing.
        try:
            adapter = create_adapter(args.device)
            adapter.open()
        except DeviceError as exc:
            raise _Failed(str(exc)) from exc
        marked = mark_interrupted_sessions(db, db_path)
        if marked:
            log.info("marked %d session(s) interrupted: %s", len(marked), marked)
        if patient is None:
            patient = create_patient(db, args.patient, DEMO_NAME)
        plan = plan_session(db, patient, course_id=args.course, technician=args.technician)
        if plan.course_id is not None:
            _refuse_unsafe_start(db, plan.course_id)
    except BaseException as exc:
        if adapter is not None:
            adapter.close()
        if isinstance(exc, ClinicError):
            raise _Failed(str(exc)) from exc
        raise
    finally:
        db.close()

    stop = threading.Event()
    previous = _on_signals(stop)
    runner = SessionRunner(db_path, adapter, plan)
    try:
        try:
            session_id = runner.open()
        except (DeviceError, DatabaseUnusable) as exc:
            raise _Failed(str(exc)) from exc
        print(f"SESSION {session_id}", flush=True)
        runner.start(by=args.technician)
        asked = False
        while not runner.wait_until_ended(0.1):
            if stop.is_set() and not asked:
                asked = True
                runner.stop(OPERATOR, by=args.technician)
        snap = runner.snapshot()
        print(f"ENDED {snap.end_status} pulses {snap.pulses_recorded}/{snap.pulses_delivered}"
              + (f" ({snap.end_reason})" if snap.end_reason else ""), flush=True)
    finally:
        runner.close(OPERATOR)
        _restore_signals(previous)
    return 0


def _on_signals(stop: threading.Event) -> dict[int, Any]:
    """Ctrl-C and SIGTERM ask for a clean stop (the record ends as stopped, "operator")."""

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
