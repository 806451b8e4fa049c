"""``screening``, ``outcome``, ``side-effect`` and ``sign``: the clinical entries from scripts.

    python main.py screening record --patient CLINIC_ID (--all-no | --answers FILE) --user NAME
    python main.py screening clear --patient CLINIC_ID --reason TEXT --user PHYSICIAN
    python main.py outcome add --patient CLINIC_ID --instrument PHQ-9 --items 1,0,2,1,0,0,1,0,0 --user NAME
    python main.py outcome add --patient CLINIC_ID --instrument HAM-D|MADRS --total N --user NAME
    python main.py side-effect add --session ID --kind headache --rating N [--note TEXT] --user NAME
    python main.py sign SESSION_ID --meaning reviewed|approved [--comment TEXT] --user NAME
    python main.py extra-session sign --patient CLINIC_ID --reason TEXT --user PHYSICIAN

The same domain functions as the window (console.safety.screening, console.clinic.outcomes,
console.session.entries, console.review.signoff), so the same permissions, checks and audit
rows. A signature (``screening clear``, ``sign``) checks the signer's password again, as the
window's signing dialog does. A refusal is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from cli.auth import add_user_options, run_as
from cli.common import add_db_option, shown
from cli.patients_cmd import patient_of
from console.clinic.outcomes import record_phq9, record_total
from console.clinic.records import active_course
from console.errors import ClinicError
from console.people.user import User
from console.review.signoff import MEANINGS, sign_session
from console.safety.schedule import early_start_check, sign_extra_session
from console.safety.screening import awaiting_review, load_questionnaire, record_clearance, record_screening
from console.session.entries import add_side_effect


def register(subparsers: Any) -> None:
    screening = subparsers.add_parser("screening",
                                      help="record a safety screening, or a physician's review of it")
    ssub = screening.add_subparsers(dest="screening_command", metavar="ACTION", required=True)
    rec = ssub.add_parser("record", help="record the patient's answers to the safety screening")
    rec.add_argument("--patient", required=True, metavar="CLINIC_ID")
    answers = rec.add_mutually_exclusive_group(required=True)
    answers.add_argument("--all-no", action="store_true", help="the patient answered no to every question")
    answers.add_argument("--answers", default=None, metavar="FILE",
                         help='a JSON file {"item id": "yes"|"no"}; notes as {"notes": {"item id": "text"}}')
    rec.set_defaults(func=run_screening_record)
    clear = ssub.add_parser("clear", help="a physician's signed review of the screening's yes answers")
    clear.add_argument("--patient", required=True, metavar="CLINIC_ID")
    clear.add_argument("--reason", required=True, help="the risk/benefit decision, kept with the record")
    clear.set_defaults(func=run_screening_clear)

    outcome = subparsers.add_parser("outcome", help="enter an outcome measure (PHQ-9, HAM-D, MADRS)")
    osub = outcome.add_subparsers(dest="outcome_command", metavar="ACTION", required=True)
    o_add = osub.add_parser("add", help="enter a PHQ-9 (its nine items) or a HAM-D / MADRS total")
    o_add.add_argument("--patient", required=True, metavar="CLINIC_ID")
    o_add.add_argument("--instrument", required=True, choices=("PHQ-9", "HAM-D", "MADRS"))
    o_add.add_argument("--items", default=None, metavar="A,B,...", help="PHQ-9: the nine answers, 0-3 each")
    o_add.add_argument("--total", type=int, default=None, metavar="N", help="HAM-D or MADRS: the total")
    o_add.add_argument("--session", type=int, default=None, metavar="ID", help="the session it belongs to")
    o_add.set_defaults(func=run_outcome_add)

    side = subparsers.add_parser("side-effect", help="record a side effect a patient reported")
    sesub = side.add_subparsers(dest="side_effect_command", metavar="ACTION", required=True)
    se_add = sesub.add_parser("add", help="a side effect of one session, rated 0 (none) to 10 (worst)")
    se_add.add_argument("--session", required=True, type=int, metavar="ID")
    se_add.add_argument("--kind", required=True, help="e.g. headache, scalp discomfort")
    se_add.add_argument("--rating", required=True, type=int, metavar="N")
    se_add.add_argument("--note", default=None)
    se_add.set_defaults(func=run_side_effect_add)

    sign = subparsers.add_parser("sign", help="sign a session's record (supervisor or physician)")
    sign.add_argument("session", type=int, metavar="SESSION_ID")
    sign.add_argument("--meaning", required=True, choices=MEANINGS)
    sign.add_argument("--comment", default=None)
    sign.set_defaults(func=run_sign)
    extra = subparsers.add_parser("extra-session",
                                  help="a physician's signature for a session beyond the day's plan")
    xsub = extra.add_subparsers(dest="extra_session_command", metavar="ACTION", required=True)
    x_sign = xsub.add_parser("sign", help="sign for the patient's next session, beyond the day's plan "
                                          "(it covers that one session, today)")
    x_sign.add_argument("--patient", required=True, metavar="CLINIC_ID")
    x_sign.add_argument("--reason", required=True, help="the physician's reason, kept with the record")
    x_sign.set_defaults(func=run_extra_session_sign)
    for parser in (rec, clear, o_add, se_add, sign, x_sign):
        add_db_option(parser)
        add_user_options(parser)


def _answers(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    if args.all_no:
        return {item.id: "no" for item in load_questionnaire().items}, {}
    try:
        with open(args.answers, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise ClinicError(f"cannot read {args.answers}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ClinicError(f"{args.answers} is not JSON text: {exc}") from exc
    if not isinstance(data, dict):
        raise ClinicError(f'{args.answers} must hold one object: {{"item id": "yes" or "no"}}')
    notes = data.pop("notes", {}) or {}
    return data, {str(k): str(v) for k, v in dict(notes).items()}


def run_screening_record(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        p = patient_of(db, args.patient)
        answers, notes = _answers(args)
        result = record_screening(db, user, p.id, answers, notes)
        waiting = awaiting_review(db, p.id) or result.contraindications
        then = "; a physician reviews the yes answers before treatment (screening clear)" if waiting else ""
        print(f"screening of {shown(p.clinic_id)} recorded{then}")
        return 0
    return run_as(args, "screening", "record_screening", body)


def run_screening_clear(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, password: str) -> int:
        p = patient_of(db, args.patient)
        record_clearance(db, user, password, p.id, args.reason)
        print(f"the screening of {shown(p.clinic_id)} is reviewed and signed by {shown(user.full_name)}")
        return 0
    return run_as(args, "screening", "clear_screening", body)


def run_outcome_add(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        p = patient_of(db, args.patient)
        course = active_course(db, p.id)
        course_id = course.id if course else None
        if args.instrument == "PHQ-9":
            if args.items is None or args.total is not None:
                raise ClinicError("A PHQ-9 is entered item by item: give --items with its nine answers "
                                  "(0-3).")
            try:
                items = [int(x) for x in args.items.split(",")]
            except ValueError:
                raise ClinicError("--items are nine whole numbers from 0 to 3, separated by commas.") \
                    from None
            result = record_phq9(db, user, p.id, course_id, items, args.session)
            print(f"PHQ-9 of {shown(p.clinic_id)}: total {result.total}")
            if result.safety_prompt and result.prompt_text:  # the clinic's own words, shown at once
                print(shown(result.prompt_text), file=sys.stderr)
        else:
            if args.total is None or args.items is not None:
                raise ClinicError(f"A {args.instrument} is entered as its total: give --total.")
            record_total(db, user, p.id, course_id, args.instrument, args.total, args.session)
            print(f"{args.instrument} of {shown(p.clinic_id)}: total {args.total}")
        return 0
    return run_as(args, "outcome", "record_outcome", body)


def run_side_effect_add(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, _password: str) -> int:
        add_side_effect(db, user, args.session, args.kind, args.rating, args.note)
        print(f"side effect recorded for session {args.session}: {shown(args.kind)}, {args.rating}/10")
        return 0
    return run_as(args, "side-effect", "record_session", body)


def run_sign(args: argparse.Namespace) -> int:
    def body(db: sqlite_utils.Database, user: User, password: str) -> int:
        sign_session(db, user, args.session, password, args.meaning, args.comment)
        print(f"session {args.session} signed ({args.meaning}) by {shown(user.full_name)}")
        return 0
    return run_as(args, "sign", "sign_session", body)


def run_extra_session_sign(args: argparse.Namespace) -> int:
    """The same signature the chair's dialog takes (issue 14, item 10), for ``record`` to find."""
    def body(db: sqlite_utils.Database, user: User, password: str) -> int:
        p = patient_of(db, args.patient)
        course = active_course(db, p.id)
        if course is None:
            raise ClinicError(f"{shown(p.clinic_id)} has no open course: there is no session to sign for.")
        early = early_start_check(db, course.id, datetime.now(UTC))
        if early is None or early.kind != "extra_session":
            raise ClinicError("There is nothing to sign: the day's plan allows the next session.")
        override_id = sign_extra_session(db, user, password, course.id, early, args.reason)
        print(f"override {override_id}: {shown(early.message)} Signed by {shown(user.full_name)}; "
              "it covers the next session today.")
        return 0
    return run_as(args, "extra-session", "sign_extra_session", body)
