"""Issue 15, "Done when": a fresh install, from an empty database to a signed session, through the
window alone (the same flow as tests/cli/test_fresh_install_cli.py, but as people do it).

One flow through real widgets offscreen, a real SQLite file and the real simulator as its own
process on a pty: the first admin and the guided clinic set-up; the admin's Accounts screen makes a
technician and a physician (with temporary passwords each changes at the first log-in); the
physician adds a patient, opens a course, records the screening with one "yes" and signs its
review, records the MT; the technician runs the session at the chair to its end; the physician
signs it in the review screen. The database is then asked who did what.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget, QWidget

from console.audit import history, verify
from console.clinic import records as clinic
from console.clinic.clinic_setup import needs_clinic_setup
from console.clinic.settings import get_setting
from console.people.login import AuthError, authenticate
from console.people.user import User, get_user
from console.review.signoff import signatures_for
from console.safety import screening
from console.ui.chair.technician import TechnicianWorkspace
from console.ui.clinic.course_editor import CourseEditorDialog
from console.ui.clinic.mt_dialog import MtDialog
from console.ui.clinic.patient_dialog import PatientDialog
from console.ui.clinic.patients import PatientsPage
from console.ui.clinic.phq9_dialog import Phq9Dialog
from console.ui.clinic.screening_dialog import ClearanceDialog, ScreeningDialog
from console.ui.main_window import MainWindow
from console.ui.people.accounts import AccountsPage
from console.ui.people.login import LoginDialog
from console.ui.review.review_window import ReviewWindow
from console.ui.review.signoff_dialog import SignOffDialog
from db.database import open_database
from devices.sim.process import SimulatorProcess
from tests.engine.clinic_setup import simulator_target
from tests.ui.drive import WAIT_MS, choose_patient, wait_connected

pytestmark = pytest.mark.slow

ADMIN = ("ada", "Ada Admin", "Harbour-Lantern-Quill-73")
TECH = ("tina", "Tina Tech", "Maple-Orbit-Thistle-58", "Saffron-Ledger-Pylon-27")
DOC = ("phil", "Dr Phil Physician", "Granite-Willow-Comet-19", "Cobalt-Meadow-Harp-84")
"""(user name, full name, password): the technician and physician get a temporary password from
the admin, then choose their own (the last) at their first log-in."""

PATIENT = ("P-0100", "Jane Q. Roe", "1980-04-23")
MT_MSO = "52"  # 120 % MT = 62 % MSO: the simulator's own intensity, so no intensity override is asked
PHQ9 = (2, 2, 1, 2, 1, 1, 1, 1, 0)  # total 11; item 9 (self-harm) answered 0
SCREENING_YES = {"medications": "sertraline 100 mg daily"}
WAIT = 20_000

W = TypeVar("W", bound=QWidget)


@pytest.fixture
def window(qtbot, tmp_path: Path, fast_hasher) -> Iterator[tuple[MainWindow, object]]:
    """The program as app.py starts it on an empty clinic database, pointed at a simulator."""
    path = tmp_path / "clinic.db"
    db = open_database(path)
    with SimulatorProcess("itbs", speed=200, seed=15, pose_hz=10) as sim:
        win = MainWindow(db, path, device_url=sim.url)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        win.start()
        try:
            yield win, db
        finally:
            win.shutdown()
            db.close()


# ------------------------------------------------------------------------------------ helpers
def type_into(qtbot, field, text: str) -> None:
    field.clear()
    qtbot.keyClicks(field, text)


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()!r} is not enabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def login_dialog(qtbot, win: MainWindow) -> LoginDialog:
    qtbot.waitUntil(lambda: win.login is not None and win.login.isVisible(), timeout=WAIT)
    assert win.login is not None
    return win.login


def user_of(win: MainWindow) -> User:
    assert win.user is not None, "nobody is logged in"
    return win.user


def log_in(qtbot, win: MainWindow, username: str, password: str, new_password: str | None = None) -> None:
    """The log-in dialog as a person meets it; a temporary password is replaced when it asks."""
    dialog = login_dialog(qtbot, win)
    assert dialog.mode == "login"
    type_into(qtbot, dialog.username, username)
    type_into(qtbot, dialog.password, password)
    click(qtbot, dialog.ok_button)
    if new_password is not None:
        # The admin's password was temporary: the dialog asks for the person's own before going on.
        assert dialog.mode == "change_password", dialog.error.text()
        assert win.user is None
        type_into(qtbot, dialog.password, new_password)
        type_into(qtbot, dialog.repeat, new_password)
        click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: win.user is not None and win.user.username == username, timeout=WAIT)


def log_out(qtbot, win: MainWindow) -> None:
    click(qtbot, win.logout_button)
    qtbot.waitUntil(lambda: win.user is None and win.login is not None, timeout=WAIT)


def tab(qtbot, win: MainWindow, name: str, kind: type[W]) -> W:
    """Click the tab called ``name`` (as a person picks a screen)."""
    workspace = win.workspace
    assert isinstance(workspace, QTabWidget), f"{win.user} has one screen, no tabs"
    titles = [workspace.tabText(i) for i in range(workspace.count())]
    assert name in titles, f"no {name} tab in {titles}"
    bar = workspace.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(titles.index(name)).center())
    qtbot.waitUntil(lambda: workspace.currentIndex() == titles.index(name), timeout=WAIT)
    screen = workspace.currentWidget()
    assert isinstance(screen, kind), f"the {name} tab is a {type(screen).__name__}"
    return screen


def dialog_of(qtbot, page: PatientsPage, kind: type[W]) -> W:
    """The form the last button opened, once it shows."""
    qtbot.waitUntil(lambda: isinstance(page.dialog, kind) and page.dialog.isVisible(), timeout=WAIT)
    assert isinstance(page.dialog, kind)
    return page.dialog


def closed(qtbot, dialog: QWidget) -> None:
    """The form closes once saved; if it stays open, the failure says what the form said."""
    try:
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    except AssertionError:
        error = getattr(dialog, "error", None)
        said = error.text() if error is not None else ""
        raise AssertionError(f"{type(dialog).__name__} stayed open: {said!r}") from None


# --------------------------------------------------------------------------------------- steps
def first_start(qtbot, win: MainWindow, db) -> None:
    """The first admin, then the guided clinic set-up (as test_admin_screens does it)."""
    login = login_dialog(qtbot, win)
    assert login.mode == "first_admin"
    username, full_name, password = ADMIN
    type_into(qtbot, login.full_name, full_name)
    type_into(qtbot, login.username, username)
    type_into(qtbot, login.password, password)
    type_into(qtbot, login.repeat, password)
    click(qtbot, login.ok_button)
    qtbot.waitUntil(lambda: win.user is not None, timeout=WAIT)
    assert (user_of(win).username, user_of(win).role) == ("ada", "admin")

    qtbot.waitUntil(lambda: win.clinic_setup is not None and win.clinic_setup.isVisible(), timeout=WAIT)
    setup = win.clinic_setup
    assert setup is not None
    fields = setup.settings.fields
    for key, text in (("clinic_name", "Lakeside TMS Clinic"), ("clinic_phone", "555 0100"),
                      ("supervising_physician", "Dr Phil Physician"), ("tol_distance_mm", "3"),
                      # an hour's idle lock: a slow machine's pauses between steps never lock it
                      ("idle_lock_minutes", "60"), ("mt_remeasure_days", "7")):
        type_into(qtbot, fields[key], text)
    click(qtbot, setup.ok)  # "Save and continue"
    closed(qtbot, setup)
    qtbot.waitUntil(lambda: win.clinic_setup is None, timeout=WAIT)
    assert not needs_clinic_setup(db) and get_setting(db, "clinic_name") == "Lakeside TMS Clinic"


def create_accounts(qtbot, win: MainWindow, db) -> None:
    accounts = tab(qtbot, win, "Accounts", AccountsPage)
    for (username, full_name, temporary, _own), role in ((TECH, "technician"), (DOC, "physician")):
        type_into(qtbot, accounts.new_full_name, full_name)
        type_into(qtbot, accounts.new_username, username)
        accounts.new_role.setCurrentIndex(accounts.new_role.findData(role))
        type_into(qtbot, accounts.new_password, temporary)
        type_into(qtbot, accounts.new_repeat, temporary)
        click(qtbot, accounts.create_button)
        made = get_user(db, username)
        assert made is not None and made.role == role, accounts.message.text()
        assert made.must_change_password
    assert [s.user.username for s in accounts.accounts] == ["ada", "phil", "tina"]


def patient_course_screening_mt(qtbot, win: MainWindow, db) -> int:
    """As the physician, on the Patients screen; returns the patient's id."""
    page = tab(qtbot, win, "Patients", PatientsPage)
    click(qtbot, page.new_patient)
    form = dialog_of(qtbot, page, PatientDialog)
    for field, text in zip((form.clinic_id, form.name, form.date_of_birth), PATIENT, strict=True):
        type_into(qtbot, field, text)
    click(qtbot, form.ok)
    closed(qtbot, form)
    patient = clinic.find_patient(db, PATIENT[0])
    assert patient is not None and page.selected_patient_id() == patient.id

    # The course: iTBS aimed at the simulator's target (neuronavigation, so on-target is measured).
    click(qtbot, page.action_buttons["open_course"])
    editor = dialog_of(qtbot, page, CourseEditorDialog)
    editor.protocol.setCurrentIndex(editor.protocol.findData("itbs"))
    editor.method.setCurrentIndex(editor.method.findText("Neuronavigation"))
    assert editor.pose_box.isVisibleTo(editor)
    for key, value in simulator_target().items():
        type_into(qtbot, editor.pose[key], f"{value:g}")
    if not editor.percent_mt.text():
        type_into(qtbot, editor.percent_mt, "120")
    assert "Within the clinic's safety limits" in editor.limits_state.text(), editor.limits_state.text()
    click(qtbot, editor.ok)
    closed(qtbot, editor)
    course = clinic.active_course(db, patient.id)
    assert course is not None and course.protocol == "itbs" and course.percent_mt == 120

    # The screening follows the course's opening: one "yes", with its note.
    questions = dialog_of(qtbot, page, ScreeningDialog)
    for row in questions.rows:
        click(qtbot, row.yes if row.item.id in SCREENING_YES else row.no)
        if row.item.id in SCREENING_YES:
            type_into(qtbot, row.note, SCREENING_YES[row.item.id])
    click(qtbot, questions.ok)
    closed(qtbot, questions)
    assert [screening.REVIEW_PHRASE in b for b in screening.course_start_blockers(db, patient.id)] == [True]

    # The physician's signed review clears the "yes" (the password typed again).
    click(qtbot, page.action_buttons["clearance"])
    review = dialog_of(qtbot, page, ClearanceDialog)
    assert review.username.text() == "phil"
    type_into(qtbot, review.reason, "Stable dose for a year; seizure threshold not a concern. Treat.")
    type_into(qtbot, review.password, DOC[3])
    click(qtbot, review.ok)
    closed(qtbot, review)
    assert screening.course_start_blockers(db, patient.id) == []

    # The motor threshold, on the simulated stimulator.
    click(qtbot, page.action_buttons["mt"])
    mt = dialog_of(qtbot, page, MtDialog)
    type_into(qtbot, mt.value, MT_MSO)
    type_into(qtbot, mt.device, "SIM-1")
    click(qtbot, mt.visual)
    assert "120 % MT = 62 % MSO" in mt.context.text(), mt.context.text()
    click(qtbot, mt.ok)
    closed(qtbot, mt)
    measured = clinic.latest_motor_threshold(db, patient.id)
    assert measured is not None and measured.mso == 52
    assert "Prescription: 120 % MT = 62 % MSO" in page.summary.mt.text()
    return patient.id


