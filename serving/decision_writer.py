"""Decision log rows written from the event loop on a file SQLite database (see
:class:`SqliteLoopWriter`), the rows of one turn of the loop in one commit
(:class:`LoopGroupCommit`); :mod:`creditrisk.serving.decision_log` falls back to a worker
thread whenever this writer cannot write at once. The write-ahead log those commits fill is
copied into the database file by :class:`WalCheckpointer`'s thread, never on the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import DBAPIError

from creditrisk.serving.tables import decision_log

__all__ = ["LoopGroupCommit", "SqliteLoopWriter", "WalCheckpointer"]

logger = logging.getLogger("creditrisk.decision_writer")

CHECKPOINT_EVERY_COMMITS = 100
"""A decision row dirties about 7 pages (the table and its four indexes): 100 rows are at
most about the 1,000 pages at which SQLite would checkpoint on its own (rows committed
together share some of their index pages)."""
CHECKPOINT_IDLE_SECONDS = 2.0
"""The checkpointer also runs this long after its last run when few rows came in."""


class WalCheckpointer:
    """Checkpoints a WAL-mode SQLite database from a daemon thread (``PRAGMA
    wal_checkpoint(PASSIVE)``: copies what it can, never waits for readers or writers).

    Why: SQLite checkpoints inside the commit that crosses ``wal_autocheckpoint`` (1,000
    pages), and a checkpoint ends with an fsync of the database file. Measured on this
    machine's disk (2 cores, load ~14): a checkpoint of ~1,450 pages took 50-80 ms of wall
    time for ~5 ms of CPU, once every ~200 decision rows; on the event loop that stalled
    every request in flight. Here the thread waits for the disk without the GIL (the sqlite3
    module releases it around each statement). :meth:`committed` (a counter and, every
    :data:`CHECKPOINT_EVERY_COMMITS`, an Event) is all the writer pays. The thread stops
    with :meth:`close` or when the checkpointer is garbage collected."""

    def __init__(self, engine: Engine, *, every_commits: int = CHECKPOINT_EVERY_COMMITS,
                 idle_seconds: float = CHECKPOINT_IDLE_SECONDS) -> None:
        self._engine = engine
        self._every = every_commits
        self._idle_seconds = idle_seconds
        self._commits = 0
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0
        """Checkpoints run (tests and diagnostics)."""

    def committed(self, rows: int = 1) -> None:
        """Count one commit of ``rows`` rows on the database; every ``every_commits`` rows
        wake the thread."""
        if self._thread is None:
            self._start()
        self._commits += rows
        if self._commits >= self._every:
            self._commits = 0
            self._wake.set()

    def _start(self) -> None:
        thread = threading.Thread(
            target=_checkpoint_loop,
            args=(weakref.ref(self), self._wake, self._stopped, self._idle_seconds),
            name="creditrisk-wal-checkpoint",
            daemon=True,
        )
        self._thread = thread
        thread.start()

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        """One passive checkpoint on ``connection`` (errors are logged, never raised: the
        next run or SQLite's own checkpoint in another connection catches up)."""
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            logger.warning("WAL checkpoint failed: %s", type(exc).__name__)
        self.checkpoints += 1

    def close(self) -> None:
        """Stop the thread (after its current checkpoint)."""
        self._stopped.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)


def _checkpoint_loop(
    owner_ref: weakref.ReferenceType[WalCheckpointer], wake: threading.Event,
    stopped: threading.Event, idle_seconds: float,
) -> None:
    owner = owner_ref()
    if owner is None:
        return
    fairy = owner._engine.raw_connection()
    connection = fairy.driver_connection
    del owner  # only a weak reference between runs: the thread ends with its owner
    if not isinstance(connection, sqlite3.Connection):  # pragma: no cover - SQLite only
        fairy.close()
        return
    try:
        while not stopped.is_set():
            wake.wait(timeout=idle_seconds)
            wake.clear()
            owner = owner_ref()
            if owner is None or stopped.is_set():
                return
            owner.checkpoint(connection)
            del owner
    finally:
        with contextlib.suppress(Exception):
            fairy.close()


