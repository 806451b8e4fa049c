"""Open a course (indication, protocol, target and targeting method, % MT, schedule, sessions)
and close one with a reason. While the course is filled in, the protocol at that intensity is
checked against the clinic's safety limits, so a problem shows before the first session."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLineEdit, QWidget

from console.clinic import patient_records
from console.clinic import records as clinic
from console.clinic.protocols import preset
from console.clinic.protocols import presets as protocol_presets
from console.errors import ClinicError
from console.people.user import User
from console.resource_data.lists import CourseOptions, course_options
from console.safety.limits import check_protocol, load_limits
from console.safety.schedule import load_schedules
from console.store import Store
from console.ui.clinic.number_field import NumberField
from console.ui.widgets.form_dialog import FormDialog, label, restyle

POSE_FIELDS = (
    ("x", "x (mm)"),
    ("y", "y (mm)"),
    ("z", "z (mm)"),
    ("qw", "qw"),
    ("qx", "qx"),
    ("qy", "qy"),
    ("qz", "qz"),
)


def options() -> CourseOptions:
    return course_options()


class CourseEditorDialog(FormDialog):
    """``opened(course)`` once the course is open (audited by the domain)."""

    opened = Signal(object)

    def __init__(
        self, db: Store, user: User, patient_id: int, parent: QWidget | None = None
    ) -> None:
        patient = clinic.get_patient(db, patient_id)
        super().__init__(
            f"Open a course — {patient.clinic_id} {patient.initials}",
            "The safety screening follows once the course is open.",
            parent,
            ok_text="Open course",
        )
        self.db, self.user, self.patient_id = db, user, patient_id
        self.result_course: clinic.Course | None = None
        opts = options()
        self.presets = protocol_presets()
        self.indication = QComboBox(self)
        self.indication.setEditable(True)
        self.indication.addItems(opts["indications"])
        self.indication.setAccessibleName("Indication")
        self.protocol = QComboBox(self)
        for key, found in self.presets.items():
            self.protocol.addItem(found.spec.name, key)
        self.protocol.setAccessibleName("Protocol")
        self.target = QLineEdit(self)
        self.target.setAccessibleName("Target")
        self.method = QComboBox(self)
        for m in opts["targeting_methods"]:
            self.method.addItem(m["name"], bool(m.get("needs_pose")))
        self.method.setAccessibleName("Targeting method")
        self.pose_box = QWidget(self)
        grid = QGridLayout(self.pose_box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.pose: dict[str, QLineEdit] = {}
        for i, (key, text) in enumerate(POSE_FIELDS):
            edit = QLineEdit(self.pose_box)
            edit.setPlaceholderText(text)
            edit.setAccessibleName(f"Target pose {text}")
            grid.addWidget(edit, i // 4, i % 4)
            self.pose[key] = edit
        # Typed as text and refused with the range when outside it: a spin box would clamp
        # "500" to "50" without a word (issue 20, item 2).
        self.percent_mt = NumberField("the intensity", *clinic.PERCENT_MT_RANGE, unit="% MT", whole=False,
                                      parent=self)
        self.percent_mt.setPlaceholderText("e.g. 120")
        self.percent_mt.setAccessibleName("Prescribed intensity in % MT")
        self.schedule = QComboBox(self)
        self.schedules = load_schedules()
        for key, s in self.schedules.items():
            self.schedule.addItem(s.name, key)
        self.schedule.setAccessibleName("Schedule")
        self.sessions = NumberField("the planned sessions", *clinic.PLANNED_SESSIONS_RANGE, parent=self)
        self.sessions.setAccessibleName("Planned sessions")
        for text, widget in (
            ("Indication", self.indication),
            ("Protocol", self.protocol),
            ("Target", self.target),
            ("Targeting", self.method),
            ("Target pose", self.pose_box),
            ("Intensity (% MT)", self.percent_mt),
            ("Schedule", self.schedule),
            ("Planned sessions", self.sessions),
        ):
            self.form.addRow(text, widget)
        self.limits_state = label("", self, "hint")
        self.limits_state.setAccessibleName("Safety limits check")
        self.body.addWidget(self.limits_state)
        self.protocol.currentIndexChanged.connect(self._protocol_changed)
        self.schedule.currentIndexChanged.connect(self._schedule_changed)
        self.method.currentIndexChanged.connect(self._method_changed)
        self.percent_mt.textChanged.connect(self._check_limits)
        self.sessions.textChanged.connect(self._check_limits)
        self._protocol_changed()
        self._schedule_changed()
        self._method_changed()
        self.finish()
        self.protocol.setFocus()

    def _protocol_changed(self) -> None:
        chosen = self.presets[self.protocol.currentData()]
        self.target.setText(chosen.target)
        self.percent_mt.setValue(chosen.default_percent_mt)
        if self.protocol.currentData() == "accel-itbs":
            self.schedule.setCurrentIndex(max(self.schedule.findData("accelerated"), 0))
        self._check_limits()

    def _schedule_changed(self) -> None:
        s = self.schedules[self.schedule.currentData()]
        self.sessions.setValue(s.default_sessions or 1)

    def _method_changed(self) -> None:
        # The row's label goes with its fields: no empty "Target pose" caption (issue 20, item 16).
        self.form.setRowVisible(self.pose_box, bool(self.method.currentData()))

    def _check_limits(self) -> None:
        typed = self.percent_mt.problem() or self.sessions.problem()
        if typed:  # never judged against the limits as some other number
            restyle(self.limits_state, "error")
            self.limits_state.setText(typed)
            return
        mt = clinic.latest_motor_threshold(self.db, self.patient_id)
        percent = self.percent_mt.value() or 0.0
        spec = preset(self.protocol.currentData())
        mso = clinic.prescribed_mso(mt.mso, percent) if mt else 0
        violations = check_protocol(load_limits(), spec, percent, mso) if spec else []
        if violations:
            restyle(self.limits_state, "warning")
            self.limits_state.setText(
                "Outside the clinic's safety limits (sessions will need a supervisor's "
                "signed override):\n" + "\n".join(f"• {v.message}" for v in violations)
            )
        else:
            restyle(self.limits_state, "hint")
            where = f" ({mso} % MSO at the latest motor threshold)" if mt else ""
            self.limits_state.setText(f"Within the clinic's safety limits{where}.")

    def _target_pose(self) -> dict | None:
        if not self.method.currentData():
            return None
        values = {}
        for key, edit in self.pose.items():
            try:
                values[key] = float(edit.text().replace(",", "."))
            except ValueError:
                raise ClinicError(
                    "Neuronavigation needs the target pose: position x, y, z in mm and "
                    "orientation qw, qx, qy, qz."
                ) from None
        return values

    def save(self) -> None:
        percent, sessions = self.percent_mt.value(), self.sessions.value()
        if percent is None or sessions is None:
            raise ClinicError(self.percent_mt.problem() or self.sessions.problem() or "")
        self.result_course = patient_records.open_course(
            self.db,
            self.user,
            self.patient_id,
            protocol=self.protocol.currentData(),
            percent_mt=float(percent),
            planned_sessions=int(sessions),
            schedule=self.schedule.currentData(),
            target=self.target.text(),
            targeting_method=self.method.currentText(),
            target_pose=self._target_pose(),
            indication=self.indication.currentText(),
        )

    def after_save(self) -> None:
        self.opened.emit(self.result_course)
        self.accept()


class CloseCourseDialog(FormDialog):
    """``closed(course)`` once closed with the reason."""

    closed = Signal(object)

    def __init__(
        self, db: Store, user: User, course: clinic.Course, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            "Close the course",
            f"Course opened {course.opened_at[:10]}, {course.protocol}, "
            f"{course.planned_sessions} sessions planned.",
            parent,
            ok_text="Close course",
        )
        self.db, self.user, self.course = db, user, course
        self.reason = QComboBox(self)
        self.reason.addItems(options()["close_reasons"])
        self.reason.setAccessibleName("Reason for closing")
        self.details = QLineEdit(self)
        self.details.setPlaceholderText("Details (needed for Other)")
        self.details.setAccessibleName("Details")
        self.form.addRow("Reason", self.reason)
        self.form.addRow("Details", self.details)
        self.finish()
        self.reason.setFocus()

    def save(self) -> None:
        choice, details = self.reason.currentText(), self.details.text().strip()
        if choice == "Other" and not details:
            raise ClinicError("Say why the course is being closed.")
        reason = details if choice == "Other" else (f"{choice}: {details}" if details else choice)
        self.course = patient_records.close_course(self.db, self.user, self.course.id, reason)

    def after_save(self) -> None:
        self.closed.emit(self.course)
        self.accept()
