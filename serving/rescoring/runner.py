"""A rescoring run: every customer of the ledger database rated as of a date, bucket by bucket.

:func:`rescore` reads the customer ids, assigns each to a bucket
(:func:`~.partitions.customer_bucket`), then per bucket not yet done: reads only that bucket's
customers' rows from the ledger (so memory is bounded by one bucket's ledger), rates them
(:func:`~.scoring.rate_chunk`), counts them into the monitoring bins
(:func:`~.bucket_work.rate_bucket`) and writes the rows and the bucket's done-marker in one
transaction (:func:`~.store.write_bucket`). With ``workers`` > 1 the buckets are rated in
that many worker processes (spawned; each opens its own engine) while this process writes
what they hand back, at most two buckets per worker in flight. At the end the run is checked
and marked complete. The whole run holds the run's lock (:mod:`.run_lock`): a second process
asking for the same (as_of, model version) meanwhile stops at once, writing nothing. A
failure in any bucket marks the run failed and raises
:class:`~.store.RescoringError` naming the bucket; the next call resumes it (finished buckets
are skipped) as long as the ledger and bucket count did not change (otherwise it restarts).
Progress is reported through a callback (the CLI draws it); nothing here prints.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from creditrisk.ledger.schema import LEDGER_TABLES
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import monitoring
from creditrisk.serving.rescoring.bucket_work import (
    BucketJob,
    BucketRows,
    rate_bucket,
    rate_bucket_in_worker,
    start_worker,
    warm_worker,
)
from creditrisk.serving.rescoring.partitions import DEFAULT_BUCKETS, customer_bucket
from creditrisk.serving.rescoring.run_lock import run_lock
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
    """Every customer id of the ledger database, in id order (read on the driver's cursor:
    a million ids through SQLAlchemy's row processing took seconds)."""
    table = LEDGER_TABLES["customers"]
    statement = str(sa.select(table.c.customer_id).order_by(table.c.customer_id).compile(
        dialect=engine.dialect))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(statement)
            ids = [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return pd.Series(ids, dtype="string")


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
    workers: int = 1,
) -> RescoreResult:
    """Rate every customer as of ``as_of`` with ``served`` into ``scores`` (see the module
    docstring). ``on_open(opened, customers)`` and ``on_bucket(progress)`` report progress;
    ``workers`` > 1 rates buckets in that many worker processes (this process writes).
    :class:`~.run_lock.RunLockedError` when another process is rescoring the same run."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if getattr(served.bundle, "default_model", None) is None:
        raise RescoringError(
            f"model {served.model_name} version {served.model_version} has no default model "
            "(a late-only bundle): it cannot rate customers; train one with a default model")
    key = RunKey(as_of, served.model_name, served.model_version)
    with run_lock(engine, key):
        return _rescore_locked(engine, served, key, model_uri=model_uri, buckets=buckets,
                               force=force, on_open=on_open, on_bucket=on_bucket,
                               workers=workers)


def _rescore_locked(
    engine: Engine,
    served: ServedBundle,
    key: RunKey,
    *,
    model_uri: str,
    buckets: int,
    force: bool,
    on_open: Callable[[OpenedRun, int], None] | None,
    on_bucket: Callable[[BucketDone], None] | None,
    workers: int,
) -> RescoreResult:
    started = time.perf_counter()
    pool = _start_pool(engine, served, workers)  # workers start while the ledger is read
    try:
        with ThreadPoolExecutor(max_workers=1) as reader:
            reading_ids = reader.submit(customer_ids, engine)  # beside the digest's scans
            opened = open_run(
                engine, key, model_uri=model_uri, policy_version=served.bundle.policy.version,
                buckets=buckets, ledger_digest=ledger_digest(engine), force=force,
            )
            ids = reading_ids.result()
        return _rate_run(engine, served, opened, ids, started=started, buckets=buckets,
                         on_open=on_open, on_bucket=on_bucket, pool=pool, workers=workers)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _rate_run(
    engine: Engine,
    served: ServedBundle,
    opened: OpenedRun,
    ids: pd.Series,
    *,
    started: float,
    buckets: int,
    on_open: Callable[[OpenedRun, int], None] | None,
    on_bucket: Callable[[BucketDone], None] | None,
    pool: ProcessPoolExecutor | None,
    workers: int,
) -> RescoreResult:
    as_of = opened.run.as_of
    if on_open is not None:
        on_open(opened, len(ids))
    if opened.how == "complete":
        return RescoreResult(opened.run, "complete", time.perf_counter() - started,
                             dict(opened.run.timings))
    run_id = opened.run.run_id
    assigned = customer_bucket(ids, buckets).to_numpy()
    binnings = monitoring.run_binnings(served)
    jobs = [BucketJob(bucket, ids[assigned == bucket].tolist(), as_of, run_id, buckets)
            for bucket in range(buckets) if bucket not in opened.done_buckets]
    done = set(opened.done_buckets)
    current = -1
    try:
        for rows in _rated(engine, served, binnings, jobs, pool, workers):
            current = rows.bucket
            write_bucket(engine, run_id, rows.bucket, rows.scores, timings=rows.timings,
                         monitoring=rows.counts)
            done.add(rows.bucket)
            if on_bucket is not None:
                on_bucket(BucketDone(rows.bucket, len(done), buckets, len(rows.scores)))
            current = -1
        records = bucket_records(engine, run_id)
        timings_total = _sum_timings(r["timings"] for r in records)
        counts_total = monitoring.merge_counts([r["monitoring"] for r in records])
        run = complete_run(engine, run_id, timings=timings_total,
                           monitoring=monitoring.run_monitoring(binnings, counts_total))
    except Exception as exc:
        bucket = getattr(exc, "bucket", current)
        where = f"bucket {bucket}" if bucket >= 0 else "completion"
        cause = exc.__cause__ if isinstance(exc, _BucketFailedError) and exc.__cause__ else exc
        message = f"{where}: {type(cause).__name__}: {cause}"
        fail_run(engine, run_id, message)
        raise RescoringError(f"rescoring run {run_id} failed in {message}") from exc
    return RescoreResult(run, opened.how, time.perf_counter() - started, timings_total)


class _BucketFailedError(RuntimeError):
    """A worker's bucket raised (the cause chained); ``bucket`` names it."""

    def __init__(self, bucket: int) -> None:
        super().__init__(f"bucket {bucket} failed")
        self.bucket = bucket


def _start_pool(engine: Engine, served: ServedBundle, workers: int) -> ProcessPoolExecutor | None:
    """``workers`` worker processes on the run's database (spawned; each loads the bundle
    once), or None for one process (``workers`` 1, or an in-memory SQLite database another
    process cannot see)."""
    database = engine.url.database
    in_memory = engine.dialect.name == "sqlite" and database in (None, "", ":memory:")
    if workers == 1 or in_memory:
        return None
    context = multiprocessing.get_context("spawn")  # no fork of LightGBM's OpenMP threads
    url = engine.url.render_as_string(hide_password=False)
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=start_worker,
        initargs=(url, pickle.dumps(served), os.getpid()))
    for _ in range(workers):  # a process is spawned per task submitted while none is idle
        pool.submit(warm_worker)
    return pool