def answer_checklist(qtbot, ws: TechnicianWorkspace) -> None:
    """Each item clicked: "metal removed?" and "ear protection?" yes, the rest no."""
    for item in ws.checklist.items:
        click(qtbot, item.yes if "no" in item.note_on else item.no)
    click(qtbot, ws.checklist.proceed)
    qtbot.waitUntil(lambda: ws.currentWidget() is ws.session_view, timeout=WAIT)


def run_the_session(qtbot, win: MainWindow) -> int:
    """As the technician at the chair: patient, checklist, connect, Start, to its end; returns its id."""
    ws = win.workspace
    assert isinstance(ws, TechnicianWorkspace) and ws is win.chair  # a technician has the chair only
    choose_patient(qtbot, ws, PATIENT[0])
    answer_checklist(qtbot, ws)
    click(qtbot, ws.device_panel.connect_button)
    wait_connected(qtbot, ws)
    assert "SIM-1" in ws.device_panel.identity.text()
    click(qtbot, ws.session_view.controls.start)
    qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
    end = ws.end_page
    assert end.title.text().startswith(f"Session completed — {PATIENT[0]}"), end.title.text()
    assert end.pulses.value.text() == "600 / 600"
    assert end.on_target.value.text() == "100 %"  # the course's target is the simulator's
    session_id = end.session_id
    assert session_id is not None
    # The end-of-session entries: the baseline PHQ-9 is due at the course's first session.
    assert end.phq9_button.isVisible() and "due today" in end.phq9_state.text()
    click(qtbot, end.phq9_button)
    qtbot.waitUntil(lambda: isinstance(end.dialog, Phq9Dialog) and end.dialog.isVisible(), timeout=WAIT)
    phq9 = end.dialog
    assert isinstance(phq9, Phq9Dialog)
    for n, value in enumerate(PHQ9):
        click(qtbot, phq9.groups[n].button(value))
    click(qtbot, phq9.ok)
    closed(qtbot, phq9)
    type_into(qtbot, end.observations.patient_said, "Tired, but glad to have started.")
    type_into(qtbot, end.observations.technician_saw, "Sat still; no discomfort reported.")
    click(qtbot, end.proceed)
    qtbot.waitUntil(lambda: ws.currentWidget() is ws.note_page, timeout=WAIT)
    click(qtbot, ws.note_done)
    qtbot.waitUntil(lambda: ws.currentWidget() is ws.start_page, timeout=WAIT)
    return session_id


