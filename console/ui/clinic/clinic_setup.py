"""The first start's guided clinic set-up, asked of the admin right after their account is made.

It asks for the clinic's name, phone, supervising physician, target tolerances, idle lock and
MT interval (:data:`console.clinic.clinic_setup.SETUP_KEYS`), each saved through
``change_setting`` (audited). "Later" leaves the shipped defaults; the set-up is asked again at
the admin's next log-in until the clinic's name is saved, and every value can be changed later
in the Settings tab.
"""

from __future__ import annotations

from PySide6.QtWidgets import QScrollArea, QWidget

from console.clinic.clinic_setup import SETUP_KEYS
from console.errors import ClinicError
from console.people.user import User
from console.store import Store
from console.ui.clinic.settings_screen import SettingsForm
from console.ui.widgets.form_dialog import FormDialog
from console.ui.widgets.screen_fit import available_geometry


class ClinicSetupDialog(FormDialog):
    """Window-modal; saves the set-up's settings, then closes (``accepted``)."""

    def __init__(self, db: Store, user: User, parent: QWidget | None = None) -> None:
        super().__init__(
            "Set up the clinic",
            "Before anyone works at this console, tell it about your clinic. The tolerances, "
            "idle lock and motor-threshold interval start at the shipped values; change any of "
            "them now or later in the Settings tab. Each value is recorded with your name.",
            parent, ok_text="Save and continue")
        self.cancel.setText("Later")
        self.cancel.setAccessibleName("Later")
        self.settings = SettingsForm(db, user, SETUP_KEYS, self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.settings)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.body.addWidget(scroll, 1)
        self.finish()
        self.resize(720, min(660, available_geometry(parent).height() - 40))

    def save(self) -> None:
        if not str(self.settings.typed("clinic_name")).strip():
            raise ClinicError("Enter the clinic's name.")
        self.settings.save(also=SETUP_KEYS)
