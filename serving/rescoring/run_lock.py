"""One writer per run: a lock held while a process rescores an (as_of, model version).

Two commands started for the same run must not both write it (each would delete and rewrite
the other's buckets, and one could mark complete what the other is still changing). The lock
is one the operating system or the database server drops when its holder dies, so a run
killed with ``kill -9`` never leaves it behind and the next command resumes at once:

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection kept open
  for the run, keyed by the run id;
* SQLite on a file: ``flock`` on ``<database file>.rescore-<run id>.lock`` beside it (the
  empty file stays; only the lock matters);
* in-memory SQLite: nothing (one process only can see that database).

The second command does not wait: it stops at once with :class:`RunLockedError`, a one-line
message naming the run, having written nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine

from creditrisk.serving.rescoring.store import RescoringError, RunKey


class RunLockedError(RescoringError):
    """Another process holds the run's lock (it is rescoring the same run right now)."""


def advisory_key(run_id: str) -> int:
    """The run's PostgreSQL advisory lock key (a signed 64-bit integer from the run id)."""
    return int.from_bytes(hashlib.sha256(run_id.encode("utf-8")).digest()[:8], "big",
                          signed=True)


def lock_path(database: str, run_id: str) -> Path:
    """The lock file of a run on the SQLite database file ``database``."""
    path = Path(database)
    return path.with_name(f"{path.name}.rescore-{run_id[:16]}.lock")


def _locked(key: RunKey) -> RunLockedError:
    return RunLockedError(
        f"the run as of {key.as_of} of model {key.model_name} version {key.model_version} is "
        "being rescored by another process right now; nothing was written (wait for it to "
        "finish, then run the command again)")


@contextmanager
def run_lock(engine: Engine, key: RunKey) -> Iterator[None]:
    """Hold the run's lock for the ``with`` block; :class:`RunLockedError` when held."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            number = advisory_key(key.run_id)
            if not conn.execute(sa.select(sa.func.pg_try_advisory_lock(number))).scalar():
                raise _locked(key)
            try:
                yield
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(number)))
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    handle = os.open(lock_path(database, key.run_id), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _locked(key) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
