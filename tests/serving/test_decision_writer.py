"""The decision log's event-loop writer on a file SQLite database (serving/decision_writer.py):
the row it writes reads back like the worker-thread writer's, it never waits for a held write
lock, and the same row then goes the worker-thread way once the lock is free; its commits never
checkpoint the WAL (an fsync on the loop): the checkpointer thread does."""

from __future__ import annotations

import dataclasses
import gc
import re
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from sqlalchemy import Engine, func, select

from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.serving.decision_log import (
    DECISION_ID_PATTERN,
    DecisionLog,
    DecisionRecord,
    decision_row,
    get_decision,
    new_decision_id,
    record_decision,
)
from creditrisk.serving.decision_writer import SqliteLoopWriter, WalCheckpointer
from creditrisk.serving.tables import decision_log

NOW = datetime(2026, 3, 31, 12, 30, 15, 123456, tzinfo=UTC)


def sample(customer_id: str = "C-1") -> DecisionRecord:
    return DecisionRecord(
        kind="application", api_key_id="0123456789ab", model_name="creditrisk",
        model_version="7", policy_version="1.2.0", request={"requested_limit": 5_000.0},
        outputs={"pd_12m": 0.03, "decision": "approve"}, customer_id=customer_id,
        features={"tenure_days": 812}, reasons={"decision": []},
    )


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    yield str(tmp_path / "log.db"), engine
    engine.dispose()


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(decision_log)).scalar_one())


def test_loop_row_reads_back_like_the_thread_row(database: tuple[str, Engine]) -> None:
    _, engine = database
    writer = SqliteLoopWriter(engine)
    assert SqliteLoopWriter.serves(engine)
    assert not SqliteLoopWriter.serves(make_engine("sqlite://"))
    row = decision_row(sample(), created_at=NOW)
    assert writer.try_insert(row)
    by_loop = get_decision(engine, row["decision_id"])
    by_thread = get_decision(engine, record_decision(engine, sample(), created_at=NOW))
    assert by_loop.created_at == NOW == by_thread.created_at
    assert {**vars_of(by_loop), "decision_id": ""} == {**vars_of(by_thread), "decision_id": ""}
    writer.close()


def vars_of(stored: object) -> dict[str, object]:
    return {name: getattr(stored, name) for name in stored.__slots__}  # type: ignore[attr-defined]