def _rated(
    engine: Engine, served: ServedBundle, binnings: Any, jobs: list[BucketJob],
    pool: ProcessPoolExecutor | None, workers: int,
) -> Iterator[BucketRows]:
    """The rated buckets of ``jobs``: here one after the other (no pool, or one job), or
    from the pool's worker processes (at most two buckets per worker in flight, so memory
    stays bounded), in the order they finish."""
    if pool is None or len(jobs) <= 1:
        for job in jobs:
            try:
                rated = rate_bucket(engine, served, binnings, job)
            except Exception as exc:
                raise _BucketFailedError(job.bucket) from exc
            yield rated
        return
    in_flight = 2 * workers
    waiting = list(reversed(jobs))
    running: dict[Future[BucketRows], int] = {}
    while waiting or running:
        while waiting and len(running) < in_flight:
            job = waiting.pop()
            running[pool.submit(rate_bucket_in_worker, job)] = job.bucket
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=running.__getitem__):
            bucket = running.pop(future)
            try:
                rows = future.result()
            except Exception as exc:
                raise _BucketFailedError(bucket) from exc
            yield rows


def _sum_timings(parts: Iterable[dict[str, Any]]) -> dict[str, float]:
    total = dict.fromkeys(STAGES, 0.0)
    for part in parts:
        for stage, seconds in part.items():
            total[stage] = total.get(stage, 0.0) + float(seconds)
    return total
