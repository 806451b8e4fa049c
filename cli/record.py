"""``record``: record one session from a device into the database, headless.

    python main.py record --device URL [--tracker URL] --patient CLINIC_ID --user NAME
                          [--course ID] [--db PATH] [--create-patient]

Prints ``SESSION <id>`` as its first line of stdout as soon as the session
exists, records until the device ends the run (EndOfSession), until a
replayed capture has no more events (stopped, with reason
:data:`CAPTURE_ENDED`), or until Ctrl-C / SIGTERM (the session is then
stopped with reason "operator"), and exits 0.

Nothing lost goes unsaid: when saving to the database starts failing (a full
disk, the files deleted) a line on stderr says so at once, and another when it
works again. If rows still wait at the end, ``record`` keeps retrying (saying
so, with the number waiting) until they land, until Ctrl-C / SIGTERM comes
again, or until :data:`SAVE_RETRY_S` passes; then it names on stderr what was
NOT saved and exits 1. The ENDED line counts the pulses saved, never more.
Anything that prevents
recording (an unknown patient, a device that cannot be reached or a capture
with no device events in it, an address of an unknown kind, an unusable
database, the start gate of console.safety.start_gate: the chair's rules, in
its words) exits non-zero with one line on stderr. Sessions a crash left in
*recording* are marked *interrupted* first.

No session is recorded without an open course, a motor threshold (the prescription) and a
cleared safety screening, exactly as at the chair: a patient without a course is refused by the
same gate, never recorded "without protocol". ``--create-patient`` creates the patient (for an
account that may manage patients) and then names everything still missing before a first session,
each with who records it and where.

Who is asking (issue 15): ``--user`` is the technician who records, authenticated as at the chair
(cli.auth: the password from a file, the environment or a prompt, never the command line) and
allowed to record sessions; the session's technician is that account. Only a demo database lets it
be left out (the demo technician is then used, and said).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

from cli.auth import NotAuthorised, add_user_options, who_is_asking
from cli.common import add_db_option, db_path_of
from console.clinic.device_address import with_clinic_secrets
from console.clinic.patient_records import create_patient
from console.clinic.records import find_patient
from console.errors import ClinicError, PermissionDenied
from console.safety.overrides import attach_to_session
from console.safety.start_gate import OverrideKind, StartGate, gate_for_course, gate_for_patient
from console.session.plan import plan_session
from console.session.recording_terms import InvalidAction
from console.session.runner import CAPTURE_ENDED, SessionRunner
from db.database import DatabaseUnusable, open_database
from db.recovery import mark_interrupted_sessions
from devices.adapter import DeviceError
from devices.combined import combine
from devices.registry import create_adapter

log = logging.getLogger(__name__)

DEMO_NAME = "Demo Patient"
OPERATOR = "operator"
SAVE_RETRY_S = 600.0
"""How long the end of a recording keeps retrying rows the storage refuses (Ctrl-C again gives up)."""
ROW_WORDS = {"pulses": ("pulse", "pulses"), "poses": ("pose", "poses"),
             "session_events": ("event", "events"),
             "sessions": ("update of the session's own row", "updates of the session's own row")}
"""How ``record`` names unsaved rows of each table (singular, plural), in this order."""
__all__ = ["CAPTURE_ENDED", "register", "run"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "record", help="record one session from a device (headless)",
        description="Record one treatment session from a device into the database, without a window.",
    )
    p.add_argument("--device", required=True, metavar="URL",
                   help="device address, e.g. tscp+serial:///dev/ttyUSB0 or sim://")
    p.add_argument("--tracker", default=None, metavar="URL",
                   help="a coil tracker apart from the stimulator (e.g. ndi+serial:///dev/ttyUSB1, "
                        "localite+tcp://HOST:6666): the pose of each pulse comes from it")
    p.add_argument("--patient", required=True, metavar="CLINIC_ID", help="the patient's clinic id")
    p.add_argument("--course", type=int, default=None, metavar="ID",
                   help="record against this course (default: the patient's open course)")
    add_db_option(p)
    p.add_argument("--create-patient", action="store_true",
                   help=f"create the patient (named {DEMO_NAME!r}) when the clinic id is unknown; "
                        "nothing is recorded until the patient has an open course, a motor threshold "
                        "and a cleared screening: the refusal says who records each")
    add_user_options(p)  # issue 15: who is asking; --user is the technician who records
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


def _gate(gate: StartGate, *, created: str | None = None) -> list[int]:
    """The start gate the chair uses, headless: a blocker, or a physician's signed override not yet
    given, refuses the recording in the gate's words (the console's start screen is where a person
    resolves them). A reason the chair asks of the technician (an early start) cannot be asked here:
    it is logged, as the headless record always did. Returns the overrides to link to the session.

    ``created``: the clinic id of a patient this command just created; the refusal then lists
    everything a first session still needs, each with who records it and where, so
    ``--create-patient`` says what to do next instead of recording an unscreened patient."""
    # A session beyond the day's plan takes a physician's signature here as at the chair (issue 14,
    # item 10): the same gate refuses the same session. The physician signs it beforehand
    # (`main.py override extra-session`, or the chair's dialog); it covers one session.
    refusing = [need for need in gate.pending if need.kind.signed]
    problems = gate.blocker_messages + [need.summary() for need in refusing]
    if problems and created is not None:
        lines = [f"Patient {created} was created, but this session cannot start until these are "
                 "recorded:"]
        lines += [f"  - {blocker.with_remedy().replace(chr(10), ' ')}" for blocker in gate.blockers]
        lines += [f"  - {need.summary()}" for need in refusing]
        raise _Failed("\n".join(lines))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        how = ""
        if gate.blockers == () and refusing[0].kind is OverrideKind.EXTRA_SESSION:
            how = (" A physician signs it at the chair's Start, or with `extra-session sign --patient "
                   "CLINIC_ID --reason TEXT --user NAME`.")
        raise _Failed(f"This session cannot start: {problems[0]}{more}{how}")
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
        try:  # authenticated and allowed to record: they run the session
            user = who_is_asking(db, args, "record", "record_session")
        except NotAuthorised as exc:
            raise _Failed(str(exc), 1) from exc
        args.technician = user.username
        patient = find_patient(db, args.patient)
        if patient is None and not args.create_patient:
            raise _Failed(f"There is no patient with clinic id {args.patient!r} "
                          "(use --create-patient to create a demo patient).")
        # The device before anything is written: a command that cannot record changes nothing.
        try:
            tracker = create_adapter(with_clinic_secrets(db, args.tracker)) if args.tracker else None
            adapter = combine(create_adapter(with_clinic_secrets(db, args.device)), tracker)
            adapter.open()
        except DeviceError as exc:
            raise _Failed(str(exc)) from exc
        marked = mark_interrupted_sessions(db, db_path)
        if marked:
            log.info("marked %d session(s) interrupted: %s", len(marked), marked)
        created = None
        if patient is None:
            try:  # the audited way, by an account that may manage patients
                patient = create_patient(db, user, args.patient, DEMO_NAME)
            except PermissionDenied as exc:
                raise _Failed(f"{exc} (--create-patient)", 1) from exc
            created = patient.clinic_id
        # A --course is checked to be this patient's open course (plan_session) before its gate;
        # without one, the patient's gate (which refuses a patient with no open course).
        plan = (plan_session(db, patient, course_id=args.course, technician=args.technician)
                if args.course is not None else None)
        gate = (gate_for_course(db, args.course) if args.course is not None
                else gate_for_patient(db, patient.id))
        override_ids = _gate(gate, created=created)
        if plan is None:
            plan = plan_session(db, patient, course_id=gate.course_id, technician=args.technician)
    except BaseException as exc:
        if adapter is not None:
            adapter.close()
        if isinstance(exc, ClinicError):
            raise _Failed(str(exc)) from exc
        raise
    finally:
        db.close()

    signals: list[int] = []
    previous = _on_signals(signals)
    runner = SessionRunner(db_path, adapter, plan)
    runner.end_retry_s = SAVE_RETRY_S
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
        asked = 0
        said: str | None = None
        retrying = False
        # A replay that runs out is ended by the runner itself (stopped, CAPTURE_ENDED).
        while not runner.wait_until_ended(0.1):
            if len(signals) > asked:
                asked = len(signals)
                if asked == 1 and not runner.ended:
                    _stop(runner, args.technician)
                else:  # asked again, or after the end: stop retrying what the storage refuses
                    runner.give_up_saving()
            said = _say_storage(runner, said)
            if runner.saving_at_end and not retrying:
                retrying = True
                waiting = sum(runner.waiting_rows().values())
                print(f"record: the session has ended but {waiting:,} rows are not saved yet; retrying "
                      f"until they are (at most {SAVE_RETRY_S / 60:.0f} minutes). Press Ctrl-C again "
                      "to give up on them.", file=sys.stderr, flush=True)
        _say_storage(runner, said)
        snap = runner.snapshot()
        lost = runner.lost_rows
        saved = snap.pulses_recorded - lost.get("pulses", 0)
        print(f"ENDED {snap.end_status} pulses {saved}/{snap.pulses_delivered}"
              + (f" ({snap.end_reason})" if snap.end_reason else ""), flush=True)
        return _report_losses(runner, session_id, db_path)
    finally:
        runner.close(OPERATOR)
        _restore_signals(previous)


def _say_storage(runner: SessionRunner, said: str | None) -> str | None:
    """A line on stderr as soon as saving starts failing, changes, or works again."""
    now = runner.storage_error
    if now != said:
        if now is not None:
            print(f"record: WARNING: {now}", file=sys.stderr, flush=True)
        else:
            print("record: saving to the database works again; the rows kept in memory are being "
                  "saved.", file=sys.stderr, flush=True)
    return now


def _report_losses(runner: SessionRunner, session_id: int, db_path: Any) -> int:
    """Name on stderr what was not saved (and a change of the files); 1 when anything went wrong."""
    status = 0
    lost = runner.lost_rows
    if lost:
        order = [*ROW_WORDS, *sorted(set(lost) - set(ROW_WORDS))]
        parts = [f"{lost[t]:,} {ROW_WORDS.get(t, (t, t))[lost[t] != 1]}" for t in order if lost.get(t)]
        named = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        print(f"record: {named} of session {session_id} were NOT saved to {db_path}: "
              f"{runner.storage_fault or 'the database could not be written'}.", file=sys.stderr, flush=True)
        status = 1
    incident = runner.files_incident
    if incident:
        print(f"record: {incident}; check session {session_id} in {db_path}.", file=sys.stderr, flush=True)
        status = 1
    return status


def _stop(runner: SessionRunner, by: str | None) -> None:
    """Ctrl-C / SIGTERM: stop the session, unless the device ended it meanwhile."""
    try:
        runner.stop(OPERATOR, by=by)
    except InvalidAction as exc:
        log.info("not stopped: %s", exc)


def _on_signals(signals: list[int]) -> dict[int, Any]:
    """Ctrl-C and SIGTERM ask for a clean stop (the record ends as stopped, "operator"); asked
    again, they give up on rows the storage still refuses."""

    def handler(signum: int, frame: object) -> None:
        signals.append(signum)

    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
