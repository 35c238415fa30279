"""The decision log's event-loop writer on a file SQLite database (serving/decision_writer.py):
the row it writes reads back like the worker-thread writer's, it never waits for a held write
lock, and the same row then goes the worker-thread way once the lock is free."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from sqlalchemy import Engine, func, select

from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.serving.decision_log import (
    DecisionLog,
    DecisionRecord,
    decision_row,
    get_decision,
    record_decision,
)
from creditrisk.serving.decision_writer import SqliteLoopWriter
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
