"""A real PostgreSQL hub per test (its own database, dropped after) and chair files recorded the real way.

The server is the one the project's machines run on 127.0.0.1:5432 (``TMS_TEST_PG`` names
another); when none answers, the hub tests skip with a message saying so, loudly.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from db.hub import schema

ADMIN_URL = os.environ.get("TMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"HUB TESTS NOT RUN: no PostgreSQL server answers at {ADMIN_URL} ({exc}); "
                    "start one (or set TMS_TEST_PG) to test the hub.")


def _url_of(dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=dbname)


@pytest.fixture
def empty_hub() -> Iterator[str]:
    """The conninfo of a new, empty database on the real server, dropped after the test."""
    name = f"hubtest_{uuid.uuid4().hex[:16]}"
    with _admin() as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    try:
        yield _url_of(name)
    finally:
        with _admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


@pytest.fixture
def hub(empty_hub: str) -> str:
    """A hub with its schema made."""
    with psycopg.connect(empty_hub, autocommit=True) as conn:
        schema.init(conn)
    return empty_hub


def _build(folder: Path, patients: tuple) -> Path:
    from console.demo import build_demo_database
    path = folder / "chair.db"
    build_demo_database(path, patients=patients)
    return path


@pytest.fixture(scope="session")
def _demo_chair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from console.demo import PATIENTS
    return _build(tmp_path_factory.mktemp("chair-a"), PATIENTS)


@pytest.fixture(scope="session")
def _small_chair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from console.demo import PATIENTS
    return _build(tmp_path_factory.mktemp("chair-b"), PATIENTS[3:])


def copy_db(source: Path, dest: Path) -> Path:
    """A consistent copy of a chair's file (SQLite's backup API), so each test has its own chair."""
    src, dst = sqlite3.connect(source), sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return dest


@pytest.fixture
def chair_a(_demo_chair: Path, tmp_path: Path) -> Path:
    """The demo clinic (4 patients, 8 sessions recorded through the real path, 2 signed)."""
    return copy_db(_demo_chair, tmp_path / "chair-a.db")


@pytest.fixture
def chair_b(_small_chair: Path, tmp_path: Path) -> Path:
    """Another chair: one patient, one accelerated iTBS session, its own uuids."""
    return copy_db(_small_chair, tmp_path / "chair-b.db")


def origin_of(chair: Path) -> str:
    """The chair id a chair's file keeps (table chair_identity): what its rows carry at the hub."""
    conn = sqlite3.connect(chair)
    try:
        return str(conn.execute("SELECT origin FROM chair_identity").fetchone()[0])
    finally:
        conn.close()
