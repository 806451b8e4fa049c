"""``record``: record one session from a device into the database, headless.

    python main.py record --device URL --patient CLINIC_ID [--course ID] [--db PATH]
                          [--create-patient] [--technician NAME]

Prints ``SESSION <id>`` as its first line of stdout as soon as the session
exists, records until the device ends the run (EndOfSession), until a
replayed capture has no more events (stopped, with reason
:data:`CAPTURE_ENDED`), or until Ctrl-C / SIGTERM (the session is then
stopped with reason "operator"), and exits 0. Anything that prevents
recording (an unknown patient, a device that cannot be reached or a capture
with no device events in it, an address of an unknown kind, an unusable
database, the start gate of console.safety.start_gate: the chair's rules, in
its words) exits non-zero with one line on stderr. Sessions a crash left in
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
from console.safety.overrides import attach_to_session
from console.safety.start_gate import gate_for_course
from console.session.plan import plan_session
from console.session.recording_terms import InvalidAction
from console.session.runner import SessionRunner
from db.database import DatabaseUnusable, open_database
from db.recovery import mark_interrupted_sessions
from devices.adapter import DeviceError
from devices.registry import create_adapter

log = logging.getLogger(__name__)

DEMO_NAME = "Demo Patient"
OPERATOR = "operator"
CAPTURE_ENDED = "the capture ended before the device ended the run"


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


def _gate(db: Any, course_id: int) -> list[int]:
    """The start gate the chair uses, headless: a blocker, or a supervisor's signed override not yet
    given, refuses the recording in the gate's words (the console's start screen is where a person
    resolves them). A reason the chair asks of the technician (an early start) cannot be asked here:
    it is logged, as the headless record always did. Returns the overrides to link to the session."""
    gate = gate_for_course(db, course_id)
    problems = gate.blocker_messages + [need.summary() for need in gate.pending if need.kind.signed]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _Failed(f"This session cannot start: {problems[0]}{more}")
    for need in gate.pending:
        log.warning("recording without %s (not asked headless): %s", need.kind.what, need.problems[0])
    return gate.override_ids


def _link_overrides(db_path: Any, override_ids: list[int], session_id: int) -> None:
    """The overrides that let this session start go with its record (and cover no later session)."""
    if not override_ids:
        return
    try:
        db = open_database(db_path)
        try:
            attach_to_session(db, override_ids, session_id)
        finally:
            db.close()
    except Exception:  # the recording matters more; the override stays in the course's records
        log.exception("overrides %s not linked to session %s", override_ids, session_id)


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
        override_ids = _gate(db, plan.course_id) if plan.course_id is not None else []
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
        _link_overrides(db_path, override_ids, session_id)
        try:
            runner.start(by=args.technician)
        except InvalidAction as exc:  # a short replay (or a quick device) ended the run already
            log.info("session %s was not started: %s", session_id, exc)
        asked = False
        while not runner.wait_until_ended(0.1):
            if stop.is_set() and not asked:
                asked = True
                _stop(runner, args.technician)
            elif adapter.exhausted:
                # A finite source has nothing more to give (its events are all recorded): end the
                # session here rather than wait for a device that will send nothing.
                runner.close(CAPTURE_ENDED)
        snap = runner.snapshot()
        print(f"ENDED {snap.end_status} pulses {snap.pulses_recorded}/{snap.pulses_delivered}"
              + (f" ({snap.end_reason})" if snap.end_reason else ""), flush=True)
    finally:
        runner.close(OPERATOR)
        _restore_signals(previous)
    return 0


def _stop(runner: SessionRunner, by: str | None) -> None:
    """Ctrl-C / SIGTERM: stop the session, unless the device ended it meanwhile."""
    try:
        runner.stop(OPERATOR, by=by)
    except InvalidAction as exc:
        log.info("not stopped: %s", exc)


def _on_signals(stop: threading.Event) -> dict[int, Any]:
    """Ctrl-C and SIGTERM ask for a clean stop (the record ends as stopped, "operator")."""

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
