"""inserted_id: every record created through a raw INSERT gets its id from here."""

from __future__ import annotations

import sqlite3

import pytest

from db.database import inserted_id


def test_the_id_of_the_row_just_inserted_and_a_refusal_without_an_insert() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO t (id, v) VALUES (41, 'a')")
        assert inserted_id(conn.execute("INSERT INTO t (v) VALUES ('b')")) == 42
        with pytest.raises(sqlite3.InterfaceError, match="inserted no row"):
            inserted_id(conn.cursor())
    finally:
        conn.close()
