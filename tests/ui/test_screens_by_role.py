"""Every screen the main window lists for a role opens for a person of that role.

The screens are imported by name (no placeholder for a screen not written yet),
so a listed screen whose module is missing or whose constructor fails shows here.
"""

from __future__ import annotations

import pytest

from console.people.user import ROLES, get_user
from console.ui.main_window import CHAIR, SCREENS, MainWindow

USERNAME = {"technician": "tina", "supervisor": "sam", "physician": "phil", "admin": "admin"}


def test_every_role_has_screens() -> None:
    assert set(SCREENS) == set(ROLES)
    assert all(SCREENS[role] for role in ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_listed_screen_opens(qtbot, clinic, role: str) -> None:
    window = MainWindow(clinic.db, clinic.path)
    qtbot.addWidget(window)
    try:
        user = get_user(clinic.db, USERNAME[role])
        assert user is not None and user.role == role
        window.set_user(user)
        listed = SCREENS[role]
        assert [name for name, _ in window.screens] == [name for name, _ in listed]
        for (_, screen), (_, widget) in zip(listed, window.screens, strict=True):
            if screen == CHAIR:
                assert widget is window.chair
            else:
                assert isinstance(widget, screen)  # type: ignore[arg-type]
        assert not window.notice.isVisible(), window.notice.text()
    finally:
        window.shutdown()
