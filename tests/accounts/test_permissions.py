"""Who may do what, checked in the domain layer with a message a person understands."""

from __future__ import annotations

import pytest

from console.people.permissions import ACTIONS, PermissionDenied, allowed, require
from console.people.user import User

WHO = "a supervisor or a physician can"  # who may sign, said in every refusal (issue 14, item 7)


def person(role: str, active: bool = True) -> User:
    return User(id=1, uuid="u", username=f"a-{role}", full_name="A Person", role=role, active=active)


def test_only_a_supervisor_signs_and_only_an_admin_manages_accounts_and_settings() -> None:
    tech, sup, admin = person("technician"), person("supervisor"), person("admin")
    assert [allowed(u, "sign_session") for u in (tech, sup, admin)] == [False, True, False]
    assert [allowed(u, "manage_users") for u in (tech, sup, admin)] == [False, False, True]
    assert [allowed(u, "edit_settings") for u in (tech, sup, admin)] == [False, False, True]
    assert [allowed(u, "record_session") for u in (tech, sup, admin)] == [True, True, False]


def test_a_refusal_says_who_cannot_do_what() -> None:
    with pytest.raises(PermissionDenied, match=rf"^A technician cannot sign sessions: {WHO}\.$"):
        require(person("technician"), "sign_session")
    with pytest.raises(PermissionDenied, match=rf"^An admin cannot sign sessions: {WHO}\.$"):
        require(person("admin"), "sign_session")
    with pytest.raises(PermissionDenied, match="disabled"):
        require(person("supervisor", active=False), "sign_session")
    with pytest.raises(PermissionDenied, match="Log in"):
        require(None, "record_session")
    assert isinstance(PermissionDenied("x"), PermissionError)


def test_an_unknown_action_is_a_programming_error_not_a_silent_yes() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        require(person("admin"), "sing_session")
    assert all(roles for _, roles in ACTIONS.values())