def pick_row(qtbot, review: ReviewWindow, row: int) -> None:
    """A click on the row's first cell in the review list."""
    queue = review.queue
    cell = queue.visualRect(review.model.index(row, 0))
    assert cell.isValid(), "the row is not on screen"
    qtbot.mouseClick(queue.viewport(), Qt.MouseButton.LeftButton, pos=cell.center())


def sign_the_session(qtbot, win: MainWindow, session_id: int) -> None:
    review = tab(qtbot, win, "Review", ReviewWindow)
    qtbot.waitUntil(lambda: review.model.rowCount() == 1, timeout=WAIT)
    assert review.model.session_id(0) == session_id
    pick_row(qtbot, review, 0)
    qtbot.waitUntil(lambda: review.detail.detail is not None
                    and review.detail.detail.session["id"] == session_id, timeout=WAIT)
    click(qtbot, review.detail.sign_button)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in review.findChildren(SignOffDialog)), timeout=WAIT)
    [dialog] = [d for d in review.findChildren(SignOffDialog) if d.isVisible()]
    [approved] = [b for b in dialog.meanings.buttons() if b.property("meaning") == "approved"]
    click(qtbot, approved)
    assert dialog.meaning == "approved"
    qtbot.keyClicks(dialog.comment, "First session of the course: record reviewed, approved.")
    type_into(qtbot, dialog.password, DOC[3])
    with qtbot.waitSignal(review.detail.changed, timeout=WAIT):
        click(qtbot, dialog.ok)
    # Signed work leaves "To review"; the "Signed" list shows it with the signature.
    qtbot.waitUntil(lambda: review.model.rowCount() == 0, timeout=WAIT)
    review.filters.review.setCurrentIndex(review.filters.review.findData("signed"))
    qtbot.waitUntil(lambda: review.model.rowCount() == 1, timeout=WAIT)
    pick_row(qtbot, review, 0)
    qtbot.waitUntil(lambda: review.detail.detail is not None
                    and review.detail.detail.session["id"] == session_id, timeout=WAIT)
    assert "Approved by Dr Phil Physician" in review.detail.signature.text(), review.detail.signature.text()
    assert not review.detail.sign_button.isEnabled()  # signed once: later remarks are addenda


