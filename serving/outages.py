"""Database failures as the service reports them: an outage (retry later) or a bug, and a
log-safe summary of either.

An *outage* is a failure the database causes, not the request: the server is down or
restarting, the connection was refused or dropped, the pool is exhausted, the database is
read-only (a failover replica, ``default_transaction_read_only``), SQLite's write lock was
not granted in time. The API answers it 503 with ``Retry-After``
(:mod:`creditrisk.serving.api.errors`) and logs one line without a traceback.

What a database error's text carries is never logged: a driver message can quote the values
of the statement (``Key (customer_id)=(...) already exists``, the failing bytes of a string),
and SQLAlchemy appends ``[parameters: ...]`` unless the engine hides them (every engine of
:func:`creditrisk.ledger.database.make_engine` does). :func:`failure_summary` keeps the
exception classes and the SQLSTATE code only.
"""

from __future__ import annotations

import traceback
from typing import Final

from sqlalchemy import exc as sa_exc

OUTAGE_SQLSTATE_CLASSES: Final = ("08", "53", "57")
"""SQLSTATE classes of an unavailable server: connection exception, insufficient resources
(too many connections, disk full), operator intervention (shutdown, cannot connect now)."""
READ_ONLY_SQLSTATE: Final = "25006"
"""``read_only_sql_transaction``: a write on a read-only database or transaction."""
SQLITE_OUTAGE_ERRORS: Final = (
    "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR",
    "SQLITE_FULL", "SQLITE_PROTOCOL",
)
"""sqlite3 error names of a file that cannot be written or read now (locked, read-only,
missing, disk full); other SQLite errors are bugs."""


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE code of the driver error behind ``exc`` (None when there is none)."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code if isinstance(code, str) else None


def is_database_outage(exc: BaseException) -> bool:
    """True when ``exc`` says the database is unavailable (or read-only), not that the
    request or the code is wrong."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # pool exhausted / connection invalidated
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = sqlstate_of(exc)
    if state == READ_ONLY_SQLSTATE or (state is not None and state[:2] in OUTAGE_SQLSTATE_CLASSES):
        return True
    sqlite_error = getattr(getattr(exc, "orig", None), "sqlite_errorname", None)
    if isinstance(sqlite_error, str):  # "no such table" is SQLITE_ERROR: a bug, not an outage
        return sqlite_error.startswith(SQLITE_OUTAGE_ERRORS)
    # psycopg raises OperationalError for a refused or dropped connection and InterfaceError
    # on a closed one, without SQLSTATE
    return state is None and isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)


def _described(exc: BaseException) -> str:
    state = sqlstate_of(exc)
    orig = getattr(exc, "orig", None)
    name = type(exc).__name__
    if orig is not None:
        name += f"({type(orig).__module__}.{type(orig).__name__})"
    return f"{name} sqlstate={state}" if state else name


def failure_summary(exc: BaseException) -> str:
    """The exception chain as class names and SQLSTATE codes, never its text."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 5:
        seen.add(id(current))
        parts.append(_described(current))
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def scrubbed_traceback(exc: BaseException) -> str:
    """Where ``exc`` was raised (file, line, function per frame) and its class chain: a
    traceback for the log without any exception message or local value."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames[-12:]]
    return "\n".join([f"{failure_summary(exc)}", *lines])
