"""Sign off a session of any chair at the review station: the same words as at a chair, signed at the hub.

The dialog collects; console.review.hub_signoff decides, on the page's worker thread (the password
check and the hub's write are not done on the window's thread). Until the answer comes the dialog
says "Signing …" and takes no second press; a refusal (wrong password, already signed, the hub out
of reach) is shown in place with the password cleared, as at the chair.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal

from console.review.hub_queue import HubQueueRow
from console.review.signoff import MEANINGS
from console.ui.review.signoff_dialog import MEANING_WORDS, SignOffMeanings, _SignatureDialog


class HubSignOffDialog(_SignatureDialog):
    """Meaning, optional comment, password; Sign sends it to the hub through the page's worker."""

    signed = Signal(str)
    """The uuid of the sign-off written at the hub."""

    def __init__(self, page: Any, row: HubQueueRow) -> None:
        title = (f"{row.clinic_id} ({row.initials}), session {row.number_in_course or '–'} "
                 f"at {row.chair_words}")
        super().__init__(
            "Sign off session",
            f"<b>{title}</b><br>Your electronic signature carries your name, the time and its meaning. "
            "It is kept at the clinic hub and goes to the chair that recorded the session; once signed, "
            "the session is locked there: later remarks become addenda.", page)
        self.page, self.row = page, row
        self.meanings = SignOffMeanings(self, MEANINGS, MEANING_WORDS)
        self.comment = self.meanings.comment_box(self)
        self.form.addRow("Meaning", self.meanings.layout)
        self.form.addRow("Comment", self.comment)
        self.form.addRow(f"Password of {page.user.full_name}", self.password)
        self.finish("Sign")
        self.password.setFocus()

    def _try(self) -> None:
        """Send; the answer comes back on the window's thread (:meth:`_answered`)."""
        self.ok.setEnabled(False)
        self.error.setText("Signing …")
        self.page.submit_sign_off(self.row.uuid, self.password.text(), self.meanings.meaning,
                                  self.comment.toPlainText(), self._answered)

    def _answered(self, result: Any, error: BaseException | None) -> None:
        self.ok.setEnabled(True)
        if error is not None:
            self.error.setText(str(error).strip().splitlines()[0] if str(error).strip() else "Not signed.")
            self.password.clear()
            self.password.setFocus()
            return
        self.signed.emit(result.uuid)
        self.accept()
