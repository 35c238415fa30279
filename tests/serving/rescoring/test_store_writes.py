"""The run's writes on both databases: PostgreSQL's COPY and SQLite's executemany store a
bucket's rows as given (NULLs, dates, booleans, commas and quotes in the lists, the currency),
and one process at a time rescores a run: a second stops at once with a one-line message."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import runner
from creditrisk.serving.rescoring.columns import SCORE_COLUMN_NAMES, conform_scores
from creditrisk.serving.rescoring.run_lock import RunLockedError, run_lock
from creditrisk.serving.rescoring.store import (
    RunKey,
    complete_run,
    get_run,
    open_run,
    read_run_scores,
    write_bucket,
)
from tests.serving.bundle_fixture import ServingWorld
from tests.serving.rescoring.conftest import AS_OF

KEY = RunKey(date(2025, 12, 31), "copy-test", "7")


def tricky_rows(run_id: str, n: int = 5) -> pd.DataFrame:
    """Score rows with every kind of value the writers must carry: NULL floats and dates,
    booleans both ways, lists with commas, a quote and a backslash in a text."""
    rows = np.arange(n)
    frame = pd.DataFrame(dict.fromkeys(SCORE_COLUMN_NAMES, 0.0), index=rows)
    frame["as_of"] = pd.Timestamp(KEY.as_of)
    frame["customer_id"] = [f'C"{i},\\x' if i == 1 else f"C{i:03d}" for i in rows]
    frame["model_version"] = KEY.model_version
    frame["model_name"] = KEY.model_name
    frame["policy_version"] = "p1"
    frame["run_id"] = run_id
    frame["bucket"] = 0
    frame["pd_12m"] = [0.01, 1.0, 0.123456789012345, 0.5, 1e-9][:n]
    frame["grade"] = ["1", "D", "4", "7", "1"][:n]
    frame["in_default"] = [False, True, False, False, False][:n]
    frame["worst_days_past_due"] = [np.nan, 120.0, 3.0, np.nan, 0.0][:n]
    frame["current_limit"] = [np.nan, 1000.0, 2500.5, 0.0, np.nan][:n]
    frame["limit_action"] = ["raise", "lower", "keep", "keep", "raise"][:n]
    frame["decision"] = "approve"
    frame["reason_codes"] = ["", "IN_DEFAULT", "A,B", "A", ""][:n]
    frame["top_factors"] = ["x,y,z", "", "days_past_due,open_balance", "a", "b"][:n]
    frame["next_review_date"] = pd.Timestamp("2026-12-31")
    frame["next_expected_payment"] = [pd.NaT, pd.Timestamp("2026-01-15"), pd.NaT, pd.NaT,
                                      pd.Timestamp("2026-02-01")][:n]
    frame["last_promise_date"] = pd.NaT
    frame["last_reminder_date"] = pd.Timestamp("2025-12-01")
    for name in ("open_disputes", "promises_365d", "promises_kept", "promises_broken",
                 "promises_pending"):
        frame[name] = rows.astype(np.int64)
    frame["default_event"] = [False, True, False, True, False][:n]
    frame["currency"] = "EUR"
    return conform_scores(frame)


def test_a_bucket_written_with_copy_or_executemany_reads_back_identical(
    database_url: str,
) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    opened = open_run(engine, KEY, model_uri="m", policy_version="p1", buckets=1,
                      ledger_digest="d")
    rows = tricky_rows(opened.run.run_id)
    write_bucket(engine, opened.run.run_id, 0, rows, timings={"reading": 1.0}, monitoring={})
    # a bucket written again replaces its rows (never duplicates)
    write_bucket(engine, opened.run.run_id, 0, rows, timings={"reading": 1.0}, monitoring={})
    run = complete_run(engine, opened.run.run_id, timings={}, monitoring={})
    back = read_run_scores(engine, run)
    expected = rows.sort_values("customer_id", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected)
    assert run.customer_count == len(rows)
    engine.dispose()


def test_a_second_process_on_the_same_run_stops_at_once_with_one_line(
    champion: ServedBundle, serving_world: ServingWorld, ledger_copy: str,
) -> None:
    """The lock is the operating system's (flock on SQLite) or the server's (an advisory lock
    on PostgreSQL): held here as the first run would hold it, the second attempt writes
    nothing and says why in one line; once released, the run goes ahead."""
    engine = make_engine(ledger_copy)
    key = RunKey(AS_OF, champion.model_name, champion.model_version)
    with run_lock(engine, key), pytest.raises(RunLockedError) as raised:
        runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                       buckets=2)
    message = str(raised.value)
    assert "\n" not in message
    assert "another process" in message
    assert str(AS_OF) in message
    assert get_run(engine, key.run_id) is None, "nothing written by the refused run"
    done = runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                          buckets=2)
    assert done.run.status == "complete"
    assert set(read_run_scores(engine, done.run)["currency"]) == {
        champion.bundle.policy.currency}
    engine.dispose()


def test_the_run_lock_is_held_against_another_session_on_postgresql(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    other = make_engine(postgres_url)
    with run_lock(engine, KEY):
        with pytest.raises(RunLockedError), run_lock(other, KEY):
            pass
        with run_lock(other, RunKey(KEY.as_of, KEY.model_name, "8")):
            pass  # another run is not blocked
    with run_lock(other, KEY):
        pass  # released with the first holder's block
    engine.dispose()
    other.dispose()
