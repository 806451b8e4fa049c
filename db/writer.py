"""The writer thread: every write of a live session goes through one connection,
in batches, so neither the device reader nor the UI ever waits for the disk.

Callers submit operations (``insert``, ``insert_many``, ``update``, ``call``);
submitting only appends to a queue. The thread gathers what arrived during a
short window and commits it as ONE transaction, at least every
``max_latency_s``: one fsync per batch instead of one per row.

What happens when a write fails, because nothing may be lost silently:

* A row the database refuses (a constraint, a trigger, a missing table) is
  an error of that operation only. The batch is rolled back and written
  again operation by operation (row by row for ``insert_many``), each in a
  savepoint, so every other operation of the batch still lands. The refusal
  is logged and reported through ``on_error`` and ``last_error``.
* A failure of the storage itself (disk full, I/O error, database locked for
  longer than the busy timeout) is not the rows' fault: the whole batch is
  kept, in order, and retried with back-off, later submissions queued behind
  it. ``flush`` does not report success until it has landed. ``failing``
  holds the fault while it lasts (``on_error`` hears its start, ``on_resumed``
  its end), and ``waiting_rows()`` says how many rows of each table wait.
* The files themselves can go: someone deletes the ``-wal``/``-shm`` files
  while recording (SQLite then keeps writing to the deleted log, and every
  other connection sees a database without it, so the session vanishes) or
  replaces the database file. Before each batch the writer checks that the
  paths still name the files it opened (device and inode). A deleted log is
  rescued: its rows are checkpointed into the database file through the
  still-open connection, and the connection is opened again on the new files.
  A replaced or deleted database file cannot be written any more: that is a
  storage failure like a full disk. Either way ``incident`` says so, for good.

Because of that second pass, a function given to :meth:`Writer.call` may run
twice; it must only write through the connection it is given and must not
commit or roll back itself.
"""

from __future__ import annotations

import atexit
import collections
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import sqlite_utils

from db.database import connect

log = logging.getLogger(__name__)

_INSERT, _INSERT_MANY, _UPDATE, _CALL, _FLUSH = range(5)

OTHER_WRITES = "(other writes)"
"""The table name ``waiting_rows()`` and ``abandoned_rows`` give to :meth:`Writer.call` operations."""

# Primary SQLite result codes that mean "the storage failed", not "this row is wrong".
_ENVIRONMENTAL_CODES = {
    5,   # SQLITE_BUSY
    6,   # SQLITE_LOCKED
    7,   # SQLITE_NOMEM
    8,   # SQLITE_READONLY
    10,  # SQLITE_IOERR
    13,  # SQLITE_FULL
    14,  # SQLITE_CANTOPEN
    15,  # SQLITE_PROTOCOL
}