# ---------------------------------------------------------------------------------------- test
def test_a_fresh_install_from_the_window_to_a_signed_session(qtbot, window) -> None:
    win, db = window
    first_start(qtbot, win, db)
    create_accounts(qtbot, win, db)
    log_out(qtbot, win)

    log_in(qtbot, win, DOC[0], DOC[2], new_password=DOC[3])
    assert user_of(win).role == "physician" and not user_of(win).must_change_password
    patient_id = patient_course_screening_mt(qtbot, win, db)
    log_out(qtbot, win)

    log_in(qtbot, win, TECH[0], TECH[2], new_password=TECH[3])
    session_id = run_the_session(qtbot, win)
    log_out(qtbot, win)

    log_in(qtbot, win, DOC[0], DOC[3])
    sign_the_session(qtbot, win, session_id)

    # --- the record, from the database
    s = db["sessions"].get(session_id)
    assert s["status"] == "completed" and s["pulses_planned"] == 600
    assert s["pulses_delivered"] == s["pulses_recorded"] == 600  # every pulse of the iTBS plan
    assert s["technician"] == "tina" and s["patient_id"] == patient_id
    [signature] = signatures_for(db, session_id)
    assert (signature.signer_username, signature.meaning) == ("phil", "approved")
    kinds = {r["kind"]: r["by_user"] for r in db.query(
        "SELECT kind, by_user FROM session_events WHERE session_id = ? ORDER BY id", [session_id])}
    assert kinds.get("checklist") == "tina" and kinds.get("observation") == "tina", kinds
    observation = json.loads(next(db.query(
        "SELECT detail FROM session_events WHERE session_id = ? AND kind = 'observation'",
        [session_id]))["detail"])
    assert observation["patient_said"] == "Tired, but glad to have started."
    phq9 = next(db.query("SELECT session_id, instrument, total, items, entered_by FROM outcomes"))
    assert phq9 == {"session_id": session_id, "instrument": "PHQ-9", "total": sum(PHQ9),
                    "items": json.dumps(list(PHQ9)), "entered_by": "tina"}
    # Passwords: the temporary ones no longer open the accounts; the people's own do.
    for username, _full, temporary, own in (TECH, DOC):
        with pytest.raises(AuthError):
            authenticate(db, username, temporary)
        assert not authenticate(db, username, own).must_change_password

    # --- the audit log: intact, and it says who did each step
    assert verify(db).ok
    who = [(row["action"], row["actor"]) for row in reversed(history(db))]
    for step in (("create_user", "ada"), ("change_setting", "ada"),
                 ("change_password", "phil"), ("create_patient", "phil"), ("open_course", "phil"),
                 ("record_screening", "phil"), ("clear_contraindication", "phil"),
                 ("record_motor_threshold", "phil"),
                 ("change_password", "tina"), ("keep_checklist", "tina"), ("add_checklist", "tina"),
                 ("add_observation", "tina"),
                 ("sign_session", "phil")):
        assert step in who, f"no {step} in the audit log: {sorted(set(who))}"
    # ... in the order they were done (the first of each), and about this session where it says so.
    firsts = [who.index(step) for step in (("create_user", "ada"), ("create_patient", "phil"),
                                           ("clear_contraindication", "phil"), ("add_checklist", "tina"),
                                           ("sign_session", "phil"))]
    assert firsts == sorted(firsts)
    on_session = {(r["action"], r["actor"]) for r in history(db, "session", session_id)}
    assert {("add_checklist", "tina"), ("add_observation", "tina"), ("sign_session", "phil")} <= on_session
    made = [row["entity_id"] for row in reversed(history(db)) if row["action"] == "create_user"]
    assert made == ["ada", "tina", "phil"]
    changed = {row["actor"] for row in history(db) if row["action"] == "change_password"}
    assert changed == {"tina", "phil"}, changed
