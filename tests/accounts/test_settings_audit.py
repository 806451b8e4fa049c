"""Clinic settings: only an admin changes them, and every change lands in the audit log."""

from __future__ import annotations

import pytest

from console.audit import history, verify
from console.clinic import settings
from console.people.admin import create_user, set_active
from console.people.permissions import PermissionDenied
from tests.accounts.conftest import dump


def test_only_an_admin_changes_a_setting_and_the_change_is_audited(db, people) -> None:
    for who in ("tom", "sue"):
        before = dump(db)
        with pytest.raises(PermissionDenied, match="cannot change clinic settings"):
            settings.change_setting(db, people[who], "idle_lock_minutes", 1)
        assert dump(db) == before
    settings.change_setting(db, people["ada"], "idle_lock_minutes", 15)
    assert settings.get_setting(db, "idle_lock_minutes") == 15
    row = history(db, "setting", "idle_lock_minutes")[0]
    assert (row["actor"], row["action"], row["old"], row["new"]) == (
        "ada", "change_setting", {"value": 10}, {"value": 15})
    assert verify(db).ok


def test_a_disabled_admin_cannot_change_settings_with_an_old_login(db, people) -> None:
    bob = create_user(db, people["ada"], "bob", "Bob Admin", "admin", "bob-pass-123")
    set_active(db, bob, "ada", False)
    with pytest.raises(PermissionDenied, match="disabled"):
        settings.change_setting(db, people["ada"], "idle_lock_minutes", 5)