def _is_environmental(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and (code & 0xFF) in _ENVIRONMENTAL_CODES


def storage_problem(exc: BaseException) -> str:
    """The storage fault in plain words, for people (never the raw SQLite text)."""
    if isinstance(exc, FilesReplaced):
        return str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else -1
    return {
        13: "the disk is full",
        10: "the disk could not be written (it may be full or failing)",
        8: "the database file cannot be written (it is read-only)",
        5: "another program is holding the database",
        6: "another program is holding the database",
        14: "the database file cannot be opened",
        7: "the computer is out of memory",
    }.get(primary, "the database could not be written")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _StorageFailed(Exception):
    """The batch could not be committed for a reason outside its rows: keep it and retry."""


class FilesReplaced(Exception):
    """The paths no longer name the files the writer opened (deleted or replaced); plain words."""


_FileIds = tuple[tuple[int, int] | None, ...]


def _file_ids(path: Path) -> _FileIds:
    """(device, inode) of the database file, its -wal and its -shm; None for a missing one."""
    ids: list[tuple[int, int] | None] = []
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        try:
            st = os.stat(name)
        except OSError:
            ids.append(None)
        else:
            ids.append((st.st_dev, st.st_ino))
    return tuple(ids)


def _rows_of(op: tuple) -> tuple[str, int]:
    """(table, rows) an operation writes, for the per-table count of rows waiting."""
    kind, target, payload = op
    if kind == _INSERT_MANY:
        return target, len(payload)
    if kind in (_INSERT, _UPDATE):
        return target, 1
    if kind == _CALL:
        return OTHER_WRITES, 1
    return "", 0


class Writer:
    """A thread with its own connection that commits submitted writes in batches.

    ``on_error`` is called from the writer thread with each error (a refused
    operation, the first failure of a storage outage, or the files found
    deleted or replaced); ``on_resumed`` once writes land again after an
    outage. Keep both short.
    """

    def __init__(self, path: Path | str, *, max_latency_s: float = 0.1) -> None:
        if max_latency_s <= 0:
            raise ValueError("max_latency_s must be positive")
        self.path = Path(path)
        self.max_latency_s = max_latency_s
        self.committed_batches = 0
        self.committed_operations = 0
        self.failed_operations = 0
        self.abandoned_operations = 0
        self.last_error: Exception | None = None
        self.on_error: Callable[[Exception], None] | None = None
        self.on_resumed: Callable[[], None] | None = None
        self.failing: Exception | None = None
        """The storage fault while it lasts (rows are kept and retried); None while writes land."""
        self.incident: FilesReplaced | None = None
        """Set for good once the files were found deleted or replaced (rescued or not)."""
        self.abandoned_rows: collections.Counter[str] = collections.Counter()
        """Rows per table given up at close because the storage kept failing (they are lost)."""
        self._waiting: collections.Counter[str] = collections.Counter()
        self._count_lock = threading.Lock()
        self._files: _FileIds = ()
        self._replaced_main = False
        self._queue: collections.deque[tuple] = collections.deque()
        self._retry: list[tuple] = []
        self._in_flight = 0
        self._wake = threading.Event()
        self._urgent = threading.Event()
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._stopping = False
        self._closed = False
        self._give_up_at = float("inf")
        self._thread: threading.Thread | None = None
        self._db: sqlite_utils.Database | None = None
        self._sql_cache: dict[tuple, str] = {}
        self._pk_cache: dict[str, str] = {}

    # -- submitting (any thread, never blocks) ---------------------------------

    def _submit(self, op: tuple) -> None:
        if self._closed or self._stopping:
            raise RuntimeError(f"the writer for {self.path} is closed; nothing more can be written")
        self._count(op, 1)
        self._queue.append(op)
        self._wake.set()

    def _count(self, op: tuple, sign: int) -> None:
        table, rows = _rows_of(op)
        if rows:
            with self._count_lock:
                self._waiting[table] += sign * rows

    def waiting_rows(self) -> dict[str, int]:
        """Rows per table submitted and not yet committed (nor refused, nor given up)."""
        with self._count_lock:
            return {table: n for table, n in self._waiting.items() if n > 0}

    def insert(self, table: str, row: dict) -> None:
        """Insert one row (values must be str, int, float, bytes or None)."""
        self._submit((_INSERT, table, row))

    def insert_many(self, table: str, rows: list[dict]) -> None:
        self._submit((_INSERT_MANY, table, list(rows)))

    def update(self, table: str, pk: int, changes: dict) -> None:
        """Change columns of the row with primary key ``pk``; an update that matches no row is an error."""
        if not changes:
            return
        self._submit((_UPDATE, table, (pk, dict(changes))))

    def call(self, fn: Callable[[sqlite_utils.Database], Any]) -> Future:
        """Run ``fn(db)`` in the writer's transaction, in submission order.

        Returns a future that holds fn's result once its batch has committed
        (or its exception). ``fn`` may run twice (see the module docstring).
        """
        future: Future = Future()
        self._submit((_CALL, fn, future))
        return future

    @property
    def running(self) -> bool:
        """The writer's thread is alive (a stopped writer saves nothing more, however long one waits)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def pending(self) -> int:
        """Operations submitted but not yet committed (for an "unsaved" indicator)."""
        return len(self._queue) + len(self._retry) + self._in_flight

    # -- life cycle -------------------------------------------------------------

    def start(self) -> None:
        """Open the writer's connection in its thread; raises what opening raised."""
        if self._thread is not None:
            raise RuntimeError("the writer has already been started")
        self._thread = threading.Thread(target=self._run, name=f"db-writer:{self.path.name}", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            self._closed = True
            raise self._start_error
        # A daemon thread, closed at interpreter exit so queued rows still land.
        atexit.register(self.close)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted before this call is committed (or refused and reported).

        Returns False when ``timeout`` passes first, or when the writer has
        stopped with operations it could not save.
        """
        if self._thread is None:
            raise RuntimeError("the writer has not been started")
        if threading.current_thread() is self._thread:
            raise RuntimeError("flush() from the writer's own thread (on_error?) would wait for itself")
        if not self._thread.is_alive():
            return self.pending == 0 and self.abandoned_operations == 0
        done = threading.Event()
        self._queue.append((_FLUSH, None, done))
        self._urgent.set()
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done.wait(0.2):
            if not self._thread.is_alive():
                return done.is_set()
            if deadline is not None and time.monotonic() >= deadline:
                return False
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, stop the thread and close its connection (idempotent).

        When the storage keeps failing for ``timeout`` seconds the remaining
        operations are given up: logged as an error and counted in
        ``abandoned_operations``.
        """
        if self._closed:
            return
        self._give_up_at = time.monotonic() + timeout
        self._stopping = True
        self._urgent.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout + 5.0)
            if self._thread.is_alive():
                log.error("the database writer for %s did not stop within %.0f s", self.path, timeout)
        self._closed = True
        atexit.unregister(self.close)

    def __enter__(self) -> Writer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._db = connect(self.path)
            self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the -wal and -shm exist now
            self._files = _file_ids(self.path)
        except BaseException as exc:  # handed to start(), which raises it in the caller
            self._start_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop()
        finally:
            if self._db is not None:
                self._db.close()

    def _loop(self) -> None:
        window = self.max_latency_s / 2  # leave the other half for the commit itself
        batch_start = time.monotonic()
        failures = 0
        while True:
            if not self._queue and not self._retry:
                if self._stopping:
                    return
                self._wake.wait()
                self._wake.clear()
                batch_start = time.monotonic()
            if self._retry:
                time.sleep(min(0.05 * 2 ** min(failures, 4), 0.5))
            else:
                remaining = batch_start + window - time.monotonic()
                if remaining > 0 and not self._stopping:
                    self._urgent.wait(remaining)
            self._urgent.clear()
            ops = self._retry + self._drain()
            self._in_flight, self._retry = len(ops), []
            try:
                try:
                    self._check_files()
                    self._write_batch(ops)
                except _StorageFailed:
                    raise
                except Exception as exc:  # a bug, not the rows: keep them rather than drop them
                    log.exception("the database writer failed unexpectedly")
                    raise _StorageFailed(str(exc)) from exc
            except _StorageFailed as exc:
                self._retry, self._in_flight = ops, 0
                failures += 1
                if failures == 1:
                    cause = exc.__cause__
                    self.failing = cause if isinstance(cause, Exception) else exc
                    self._report(self.failing)
                if self._stopping and time.monotonic() >= self._give_up_at:
                    self._abandon(exc)
                    return
                continue
            self._in_flight = 0
            if failures:
                log.warning("database writes resumed after %d failed attempt(s)", failures)
                failures = 0
                self.failing = None
                self._resumed()
            batch_start = time.monotonic()

    def _drain(self) -> list[tuple]:
        ops = []
        popleft = self._queue.popleft
        try:
            while True:
                ops.append(popleft())
        except IndexError:
            return ops

    def _abandon(self, exc: Exception) -> None:
        lost = [op for op in self._retry if op[0] != _FLUSH]
        self.abandoned_operations += len(lost)
        for op in lost:
            self._count(op, -1)
            table, rows = _rows_of(op)
            self.abandoned_rows[table] += rows
        self._retry = []
        log.error("%d database write(s) could not be saved to %s and were given up: %s",
                  len(lost), self.path, exc.__cause__ or exc)

    def _report(self, exc: Exception) -> None:
        self.last_error = exc
        if self.on_error is not None:
            try:
                self.on_error(exc)
            except Exception:
                log.exception("the writer's on_error callback failed")

    def _resumed(self) -> None:
        if self.on_resumed is not None:
            try:
                self.on_resumed()
            except Exception:
                log.exception("the writer's on_resumed callback failed")

    # -- its files ----------------------------------------------------------------

    def _check_files(self) -> None:
        """Before a batch: are the paths still the files opened? (three stat calls)"""
        if self._replaced_main:
            raise _StorageFailed("the database file was replaced") from self.incident
        now = _file_ids(self.path)
        if now == self._files:
            return
        if now[0] == self._files[0] and None in self._files[1:]:
            self._files = now  # a log SQLite had not made yet when the writer opened: nothing lost
            return
        if now[0] != self._files[0]:
            self._replaced_main = True
            self.incident = FilesReplaced(
                "the database file was deleted or replaced while recording; nothing more can be "
                "saved to it")
            log.error("%s: the database file is no longer the one opened (%s, was %s)",
                      self.path, now[0], self._files[0])
            raise _StorageFailed("the database file was replaced") from self.incident
        self._rescue()

    def _rescue(self) -> None:
        """The -wal/-shm were deleted (or replaced): what was written lives only in the deleted log,
        which no other connection sees. Copy it into the database file through this connection
        (checkpoint), then open the connection again so later rows go to the files others see."""
        db = self._db
        if db is not None:  # None: an earlier rescue checkpointed, then could not open again
            self._rollback()
            busy, frames, done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            log.error("%s: its -wal/-shm files were deleted while recording; the log was copied into "
                      "the database file (checkpoint: busy %s, %s of %s frames)", self.path, busy, done,
                      frames)
            if busy:
                raise _StorageFailed("the deleted log could not be copied into the database file")
            db.close()
            self._db = None
        self._sql_cache.clear()
        self._db = connect(self.path)
        self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        self._files = _file_ids(self.path)
        self.incident = FilesReplaced(
            "the database's working files (-wal, -shm) were deleted while recording; what had been "
            "recorded was copied back into the database file")
        self._report(self.incident)

    # -- writing one batch ------------------------------------------------------

    @property
    def _live_db(self) -> sqlite_utils.Database:
        """The thread's connection: opened by ``_run`` before any batch is written."""
        if self._db is None:
            raise RuntimeError(f"the writer for {self.path} has no open connection")
        return self._db

    def _write_batch(self, ops: list[tuple]) -> None:
        """Commit ``ops`` as one transaction, or fall back to one savepoint per operation."""
        conn = self._live_db.conn
        results: list[tuple[Future, Any]] = []
        self._rollback()  # never build on a transaction left open by a misbehaving call()
        try:
            conn.execute("BEGIN")
            self._apply_grouped(ops, results)
            conn.execute("COMMIT")
        except Exception as exc:
            self._rollback()
            if _is_environmental(exc):
                raise _StorageFailed(str(exc)) from exc
            log.warning("a write batch was refused (%s); writing it again one operation at a time", exc)
            self._replay(ops)
            return
        self._done(ops, results, [])

    def _apply_grouped(self, ops: list[tuple], results: list[tuple[Future, Any]]) -> None:
        """Apply ops in order; consecutive inserts of the same shape become one executemany."""
        conn = self._live_db.conn
        i, n = 0, len(ops)
        while i < n:
            kind, target, payload = ops[i]
            if kind == _INSERT:
                keys = tuple(payload)
                params = [tuple(payload.values())]
                i += 1
                while i < n:
                    k2, t2, p2 = ops[i]
                    if k2 != _INSERT or t2 != target or tuple(p2) != keys:
                        break
                    params.append(tuple(p2.values()))
                    i += 1
                conn.executemany(self._insert_sql(target, keys), params)
                continue
            if kind == _INSERT_MANY:
                self._insert_rows(target, payload)
            elif kind == _UPDATE:
                self._update(target, *payload)
            elif kind == _CALL:
                results.append((payload, target(self._live_db)))
            i += 1

    def _insert_rows(self, table: str, rows: list[dict]) -> None:
        conn = self._live_db.conn
        start = 0
        while start < len(rows):
            keys = tuple(rows[start])
            end = start + 1
            while end < len(rows) and tuple(rows[end]) == keys:
                end += 1
            conn.executemany(self._insert_sql(table, keys), [tuple(r.values()) for r in rows[start:end]])
            start = end

    def _insert_sql(self, table: str, keys: tuple) -> str:
        sql = self._sql_cache.get((table, keys))
        if sql is None:
            sql = "INSERT INTO {} ({}) VALUES ({})".format(
                _quote(table), ", ".join(_quote(k) for k in keys), ", ".join("?" * len(keys))
            )
            self._sql_cache[(table, keys)] = sql
        return sql

    def _update(self, table: str, pk: int, changes: dict) -> None:
        pk_col = self._pk_cache.get(table)
        if pk_col is None:
            info = self._live_db.conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
            if not info:
                raise sqlite3.OperationalError(f"no such table: {table}")
            keyed = [row[1] for row in info if row[5]]
            if len(keyed) > 1:
                raise sqlite3.ProgrammingError(f"table {table} has a composite key; use call() to update it")
            pk_col = _quote(keyed[0]) if keyed else "rowid"
            self._pk_cache[table] = pk_col
        sets = ", ".join(f"{_quote(k)} = ?" for k in changes)
        cur = self._live_db.conn.execute(
            f"UPDATE {_quote(table)} SET {sets} WHERE {pk_col} = ?", [*changes.values(), pk]
        )
        if cur.rowcount == 0:
            raise sqlite3.IntegrityError(f"update of {table} {pk}: there is no such row")

    def _rollback(self) -> None:
        try:
            if self._live_db.conn.in_transaction:
                self._live_db.conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")

    def _units(self, ops: list[tuple]) -> Iterator[tuple[int, Callable[[], Any], str]]:
        """(op index, work, description) — insert_many split into rows, so one bad row costs one row."""
        for index, (kind, target, payload) in enumerate(ops):
            if kind == _INSERT:
                yield index, functools.partial(self._insert_rows, target, [payload]), f"insert into {target}"
            elif kind == _INSERT_MANY:
                for row in payload:
                    yield index, functools.partial(self._insert_rows, target, [row]), f"insert into {target}"
            elif kind == _UPDATE:
                yield index, functools.partial(self._update, target, *payload), f"update of {target}"
            elif kind == _CALL:
                name = getattr(target, "__name__", repr(target))
                yield index, functools.partial(self._call, target), f"call of {name}"

    def _call(self, fn: Callable[[sqlite_utils.Database], Any]) -> Any:
        return fn(self._live_db)

    def _replay(self, ops: list[tuple]) -> None:
        conn = self._live_db.conn
        units = list(self._units(ops))
        refused: dict[int, Exception] = {}
        while True:
            results: list[tuple[Future, Any]] = []
            restart = False
            try:
                conn.execute("BEGIN")
                for n, (index, work, _what) in enumerate(units):
                    if n in refused:
                        continue
                    conn.execute("SAVEPOINT writer_unit")
                    try:
                        value = work()
                    except Exception as exc:
                        if _is_environmental(exc):
                            raise
                        refused[n] = exc
                        if not conn.in_transaction:  # the error ended the transaction: start again
                            restart = True
                            break
                        conn.execute("ROLLBACK TO writer_unit")
                        conn.execute("RELEASE writer_unit")
                        continue
                    conn.execute("RELEASE writer_unit")
                    if ops[index][0] == _CALL:
                        results.append((ops[index][2], value))
                if restart:
                    self._rollback()
                    continue
                conn.execute("COMMIT")
            except Exception as exc:
                self._rollback()
                if _is_environmental(exc):
                    raise _StorageFailed(str(exc)) from exc
                raise  # a failure of BEGIN/SAVEPOINT itself: a bug, let the loop's caller see it
            break
        all_errors = [(units[n][0], units[n][2], exc) for n, exc in sorted(refused.items())]
        self._done(ops, results, all_errors)

    def _done(self, ops: list[tuple], results: list[tuple[Future, Any]],
              errors: list[tuple[int, str, Exception]]) -> None:
        """Account for a committed batch: report refusals, resolve futures, release flushes."""
        self.committed_batches += 1
        refused: dict[int, tuple[str, Exception, int]] = {}
        for index, what, exc in errors:
            _, first, rows = refused.get(index, (what, exc, 0))
            refused[index] = (what, first, rows + 1)
        for index, (what, exc, rows) in refused.items():
            # One report per operation, however many of its rows were refused.
            self.failed_operations += 1
            suffix = ""
            if ops[index][0] == _INSERT_MANY:
                suffix = f" ({rows} of {len(ops[index][2])} rows refused, the others written)"
            log.error("the database refused a write (%s): %s%s", what, exc, suffix)
            self._report(exc)
            if ops[index][0] == _CALL:
                ops[index][2].set_exception(exc)
        for future, value in results:
            future.set_result(value)
        for index, (kind, _target, payload) in enumerate(ops):
            if kind == _FLUSH:
                payload.set()
                continue
            self._count(ops[index], -1)
            if index not in refused:
                self.committed_operations += 1
