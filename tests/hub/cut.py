"""Cutting a push in the middle of a session, for real: the hub holds the push's INSERT of pulses
(a trigger installed in the test's own hub database waits on an advisory lock the test holds) while
the COPY of that session's pulses has been made, and the test then kills the push from either end."""

from __future__ import annotations

import time

import psycopg

LOCK = 4242


class PulseGate:
    """The ``nth`` INSERT into the hub's ``table`` (pulses unless told) waits until the test lets go
    (or cuts the push)."""

    def __init__(self, conninfo: str, nth: int, table: str = "pulses") -> None:
        self.conninfo = conninfo
        self.table = table
        self.holder = psycopg.connect(conninfo, autocommit=True)
        self.holder.execute("CREATE SEQUENCE cut_seq")
        self.holder.execute(f"""CREATE FUNCTION cut_here() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF nextval('cut_seq') = {int(nth)} THEN PERFORM pg_advisory_xact_lock({LOCK}); END IF;
            RETURN NULL; END $$""".encode())
        self.holder.execute(f"CREATE TRIGGER cut_here BEFORE INSERT ON {table} FOR EACH STATEMENT "
                            "EXECUTE FUNCTION cut_here()".encode())
        self.holder.execute("SELECT pg_advisory_lock(%s)", (LOCK,))

    def wait_for_push(self, timeout: float = 120.0) -> int:
        """The pid of the hub backend of the push, once it waits at the gate."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = self.holder.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND wait_event = 'advisory'").fetchone()
            if row:
                return int(row[0])
            time.sleep(0.05)
        raise AssertionError("the push never reached the gate")

    def terminate(self, pid: int) -> None:
        self.holder.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def open(self) -> None:
        """Let go, and take the gate away (the next push runs freely)."""
        self.holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))
        self.holder.execute(f"DROP TRIGGER cut_here ON {self.table}".encode())
        self.holder.close()
