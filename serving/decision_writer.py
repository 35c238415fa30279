"""Decision log rows written from the event loop on a file SQLite database (see
:class:`SqliteLoopWriter`); :mod:`creditrisk.serving.decision_log` falls back to a worker
thread whenever this writer cannot write at once."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import DBAPIError

from creditrisk.serving.tables import decision_log

__all__ = ["SqliteLoopWriter"]


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

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._fairy: Any = None  # the pool's checked-out connection, kept for the app's life
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
            self._fairy = fairy
        connection: sqlite3.Connection = self._fairy.driver_connection
        return connection

    def try_insert(self, row: dict[str, Any]) -> bool:
        """Insert and commit ``row`` (a :func:`decision_row`) now; False when not written."""
        params = tuple(
            row[name] if processor is None else processor(row[name])
            for name, processor in zip(self._names, self._processors, strict=True)
        )
        try:
            connection = self._connection()
        except (DBAPIError, sqlite3.Error):  # a new connection's pragmas met a held lock
            return False
        try:
            connection.execute(self._sql, params)
            connection.commit()
        except sqlite3.Error as exc:
            self._recover(exc)
            return False
        return True

    def _recover(self, exc: sqlite3.Error) -> None:
        busy = getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")
        try:
            if self._fairy is not None:
                self._fairy.driver_connection.rollback()
        except sqlite3.Error:
            busy = False
        if not busy:
            self.close()  # a fresh connection next time

    def close(self) -> None:
        if self._fairy is not None:
            fairy, self._fairy = self._fairy, None
            with contextlib.suppress(sqlite3.Error):
                fairy.invalidate()
