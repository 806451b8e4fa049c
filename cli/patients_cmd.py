"""``patients``, ``course`` and ``mt``: a patient's record from scripts, by the GUI's own rules.

    python main.py patients add --clinic-id P-1 --name "Alex Example" [--dob 1980-02-03] --user NAME
    python main.py patients list [--search TEXT] [--json] --user NAME
    python main.py patients show CLINIC_ID [--json] --user NAME
    python main.py course open --patient CLINIC_ID --protocol KEY --percent-mt N --user NAME
    python main.py course close --patient CLINIC_ID --reason TEXT --user NAME
    python main.py mt add --patient CLINIC_ID --mso N --method EMG|visual --user NAME

Each calls the domain function the window calls (console.clinic.patient_records), so the
permission checks, the checks of what was typed and the audit rows are the same. Who is asking
is cli.auth; reading a patient's record (list, show) writes an audit row too. A refusal is one
line on stderr and exit 1; ``--json`` prints what a script would parse.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

import sqlite_utils

from cli.auth import add_user_options, run_as
from cli.common import add_db_option, shown
from console.audit import audit, write_transaction
from console.clinic import patient_records
from console.clinic.records import Patient, courses_of, find_patient, motor_thresholds, search_patients
from console.errors import ClinicError
from console.people.user import User


def _common(p: argparse.ArgumentParser) -> None:
    add_db_option(p)
    add_user_options(p)


def register(subparsers: Any) -> None:
    patients = subparsers.add_parser("patients", help="add, list or show patients")
    sub = patients.add_subparsers(dest="patients_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a patient")
    add.add_argument("--clinic-id", required=True, metavar="ID")
    add.add_argument("--name", required=True)
    add.add_argument("--dob", default=None, metavar="DATE", help="date of birth, like 1980-02-03")
    add.set_defaults(func=run_patients_add)
    listing = sub.add_parser("list", help="list patients (or those whose clinic id or name has TEXT)")
    listing.add_argument("--search", default="", metavar="TEXT")
    listing.add_argument("--json", action="store_true", help="one JSON list, for scripts")
    listing.set_defaults(func=run_patients_list)
    show = sub.add_parser("show", help="one patient: courses and motor thresholds")
    show.add_argument("clinic_id", metavar="CLINIC_ID")
    show.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    show.set_defaults(func=run_patients_show)

    course = subparsers.add_parser("course", help="open or close a patient's treatment course")
    csub = course.add_subparsers(dest="course_command", metavar="ACTION", required=True)
    opening = csub.add_parser("open", help="open a course (a patient has at most one open)")
    opening.add_argument("--patient", required=True, metavar="CLINIC_ID")
    opening.add_argument("--protocol", required=True, metavar="KEY",
                         help="a preset of resources/protocols.json")
    opening.add_argument("--percent-mt", required=True, type=float, metavar="N",
                         help="the prescribed intensity, in percent of the motor threshold")
    opening.add_argument("--planned-sessions", type=int, default=36, metavar="N")
    opening.add_argument("--schedule", default="acute", metavar="NAME")
    opening.add_argument("--target", default="left DLPFC")
    opening.set_defaults(func=run_course_open)
    closing = csub.add_parser("close", help="close the patient's open course")
    closing.add_argument("--patient", required=True, metavar="CLINIC_ID")
    closing.add_argument("--reason", required=True)
    closing.set_defaults(func=run_course_close)

    mt = subparsers.add_parser("mt", help="record a motor threshold")
    msub = mt.add_subparsers(dest="mt_command", metavar="ACTION", required=True)
    mt_add = msub.add_parser("add", help="record a motor threshold measured today")
    mt_add.add_argument("--patient", required=True, metavar="CLINIC_ID")
    mt_add.add_argument("--mso", required=True, metavar="N",
                        help="the threshold in percent of the stimulator output")
    mt_add.add_argument("--method", required=True, metavar="METHOD",
                        help="how it was measured: EMG or visual")
    mt_add.add_argument("--device-model", default=None, metavar="MODEL")
    mt_add.add_argument("--coil-type", default=None, metavar="COIL")
    mt_add.set_defaults(func=run_mt_add)
    for parser in (add, listing, show, opening, closing, mt_add):
        _common(parser)


def patient_of(db: sqlite_utils.Database, clinic_id: str) -> Patient:
    """The patient with this clinic id, or one clear refusal."""
    patient = find_patient(db, clinic_id)
    if patient is None:
        raise ClinicError(f"There is no patient with clinic id {clinic_id!r}; add one with `patients add`.")
    return patient


def run_patients_add(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        p = patient_records.create_patient(db, user, args.clinic_id, args.name, args.dob)
        print(f"added patient {shown(p.clinic_id)} ({shown(p.name)})")
        return 0
    return run_as(args, "patients", "manage_patients", body)


def _read(db: sqlite_utils.Database, user: User, action: str, entity_id: Any, what: dict[str, Any]) -> None:
    """The audit row of a read of patient data, written before it is shown."""
    with write_transaction(db):
        audit(db, user, action, "patient", entity_id, None, {**what, "via": "command line"})


def run_patients_list(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        found = search_patients(db, args.search, limit=1000)
        _read(db, user, "view_patient_list", None, {"search": args.search, "rows": len(found)})
        if args.json:
            print(json.dumps([{"clinic_id": p.clinic_id, "name": p.name, "date_of_birth": p.date_of_birth}
                              for p in found], ensure_ascii=False))
        else:
            for p in found:
                print(f"{shown(p.clinic_id):<12} {shown(p.name)}")
            print(f"{len(found)} patient(s)")
        return 0
    return run_as(args, "patients", "view_records", body)


def run_patients_show(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        p = patient_of(db, args.clinic_id)
        _read(db, user, "view_patient", p.id, {"clinic_id": p.clinic_id})
        courses = [asdict(c) for c in courses_of(db, p.id)]
        mts = [{"mso": m.mso, "method": m.method, "measured_at": m.measured_at}
               for m in motor_thresholds(db, p.id)]
        if args.json:
            print(json.dumps({"clinic_id": p.clinic_id, "name": p.name, "date_of_birth": p.date_of_birth,
                              "courses": courses, "motor_thresholds": mts}, ensure_ascii=False))
            return 0
        print(f"{shown(p.clinic_id)}  {shown(p.name)}  born {shown(p.date_of_birth or 'not given')}")
        for c in courses:
            print(f"  course {c['id']}: {shown(c['protocol'])} at {c['percent_mt']:g} % MT, {c['status']}")
        for m in mts:
            print(f"  motor threshold {m['mso']:g} % MSO ({shown(m['method'])}, {shown(m['measured_at'])})")
        return 0
    return run_as(args, "patients", "view_records", body)


def run_course_open(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        p = patient_of(db, args.patient)
        c = patient_records.open_course(db, user, p.id, protocol=args.protocol, percent_mt=args.percent_mt,
                                        planned_sessions=args.planned_sessions, schedule=args.schedule,
                                        target=args.target)
        print(f"opened course {c.id} for {shown(p.clinic_id)}: {shown(c.protocol)} at {c.percent_mt:g} % MT")
        return 0
    return run_as(args, "course", "manage_patients", body)


def run_course_close(args: argparse.Namespace) -> int:
    from console.clinic.records import active_course

    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        p = patient_of(db, args.patient)
        course = active_course(db, p.id)
        if course is None:
            raise ClinicError(f"{p.clinic_id} has no open course to close.")
        patient_records.close_course(db, user, course.id, args.reason)
        print(f"closed course {course.id} of {shown(p.clinic_id)}")
        return 0
    return run_as(args, "course", "manage_patients", body)


def run_mt_add(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        p = patient_of(db, args.patient)
        mt = patient_records.record_motor_threshold(db, user, p.id, args.mso, args.method,
                                                    device_model=args.device_model, coil_type=args.coil_type)
        print(f"motor threshold of {shown(p.clinic_id)}: {mt.mso:g} % MSO ({shown(mt.method)})")
        return 0
    return run_as(args, "mt", "record_session", body)
