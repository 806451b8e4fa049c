"""The vendored copies of the shared protocol files must match ../shared when it is there."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED_CHECKOUT, VENDORED


@pytest.mark.parametrize("name", ["vectors.json", "session-export.schema.json"])
def test_vendored_protocol_file_matches_shared(name: str) -> None:
    shared = SHARED_CHECKOUT / "protocol" / name
    if not shared.exists():
        pytest.skip("../shared is not checked out beside this clone")
    assert (VENDORED / "protocol" / name).read_bytes() == shared.read_bytes(), (
        f"tests/fixtures/protocol/{name} differs from ../shared/protocol/{name}: copy it again"
    )
