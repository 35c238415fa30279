"""``creditrisk rescore``: one complete result per (as-of, model version), safe to rerun and to
kill, a failed bucket fails the run loudly and readers never see an incomplete run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import bucket_work, runner
from creditrisk.serving.rescoring.columns import SCORE_COLUMN_NAMES
from creditrisk.serving.rescoring.store import (
    COMPLETE,
    FAILED,
    RescoringError,
    RunKey,
    get_run,
    latest_complete_run,
    read_run_scores,
)
from tests.serving.bundle_fixture import ServingWorld
from tests.serving.rescoring.conftest import AS_OF, sqlite_path

CLI = str(Path(sys.executable).with_name("creditrisk"))
BUCKETS = 8


def cli(url: str, world: ServingWorld, *extra: str) -> list[str]:
    return [CLI, "rescore", f"--as-of={AS_OF}", f"--buckets={BUCKETS}",
            f"--database-url={url}", f"--tracking-uri={world.tracking_uri}",
            f"--model={world.model_uri}", *extra]


def finished_buckets(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=0.1) as conn:
            return int(conn.execute("select count(*) from score_run_buckets").fetchone()[0])
    except sqlite3.OperationalError:  # locked while the run writes a bucket
        return -1


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_run_killed_part_way_is_resumed_to_exactly_one_identical_result(
    serving_world: ServingWorld, champion: ServedBundle, ledger_copy: str, tmp_path: Path,
    serving_ledger_url: str,
) -> None:
    path = sqlite_path(ledger_copy)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(cli(ledger_copy, serving_world, "--workers=2"), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300  # generous: the shared machine may be loaded
    while finished_buckets(path) < 2:
        assert child.poll() is None, f"the run ended before it was killed: {child.stderr}"
        assert time.monotonic() < deadline, "two buckets not finished within 300 s"
        time.sleep(0.01)
    workers = children(child.pid)
    assert workers, "the command rates buckets in worker processes (one per core)"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    gone_by = time.monotonic() + 30
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < gone_by, "worker processes outlived the killed run"
        time.sleep(0.1)
    engine = make_engine(ledger_copy)
    key = RunKey(AS_OF, champion.model_name, champion.model_version)
    killed = get_run(engine, key.run_id)
    assert killed is not None
    assert killed.status != COMPLETE
    assert 2 <= finished_buckets(path) < BUCKETS, "killed part-way"
    assert latest_complete_run(engine) is None, "an incomplete run is invisible to readers"

    # resumed in one process: the killed run's buckets (rated by its two workers) and these
    # must together equal the uninterrupted single-process run below
    again = subprocess.run(cli(ledger_copy, serving_world, "--workers=1"), env=env,
                           capture_output=True,
                           text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr + again.stdout
    assert "resumed" in again.stdout
    run = latest_complete_run(engine)
    assert run is not None
    assert run.run_id == key.run_id
    assert run.attempts == 2
    resumed = read_run_scores(engine, run)
    assert resumed["customer_id"].is_unique
    with sqlite3.connect(path) as conn:
        total = conn.execute("select count(*) from scores").fetchone()[0]
    assert total == len(resumed) == run.customer_count

    # the same run uninterrupted, in a fresh copy of the ledger
    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    Path(tmp_path / "fresh.db").write_bytes(sqlite_path(serving_ledger_url).read_bytes())
    fresh_engine = make_engine(fresh_url)
    result = runner.rescore(fresh_engine, champion, as_of=AS_OF,
                            model_uri=serving_world.model_uri, buckets=BUCKETS)
    assert result.how == "new"
    uninterrupted = read_run_scores(fresh_engine, result.run)
    pd.testing.assert_frame_equal(resumed, uninterrupted)
    engine.dispose()
    fresh_engine.dispose()


def test_a_failing_bucket_fails_the_run_loudly_and_never_marks_it_complete(
    serving_world: ServingWorld, champion: ServedBundle, ledger_copy: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(ledger_copy)
    real = bucket_work.rate_chunk
    calls = {"n": 0}

    def breaking(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ValueError("feature store unreachable")
        return real(*args, **kwargs)  # type: ignore[arg-type]  # passes the caller's arguments

    monkeypatch.setattr(bucket_work, "rate_chunk", breaking)
    with pytest.raises(RescoringError, match="bucket 2: ValueError: feature store unreachable"):
        runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                       buckets=4)
    key = RunKey(AS_OF, champion.model_name, champion.model_version)
    failed = get_run(engine, key.run_id)
    assert failed is not None
    assert failed.status == FAILED
    assert failed.error is not None
    assert "bucket 2" in failed.error
    assert latest_complete_run(engine) is None

    monkeypatch.setattr(bucket_work, "rate_chunk", real)
    resumed = runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                             buckets=4)
    assert resumed.how == "resumed"
    assert resumed.run.status == COMPLETE
    rows = read_run_scores(engine, resumed.run)
    assert rows["customer_id"].is_unique

    # rerunning changes nothing; --force recomputes the same rows, never duplicates
    rerun = runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                           buckets=4)
    assert rerun.how == "complete"
    assert rerun.run.finished_at == resumed.run.finished_at
    forced = runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                            buckets=4, force=True)
    assert forced.how == "restarted"
    pd.testing.assert_frame_equal(read_run_scores(engine, forced.run), rows)
    engine.dispose()


def test_a_changed_ledger_restarts_an_unfinished_run(
    serving_world: ServingWorld, champion: ServedBundle, ledger_copy: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(ledger_copy)
    monkeypatch.setattr(bucket_work, "rate_chunk", _fail_second(bucket_work.rate_chunk))
    with pytest.raises(RescoringError):
        runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                       buckets=4)
    monkeypatch.undo()
    with sqlite3.connect(sqlite_path(ledger_copy)) as conn:
        conn.execute("update invoices set amount = amount + 1 where rowid = 1")
    again = runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                           buckets=4)
    assert again.how == "restarted"
    assert again.run.status == COMPLETE
    engine.dispose()


def _fail_second(real: object) -> object:
    calls = {"n": 0}

    def wrapped(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return real(*args, **kwargs)  # type: ignore[operator]  # the wrapped callable

    return wrapped


def test_the_migration_creates_the_tables_on_a_new_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    upgrade_database(url)
    with sqlite3.connect(tmp_path / "new.db") as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"scores", "score_runs", "score_run_buckets"} <= names
    with sqlite3.connect(tmp_path / "new.db") as conn:
        columns = tuple(r[1] for r in conn.execute("pragma table_info(scores)"))
    assert columns == SCORE_COLUMN_NAMES, "the migrations build exactly SCORE_COLUMNS, in order"