class SqliteLoopWriter:
    """Decision rows written from the event loop into a file SQLite database, on one
    persistent connection that never waits for the write lock (``busy_timeout`` 0).

    Why: the insert itself is about 0.1 ms, but handing it to a worker thread and back costs
    more than that at concurrency 4 on one worker (the thread waits for the GIL while the
    loop scores the next request, and the loop then waits for it). In WAL mode with
    ``synchronous=NORMAL`` a commit writes to the page cache and fsyncs only at a checkpoint.
    :meth:`try_insert` says False when the row was not written - the lock is held (an
    import) or any other database error - and the caller writes the same row the usual way
    (a worker thread, the engine's busy timeout and error handling), so the loop never waits
    for a lock and an outage is reported as before. PostgreSQL (a network round trip per
    commit) keeps the worker thread."""

    def __init__(self, engine: Engine, *, checkpointer: WalCheckpointer | None = None) -> None:
        self._engine = engine
        self._fairy: Any = None  # the pool's checked-out connection, kept for the app's life
        self.checkpointer = checkpointer if checkpointer is not None else WalCheckpointer(engine)
        # compiled once by SQLAlchemy for this dialect: every column, positional parameters
        compiled = insert(decision_log).compile(
            dialect=engine.dialect, column_keys=[column.name for column in decision_log.columns]
        )
        self._sql = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._processors = tuple(  # e.g. SQLite's text form of a datetime
            decision_log.c[name].type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
            for name in self._names
        )

    @staticmethod
    def serves(engine: Engine) -> bool:
        """True for a file SQLite database (an in-memory one is per connection or thread)."""
        database = engine.url.database or ""
        return (
            engine.dialect.name == "sqlite"
            and database not in ("", ":memory:")
            and "mode=memory" not in str(engine.url)
        )

    def _connection(self) -> sqlite3.Connection:
        if self._fairy is None:
            fairy = self._engine.raw_connection()
            driver = fairy.driver_connection
            if driver is None:  # pragma: no cover - a checked-out connection has its driver's
                raise sqlite3.InterfaceError("the pool gave no driver connection")
            driver.execute("PRAGMA busy_timeout=0")
            driver.execute("PRAGMA wal_autocheckpoint=0")  # WalCheckpointer's job, off the loop
            self._fairy = fairy
        connection: sqlite3.Connection = self._fairy.driver_connection
        return connection

    def try_insert(self, row: dict[str, Any]) -> bool:
        """Insert and commit ``row`` (a :func:`decision_row`) now; False when not written."""
        return self.try_insert_many((row,))

    def try_insert_many(self, rows: Sequence[dict[str, Any]]) -> bool:
        """Insert ``rows`` in one transaction and commit it now: True when every row is on
        file, False when none is (the transaction is rolled back)."""
        params = [
            tuple(
                row[name] if processor is None else processor(row[name])
                for name, processor in zip(self._names, self._processors, strict=True)
            )
            for row in rows
        ]
        try:
            connection = self._connection()
        except (DBAPIError, sqlite3.Error):  # a new connection's pragmas met a held lock
            return False
        try:
            for values in params:  # executemany would not say which statement failed
                connection.execute(self._sql, values)
            connection.commit()
        except sqlite3.Error as exc:
            self._recover(exc)
            return False
        self.checkpointer.committed(len(params))
        return True

    def _recover(self, exc: sqlite3.Error) -> None:
        busy = getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")
        try:
            if self._fairy is not None:
                self._fairy.driver_connection.rollback()
        except sqlite3.Error:
            busy = False
        if not busy:
            self._drop_connection()  # a fresh connection next time

    def close(self) -> None:
        """Stop the checkpointer and give back the connection."""
        self.checkpointer.close()
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self._fairy is not None:
            fairy, self._fairy = self._fairy, None
            with contextlib.suppress(sqlite3.Error):
                fairy.invalidate()


class LoopGroupCommit:
    """Rows handed in during one turn of the event loop, committed together by
    :class:`SqliteLoopWriter` (group commit); each caller resumes only after that commit.

    Why: a commit costs more CPU than the insert itself: in WAL mode it writes every page
    the transaction dirtied (the table and its four indexes) into the log, a few
    ``pwrite`` calls per page. Measured on a copy of the demo database (application rows,
    uvloop, load ~1.3), CPU per row: one commit per row 198 us; grouped, 223 us for groups
    of one (the future's round trip), 151 us for two, 109 us for four. Requests that reach
    their decision log row in the same turn of the loop share one commit: at concurrency 4
    on one uvicorn worker 2.4 rows per commit on average. A caller never waits for later
    requests: the commit runs as soon as the loop has run what was already ready
    (``call_soon``), and a row handed in alone is committed alone.

    :meth:`insert` says True once its row is committed, False when the group's commit
    failed (nothing of the group is written; each caller then writes its own row the
    worker-thread way, as after a failed :meth:`SqliteLoopWriter.try_insert`)."""

    def __init__(self, writer: SqliteLoopWriter) -> None:
        self.writer = writer
        self._pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self.commits = 0
        """Group commits run (tests and diagnostics)."""

    async def insert(self, row: dict[str, Any]) -> bool:
        """Hand ``row`` in; True once it is committed with the rows of this turn."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio (trio): one row, one commit
            return self.writer.try_insert(row)
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.append((row, future))
        if len(self._pending) == 1:
            loop.call_soon(self._commit_pending)
        return await future

    def _commit_pending(self) -> None:
        group, self._pending = self._pending, []
        try:
            written = self.writer.try_insert_many([row for row, _ in group])
        except Exception as exc:  # handed to every caller of the group, never lost
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        self.commits += 1
        for _, future in group:
            if not future.done():  # a caller cancelled meanwhile: its row is on file anyway
                future.set_result(written)
