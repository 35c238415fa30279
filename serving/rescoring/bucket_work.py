"""One bucket's work, in this process or in a worker process: read its customers' ledger
rows, rate them, count them into the monitoring bins.

:func:`rate_bucket` is what both the single-process runner and the worker processes call,
so a bucket's rows do not depend on where it was rated. A worker process
(:func:`start_worker`, the pool's initializer) opens its own engine on the run's database,
keeps the served bundle and the run's monitoring bins, limits OpenMP (LightGBM) to one
thread (the processes are the parallelism: two workers on two cores), and exits when its
parent is gone (a runner killed with ``kill -9`` leaves no worker behind).
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from creditrisk.models.tree_contributions import warm_tables
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import monitoring
from creditrisk.serving.rescoring.ledger_rows import read_customers_ledger
from creditrisk.serving.rescoring.scoring import rate_chunk
from creditrisk.serving.worker_processes import watch_parent


@dataclass(frozen=True)
class BucketJob:
    """A bucket to rate: its customers and the run it belongs to."""

    bucket: int
    customer_ids: list[str]
    as_of: date
    run_id: str
    buckets: int


@dataclass(frozen=True)
class BucketRows:
    """A rated bucket: its score rows, monitoring counts and seconds per stage."""

    bucket: int
    scores: pd.DataFrame
    counts: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def rate_bucket(engine: Engine, served: ServedBundle, binnings: Any, job: BucketJob) -> BucketRows:
    """Read, rate and count one bucket (the stages timed: reading, features, scoring,
    reasons)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    ledger = read_customers_ledger(engine, job.customer_ids)
    timings["reading"] = time.perf_counter() - started
    chunk = rate_chunk(ledger, as_of=job.as_of, served=served, run_id=job.run_id,
                       buckets=job.buckets, timings=timings)
    counts = monitoring.chunk_counts(
        binnings, chunk.features, chunk.scores["model_pd_12m"].to_numpy(np.float64))
    return BucketRows(job.bucket, chunk.scores, counts, timings)


_WORKER: dict[str, Any] = {}


def start_worker(database_url: str, served_pickle: bytes, parent_pid: int) -> None:
    """Initializer of a worker process (see the module docstring)."""
    from threadpoolctl import threadpool_limits

    from creditrisk.ledger.database import make_engine

    watch_parent(parent_pid)
    served = pickle.loads(served_pickle)  # noqa: S301 - our own bundle, pickled by the parent
    threadpool_limits(limits=1)  # after the bundle's import of LightGBM's OpenMP
    _WORKER["served"] = served
    _WORKER["engine"] = make_engine(database_url)
    _WORKER["binnings"] = monitoring.run_binnings(served)
    model = served.bundle.default_model
    if model is not None:  # the top factors' leaf tables, built before the first bucket
        warm_tables(model)


def warm_worker() -> None:
    """A task that only makes the pool start a worker process (its initializer runs)."""


def rate_bucket_in_worker(job: BucketJob) -> BucketRows:
    """:func:`rate_bucket` with the worker's engine, bundle and bins."""
    return rate_bucket(_WORKER["engine"], _WORKER["served"], _WORKER["binnings"], job)
