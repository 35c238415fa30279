"""A rescoring run: every customer of the ledger database rated as of a date, bucket by bucket.

:func:`rescore` reads the customer ids, assigns each to a bucket
(:func:`~.partitions.customer_bucket`), then per bucket not yet done: reads only that bucket's
customers' rows from the ledger (so memory is bounded by one bucket's ledger), rates them
(:func:`~.scoring.rate_chunk`), counts them into the monitoring bins and writes the rows and
the bucket's done-marker in one transaction (:func:`~.store.write_bucket`). At the end the run
is checked and marked complete. A failure in any bucket marks the run failed and raises
:class:`~.store.RescoringError` naming the bucket; the next call resumes it (finished buckets
are skipped) as long as the ledger and bucket count did not change (otherwise it restarts).
Progress is reported through a callback (the CLI draws it); nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from creditrisk.ledger.frame import Ledger, normalize_ledger
from creditrisk.ledger.schema import LEDGER_TABLES
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import monitoring
from creditrisk.serving.rescoring.partitions import DEFAULT_BUCKETS, customer_bucket
from creditrisk.serving.rescoring.scoring import rate_chunk
from creditrisk.serving.rescoring.store import (
    OpenedRun,
    RescoringError,
    RunKey,
    ScoreRun,
    bucket_records,
    complete_run,
    fail_run,
    ledger_digest,
    open_run,
    write_bucket,
)

ID_BATCH: Final = 10_000
"""Customer ids bound per query (SQLite allows 32,766 parameters)."""
STAGES: Final = ("reading", "features", "scoring", "reasons", "writing")


@dataclass(frozen=True)
class BucketDone:
    """Progress after one bucket."""

    bucket: int
    buckets_done: int
    buckets: int
    customers: int


@dataclass(frozen=True)
class RescoreResult:
    run: ScoreRun
    how: str
    """``new``, ``resumed``, ``restarted`` or ``complete`` (was already)."""
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def customer_ids(engine: Engine) -> pd.Series:
    """Every customer id of the ledger database, in id order."""
    table = LEDGER_TABLES["customers"]
    with engine.connect() as conn:
        ids = conn.execute(
            sa.select(table.c.customer_id).order_by(table.c.customer_id)
        ).scalars().all()
    return pd.Series(ids, dtype="string")


def _batches(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def read_customers_ledger(engine: Engine, ids: Sequence[str]) -> Ledger:
    """The ledger rows of ``ids`` (bound parameters, in batches of :data:`ID_BATCH`)."""
    tables: dict[str, pd.DataFrame] = {}
    with engine.connect() as conn:
        for name, table in LEDGER_TABLES.items():
            if "customer_id" not in table.c:  # pragma: no cover - every ledger table has one
                raise RescoringError(f"ledger table {name} has no customer_id to chunk by")
            parts = [
                pd.read_sql(sa.select(table).where(table.c.customer_id.in_(list(batch))), conn)
                for batch in _batches(ids, ID_BATCH)
            ]
            tables[name] = (
                pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
                if parts else pd.read_sql(sa.select(table).where(sa.false()), conn)
            )
    return normalize_ledger(tables)


def rescore(
    engine: Engine,
    served: ServedBundle,
    *,
    as_of: date,
    model_uri: str,
    buckets: int = DEFAULT_BUCKETS,
    force: bool = False,
    on_open: Callable[[OpenedRun, int], None] | None = None,
    on_bucket: Callable[[BucketDone], None] | None = None,
) -> RescoreResult:
    """Rate every customer as of ``as_of`` with ``served`` into ``scores`` (see the module
    docstring). ``on_open(opened, customers)`` and ``on_bucket(progress)`` report progress."""
    started = time.perf_counter()
    if getattr(served.bundle, "default_model", None) is None:
        raise RescoringError(
            f"model {served.model_name} version {served.model_version} has no default model "
            "(a late-only bundle): it cannot rate customers; train one with a default model")
    key = RunKey(as_of, served.model_name, served.model_version)
    opened = open_run(
        engine, key, model_uri=model_uri, policy_version=served.bundle.policy.version,
        buckets=buckets, ledger_digest=ledger_digest(engine), force=force,
    )
    ids = customer_ids(engine)
    if on_open is not None:
        on_open(opened, len(ids))
    if opened.how == "complete":
        return RescoreResult(opened.run, "complete", time.perf_counter() - started,
                             dict(opened.run.timings))
    run_id = opened.run.run_id
    assigned = customer_bucket(ids, buckets).to_numpy()
    binnings = monitoring.run_binnings(served)
    done = set(opened.done_buckets)
    current = -1
    try:
        for bucket in range(buckets):
            if bucket in done:
                continue
            current = bucket
            timings: dict[str, float] = {}
            t0 = time.perf_counter()
            ledger = read_customers_ledger(engine, ids[assigned == bucket].tolist())
            timings["reading"] = time.perf_counter() - t0
            chunk = rate_chunk(ledger, as_of=as_of, served=served, run_id=run_id,
                               buckets=buckets, timings=timings)
            counts = monitoring.chunk_counts(
                binnings, chunk.features, chunk.scores["model_pd_12m"].to_numpy(np.float64))
            t1 = time.perf_counter()
            write_bucket(engine, run_id, bucket, chunk.scores, timings=timings,
                         monitoring=counts)
            timings["writing"] = time.perf_counter() - t1
            done.add(bucket)
            if on_bucket is not None:
                on_bucket(BucketDone(bucket, len(done), buckets, len(chunk.scores)))
        current = -1
        records = bucket_records(engine, run_id)
        timings_total = _sum_timings(r["timings"] for r in records)
        counts_total = monitoring.merge_counts([r["monitoring"] for r in records])
        run = complete_run(engine, run_id, timings=timings_total,
                           monitoring=monitoring.run_monitoring(binnings, counts_total))
    except Exception as exc:
        where = f"bucket {current}" if current >= 0 else "completion"
        message = f"{where}: {type(exc).__name__}: {exc}"
        fail_run(engine, run_id, message)
        raise RescoringError(f"rescoring run {run_id} failed in {message}") from exc
    return RescoreResult(run, opened.how, time.perf_counter() - started, timings_total)


def _sum_timings(parts: Iterable[dict[str, Any]]) -> dict[str, float]:
    total = dict.fromkeys(STAGES, 0.0)
    for part in parts:
        for stage, seconds in part.items():
            total[stage] = total.get(stage, 0.0) + float(seconds)
    return total
