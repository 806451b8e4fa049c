"""Sign-off and addendum dialogs: an electronic signature needs the password typed again.

The dialog only collects; console.review.signoff decides. A wrong password, a
technician's attempt, a session still recording: the domain refuses with a
message, which the dialog shows in place (the password field cleared, the
dialog still open) so the supervisor can correct and try again. Only a
signature actually written closes it, with ``signed`` (or ``added``) emitted.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.errors import ClinicError
from console.people.user import User
from console.review.signoff import (
    MAX_ADDENDUM_LENGTH,
    MEANINGS,
    Signature,
    add_addendum,
    is_signed,
    sign_session,
)
from console.store import Store

log = logging.getLogger(__name__)

MEANING_WORDS = {
    "reviewed": "Reviewed — I have reviewed this session's record",
    "approved": "Approved — I approve this session as recorded",
}


class SignOffMeanings(QButtonGroup):
    """What a sign-off means, one radio button each, the first chosen; with the comment box that goes
    beside it. Shared by the chair's sign-off and the review station's (at the hub)."""

    def __init__(self, parent: QWidget, meanings: tuple[str, ...], words: dict[str, str]) -> None:
        super().__init__(parent)
        self.meanings = meanings
        self.layout = QVBoxLayout()
        for i, meaning in enumerate(meanings):
            button = QRadioButton(words.get(meaning, meaning), parent)
            button.setProperty("meaning", meaning)
            button.setChecked(i == 0)
            self.addButton(button, i)
            self.layout.addWidget(button)

    @property
    def meaning(self) -> str:
        checked = self.checkedButton()
        return str(checked.property("meaning")) if checked else self.meanings[0]

    def choose(self, meaning: str) -> None:
        for button in self.buttons():
            button.setChecked(button.property("meaning") == meaning)

    @staticmethod
    def comment_box(parent: QWidget) -> QPlainTextEdit:
        comment = QPlainTextEdit(parent)
        comment.setPlaceholderText("Optional comment (printed with the signature)")
        comment.setFixedHeight(80)
        comment.setAccessibleName("Comment")
        return comment


class _SignatureDialog(QDialog):
    def __init__(self, title: str, intro: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(520)
        self.layout_ = QVBoxLayout(self)
        label = QLabel(intro, self)
        label.setWordWrap(True)
        self.layout_.addWidget(label)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.error = QLabel("", self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self._try)
        self.buttons.rejected.connect(self.reject)

    def finish(self, ok_text: str) -> None:
        self.ok.setText(ok_text)
        self.ok.setDefault(True)
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.buttons)
        # Wide enough for every line of the form: the wrapped intro would otherwise let the window
        # open narrower than the meanings, cutting off what the signature means.
        self.resize(max(self.width(), self.layout_.minimumSize().width()), self.sizeHint().height())

    def _try(self) -> None:
        try:
            self.submit()
        except (ClinicError, PermissionError) as exc:
            self.error.setText(str(exc))
            self.password.clear()
            self.password.setFocus()
            return
        self.accept()

    def submit(self) -> None:
        raise NotImplementedError


class SignOffDialog(_SignatureDialog):
    """Sign one session: meaning (reviewed / approved), optional comment, password."""

    signed = Signal(object)
    """The Signature written."""

    def __init__(self, db: Store, user: User, session_id: int, title: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(
            "Sign off session",
            f"<b>{title}</b><br>Your electronic signature carries your name, the time and its meaning. "
            "Once signed, the session is locked: later remarks become addenda.", parent)
        self.db, self.user, self.session_id = db, user, session_id
        self.signature: Signature | None = None
        self.meanings = SignOffMeanings(self, MEANINGS, MEANING_WORDS)
        self.comment = self.meanings.comment_box(self)
        self.form.addRow("Meaning", self.meanings.layout)
        self.form.addRow("Comment", self.comment)
        self.form.addRow(f"Password of {user.full_name}", self.password)
        self.finish("Sign")
        self.password.setFocus()

    @property
    def meaning(self) -> str:
        return self.meanings.meaning

    def choose(self, meaning: str) -> None:
        self.meanings.choose(meaning)

    def submit(self) -> None:
        self.signature = sign_session(self.db, self.user, self.session_id, self.password.text(), self.meaning,
                                      self.comment.toPlainText())
        self.signed.emit(self.signature)


class AddendumDialog(_SignatureDialog):
    """A later remark on an ended session; on a signed session the author signs it with the password."""

    added = Signal(int)
    """The id of the addendum written."""

    def __init__(self, db: Store, user: User, session_id: int, title: str,
                 parent: QWidget | None = None) -> None:
        self.needs_password = is_signed(db, session_id)
        intro = (f"<b>{title}</b><br>An addendum is added to the record; nothing in the record changes. "
                 + ("The session is signed, so your addendum is signed too: type your password."
                    if self.needs_password else ""))
        super().__init__("Add addendum", intro, parent)
        self.db, self.user, self.session_id = db, user, session_id
        self.addendum_id: int | None = None
        self.text = QPlainTextEdit(self)
        self.text.setAccessibleName("Addendum")
        self.text.setPlaceholderText("The correction or remark, in full")
        self.text.setMinimumHeight(120)
        self.count = QLabel(f"0 / {MAX_ADDENDUM_LENGTH}", self)
        self.count.setObjectName("hint")
        self.text.textChanged.connect(lambda: self.count.setText(
            f"{len(self.text.toPlainText())} / {MAX_ADDENDUM_LENGTH}"))
        box = QHBoxLayout()
        box.addWidget(self.text, 1)
        self.form.addRow("Addendum", box)
        self.form.addRow("", self.count)
        if self.needs_password:
            self.form.addRow(f"Password of {user.full_name}", self.password)
        else:
            self.password.hide()
        self.finish("Sign and add" if self.needs_password else "Add")
        self.text.setFocus()

    def submit(self) -> None:
        password = self.password.text() if self.needs_password else None
        self.addendum_id = add_addendum(self.db, self.user, self.session_id, self.text.toPlainText(),
                                        password)
        self.added.emit(self.addendum_id)