def test_a_held_write_lock_is_not_waited_for_and_the_row_goes_the_thread_way(
    database: tuple[str, Engine],
) -> None:
    path, engine = database
    log = DecisionLog(engine, clock=lambda: NOW)
    writer = SqliteLoopWriter(engine)
    # connections already open, as in a running service (a connection opened while the lock
    # is held fails at once: ledger/database.py sets the busy timeout after journal_mode)
    assert writer.try_insert(decision_row(sample("C-0"), created_at=NOW))
    assert anyio.run(log.record_async, sample("C-1"))
    assert count(engine) == 2
    holder = sqlite3.connect(path, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # an import's write transaction
    started = time.perf_counter()
    assert not writer.try_insert(decision_row(sample(), created_at=NOW))
    assert time.perf_counter() - started < 1.0  # busy_timeout 0: no wait on the loop
    release = threading.Timer(0.3, holder.rollback)
    release.start()
    try:
        decision_id = anyio.run(log.record_async, sample("C-2"))  # waits in a worker thread
    finally:
        release.join()
        holder.close()
    assert get_decision(engine, decision_id).customer_id == "C-2"
    assert count(engine) == 3  # the refused loop insert left nothing behind
    assert anyio.run(log.record_async, sample("C-3"))  # the loop path works again
    assert count(engine) == 4
    log.close()
    writer.close()


def wal_pages(path: str) -> int:
    """Pages in the WAL file (its 32-byte header, then 24-byte frame header + page each)."""
    wal = Path(path + "-wal")
    return max(0, (wal.stat().st_size - 32) // (24 + 4096)) if wal.exists() else 0


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_loop_commits_never_checkpoint_the_thread_does(database: tuple[str, Engine]) -> None:
    """The loop writer's connection has SQLite's automatic checkpoint off; after
    ``every_commits`` rows the checkpointer thread copies the WAL into the database (a
    passive checkpoint, nothing left to copy afterwards), and close() ends the thread."""
    path, engine = database
    checkpointer = WalCheckpointer(engine, every_commits=20, idle_seconds=60.0)
    writer = SqliteLoopWriter(engine, checkpointer=checkpointer)
    assert writer.try_insert(decision_row(sample(), created_at=NOW))
    assert writer._connection().execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    for _ in range(18):
        assert writer.try_insert(decision_row(sample(), created_at=NOW))
    time.sleep(0.2)
    assert checkpointer.checkpoints == 0  # 19 commits: not yet
    assert writer.try_insert(decision_row(sample(), created_at=NOW))
    assert wait_for(lambda: checkpointer.checkpoints == 1)
    with sqlite3.connect(path) as probe:
        _, wal_frames, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert wal_frames == copied > 0  # everything was already copied
    thread = checkpointer._thread
    assert thread is not None
    assert thread.is_alive()
    writer.close()
    assert not thread.is_alive()
    assert count(engine) == 20


def test_without_the_checkpointer_thread_the_loop_writer_lets_the_wal_grow(
    database: tuple[str, Engine],
) -> None:
    """Negative control: with a checkpointer that never runs within the test, 150 loop
    commits (~1,000 pages) stay in the WAL - the loop writer itself never checkpoints."""
    path, engine = database
    writer = SqliteLoopWriter(
        engine, checkpointer=WalCheckpointer(engine, every_commits=10**9, idle_seconds=60.0)
    )
    for _ in range(150):
        assert writer.try_insert(decision_row(sample(), created_at=NOW))
    assert writer.checkpointer.checkpoints == 0
    with sqlite3.connect(path) as probe:
        _, wal_frames, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert wal_frames > 700  # SQLite's own checkpoint (1,000 pages) would have copied these
    assert copied == wal_frames  # ...and a passive checkpoint now does, in one go
    assert wal_pages(path) >= wal_frames
    writer.close()


def test_checkpointer_thread_ends_with_its_owner(database: tuple[str, Engine]) -> None:
    """A checkpointer that is dropped without close() does not leave its thread behind."""
    _, engine = database
    checkpointer = WalCheckpointer(engine, every_commits=1, idle_seconds=0.05)
    checkpointer.committed()
    thread = checkpointer._thread
    assert thread is not None
    owner = weakref.ref(checkpointer)
    assert wait_for(lambda: getattr(owner(), "checkpoints", 0) >= 1)
    del checkpointer
    gc.collect()
    thread.join(timeout=5.0)
    assert not thread.is_alive()


def _record_together(log: DecisionLog, records: list[DecisionRecord]) -> list[str]:
    """``records`` handed to ``log.record_async`` by concurrent tasks of one event loop."""

    async def together() -> list[str]:
        ids: list[str] = [""] * len(records)

        async def one(i: int) -> None:
            ids[i] = await log.record_async(records[i])
            # the caller resumes only once its row is committed: another connection sees it
            assert _on_file(log.engine, ids[i])

        async with anyio.create_task_group() as tasks:
            for i in range(len(records)):
                tasks.start_soon(one, i)
        return ids

    return anyio.run(together)


def _on_file(engine: Engine, decision_id: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            select(decision_log.c.decision_id).where(decision_log.c.decision_id == decision_id)
        ).first()
    return found is not None


def test_rows_of_one_loop_turn_share_one_commit_and_each_caller_waits_for_it(
    database: tuple[str, Engine],
) -> None:
    """Rule (group commit): decisions reaching the log in the same turn of the event loop are
    committed together, and none of their callers resumes before that commit; a row handed
    in alone (the negative control: one after the other) is committed alone."""
    _, engine = database
    log = DecisionLog(engine, clock=lambda: NOW)
    group = log._group
    assert group is not None
    ids = _record_together(log, [sample(f"C-{i}") for i in range(4)])
    assert len(set(ids)) == 4
    assert group.commits == 1
    assert count(engine) == 4
    for i in range(3):
        anyio.run(log.record_async, sample(f"S-{i}"))
    assert group.commits == 4
    assert [get_decision(engine, i).customer_id for i in ids] == [f"C-{i}" for i in range(4)]
    log.close()


def test_a_group_that_cannot_commit_leaves_nothing_and_each_row_goes_the_thread_way(
    database: tuple[str, Engine],
) -> None:
    """A write lock held by an import fails the group's commit at once (nothing of it is
    written); every caller then writes its own row in a worker thread once the lock is
    free: each decision is on file exactly once."""
    path, engine = database
    log = DecisionLog(engine, clock=lambda: NOW)
    anyio.run(log.record_async, sample("C-0"))  # the loop connection is open, as in service
    holder = sqlite3.connect(path, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, holder.rollback)
    release.start()
    try:
        ids = _record_together(log, [sample(f"C-{i}") for i in range(1, 4)])
    finally:
        release.join()
        holder.close()
    assert count(engine) == 4
    assert sorted(get_decision(engine, i).customer_id or "" for i in ids) == ["C-1", "C-2", "C-3"]
    log.close()


def test_a_repeated_idempotency_key_in_one_group_decides_once(
    database: tuple[str, Engine],
) -> None:
    """Two requests with the same Idempotency-Key in one group: the group's commit fails on
    the unique key, each row then goes the thread way, where the first is written and the
    second is told a request with its key is being decided (RequestInProgress)."""
    _, engine = database
    log = DecisionLog(engine, clock=lambda: NOW)
    twin = dataclasses.replace(sample(), idempotency_key="retry-1")
    with pytest.raises(BaseExceptionGroup) as raised:
        _record_together(log, [twin, twin, sample("C-9")])
    assert [type(e).__name__ for e in raised.value.exceptions] == ["RequestInProgress"]
    assert count(engine) == 2  # the first twin and C-9
    log.close()


def test_decision_ids_are_time_ordered_uuid7_hex() -> None:
    """Decision ids stay 32 lowercase hex characters (the API's pattern) and are RFC 9562
    version 7 UUIDs: their first 48 bits are the creation time in milliseconds, so a newer
    decision's id sorts after an older one's (the unique index is appended to), with 74
    random bits keeping them unique."""
    before = time.time_ns() // 1_000_000
    ids = [new_decision_id() for _ in range(20_000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    for decision_id in ids[:100]:
        assert re.fullmatch(DECISION_ID_PATTERN, decision_id)
        parsed = uuid.UUID(decision_id)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        assert before <= int(decision_id[:12], 16) <= after
    time.sleep(0.002)
    later = new_decision_id()
    assert later > max(ids)
