"""The Spark engine: every customer bucket rated by the local engine's own function.

``groupBy(bucket).applyInPandas``: Spark calls Python once per group, so a group is a bucket of
thousands of customers (the export's bucket count), never one customer. Each call turns the
bucket's rows back into a ledger (:func:`.ledger_frames.group_ledger`) and calls
:func:`creditrisk.serving.rescoring.scoring.rate_chunk` (``score_customers`` plus the features
for monitoring), the pure function the local engine calls per bucket: the same features,
models, policy and reasons, hence the same rows.

**The bundle reaches the executors as a broadcast variable** of the
:class:`~creditrisk.serving.registry.ServedBundle` the driver loaded (from the registry alias
or a path): Spark ships it once per executor, and each Python worker unpickles it once and
keeps it for every later bucket it rates (``Broadcast.value`` is cached in the worker, and
workers are reused). ``mlflow.pyfunc.spark_udf`` does not fit: it is a row-wise UDF over the
pyfunc's *application* input (the applicant fields), whereas rescoring derives each customer's
features from its whole ledger history, decides default status from the ledger, predicts the
open invoices and applies the limit policy with the current exposure; that needs the bundle
object inside the group function, not a column-to-column prediction.

The run's identity and life cycle are the local engine's (:class:`~creditrisk.serving.
rescoring.store.RunKey`): same ``run_id`` for the same as-of and model version, so the rows
equal the local engine's to the last column. Its status is written only after every bucket
succeeded (see :mod:`.output`); a failure names the bucket and marks nothing complete.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from creditrisk.ledger.errors import LedgerError
from creditrisk.ledger.parquet import BUCKET_COLUMN
from creditrisk.models.population import Binning
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import monitoring
from creditrisk.serving.rescoring.columns import empty_scores
from creditrisk.serving.rescoring.partitions import customer_bucket
from creditrisk.serving.rescoring.scoring import RatedChunk, rate_chunk
from creditrisk.serving.rescoring.spark.ledger_frames import (
    group_ledger,
    read_ledger_manifest,
    stacked_ledger,
)
from creditrisk.serving.rescoring.spark.output import (
    STATUS_COMPLETE,
    database_url,
    delete_path,
    run_folder,
    scores_struct,
    spark_rows,
    write_status,
)
from creditrisk.serving.rescoring.store import (
    RescoringError,
    RunKey,
    bucket_records,
    complete_run,
    fail_run,
    open_run,
    write_bucket,
)

BUCKET_SUMMARY_SCHEMA: Final = "bucket long, customers long, seconds double"
FAILURE_MARK: Final = "creditrisk bucket failure: "


class SparkRescoringError(RuntimeError):
    """A Spark rescoring run failed; the message names the bucket and the cause (no data
    values) and the run is not marked complete."""


class BucketRatingError(RuntimeError):
    """Raised inside a Python worker: which bucket failed and why (travels in Spark's error)."""


@dataclass(frozen=True)
class SparkRunSummary:
    """What a Spark run did."""

    run_id: str
    as_of: date
    model_name: str
    model_version: str
    policy_version: str
    buckets: int
    customers: int
    seconds: float
    destination: str
    """``parquet`` or ``database``."""
    how: str
    """``new``, ``resumed``, ``restarted`` or ``complete`` (a database run already done)."""
    buckets_skipped: int = 0


def rate_group(
    group: pd.DataFrame,
    *,
    served: ServedBundle,
    as_of: date,
    run_id: str,
    buckets: int,
    timings: dict[str, float] | None = None,
) -> tuple[int, RatedChunk]:
    """One bucket rated by the local engine's :func:`rate_chunk` (scores and features):
    (bucket, chunk). Wraps any ledger or scoring error in :class:`BucketRatingError` naming
    the bucket, and refuses rows whose customer is not of this bucket."""
    bucket = int(group[BUCKET_COLUMN].iloc[0])
    try:
        ledger = group_ledger(group)
    except LedgerError as exc:
        raise BucketRatingError(f"{FAILURE_MARK}bucket {bucket}: {exc}") from exc
    ids = ledger.customers["customer_id"]
    assigned = customer_bucket(ids, buckets)
    wrong = (assigned != bucket).to_numpy()
    if wrong.any():
        raise BucketRatingError(
            f"{FAILURE_MARK}bucket {bucket}: customer {ids[wrong].iloc[0]} belongs to bucket "
            f"{int(assigned[wrong].iloc[0])} of {buckets}: the export's buckets are not "
            "customer_bucket's"
        )
    try:
        chunk = rate_chunk(ledger, as_of=as_of, served=served, run_id=run_id, buckets=buckets,
                           timings=timings)
    except (LedgerError, ValueError, KeyError) as exc:
        raise BucketRatingError(f"{FAILURE_MARK}bucket {bucket}: {exc}") from exc
    return bucket, chunk


def scores_frame(
    stacked: DataFrame, *, served_value: Any, as_of: date, run_id: str, buckets: int
) -> DataFrame:
    """The scores of every bucket of ``stacked`` (a Spark frame of :func:`scores_struct`).

    ``served_value`` is the broadcast of the :class:`ServedBundle` (``.value`` read in the
    worker)."""

    def rate(group: pd.DataFrame) -> pd.DataFrame:
        _, chunk = rate_group(group, served=served_value.value, as_of=as_of, run_id=run_id,
                              buckets=buckets)
        return spark_rows(chunk.scores)

    return stacked.groupBy(BUCKET_COLUMN).applyInPandas(rate, schema=scores_struct())


def written_buckets(
    stacked: DataFrame,
    *,
    served_value: Any,
    binnings: Mapping[str, Binning],
    as_of: date,
    run_id: str,
    buckets: int,
    url: str,
) -> DataFrame:
    """Rate and write every bucket of ``stacked`` into the database at ``url`` as the local
    runner does: rows, done-marker, stage timings and monitoring bin counts in one transaction
    (:func:`write_bucket`); a frame of ``bucket, customers, seconds`` per bucket written."""

    def rate_and_write(group: pd.DataFrame) -> pd.DataFrame:
        from creditrisk.ledger.database import make_engine

        started = time.perf_counter()
        timings: dict[str, float] = {}
        bucket, chunk = rate_group(group, served=served_value.value, as_of=as_of,
                                   run_id=run_id, buckets=buckets, timings=timings)
        counts = monitoring.chunk_counts(
            binnings, chunk.features, chunk.scores["model_pd_12m"].to_numpy(np.float64))
        written = time.perf_counter()
        engine = make_engine(url)
        try:
            write_bucket(engine, run_id, bucket, chunk.scores, timings=timings,
                         monitoring=counts)
        finally:
            engine.dispose()
        timings["writing"] = time.perf_counter() - written
        return pd.DataFrame(
            {"bucket": [bucket], "customers": [len(chunk.scores)],
             "seconds": [time.perf_counter() - started]}
        )

    return stacked.groupBy(BUCKET_COLUMN).applyInPandas(
        rate_and_write, schema=BUCKET_SUMMARY_SCHEMA
    )


def failure_message(exc: BaseException) -> str:
    """The line of a Spark error a user needs: our bucket failure when there is one, else the
    error's last non-empty line (Spark's text carries Java and Python stack traces)."""
    text = str(exc)
    for line in text.splitlines():
        if FAILURE_MARK in line:
            return line[line.index(FAILURE_MARK) + len(FAILURE_MARK):].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:500] if lines else type(exc).__name__


def rescore_on_spark(
    spark: SparkSession,
    *,
    ledger: str,
    out: str,
    as_of: date,
    served: ServedBundle,
    force: bool = False,
) -> SparkRunSummary:
    """Rate every customer of the Parquet ledger folder ``ledger`` as of ``as_of`` and write
    the ``scores`` rows to ``out`` (a Parquet folder or a database URL, see :mod:`.output`).

    Raises :class:`SparkRescoringError` (the run left incomplete) when any bucket fails.
    """
    started = time.perf_counter()
    manifest = read_ledger_manifest(spark, ledger)
    buckets = int(manifest["buckets"])
    key = RunKey(as_of=as_of, model_name=served.model_name, model_version=served.model_version)
    stacked = stacked_ledger(spark, ledger)
    served_value = spark.sparkContext.broadcast(served)
    common: dict[str, Any] = {
        "run_id": key.run_id, "as_of": as_of, "model_name": served.model_name,
        "model_version": served.model_version,
        "policy_version": served.bundle.policy.version, "buckets": buckets,
    }
    try:
        url = database_url(out)
        if url is not None:
            return _rescore_into_database(
                stacked, url=url, key=key, served=served, served_value=served_value,
                buckets=buckets, export_id=str(manifest.get("export_id", "")), force=force,
                started=started, common=common,
            )
        scores_dir = run_folder(out, "scores", as_of=as_of, model_version=served.model_version)
        status_dir = run_folder(out, "score_runs", as_of=as_of,
                                model_version=served.model_version)
        delete_path(spark, status_dir)
        frame = scores_frame(stacked, served_value=served_value, as_of=as_of,
                             run_id=key.run_id, buckets=buckets)
        try:
            frame.write.mode("overwrite").parquet(scores_dir)
        except PySparkException as exc:
            raise SparkRescoringError(
                f"rescoring as of {as_of} failed, no status written: {failure_message(exc)}"
            ) from None
        customers = spark.read.parquet(scores_dir).count()
        seconds = time.perf_counter() - started
        write_status(spark, status_dir, {
            **common, "status": STATUS_COMPLETE, "customers": customers, "seconds": seconds,
            "ledger_export_id": manifest.get("export_id"), "model_uri": served.source_uri,
        })
        return SparkRunSummary(**common, customers=customers, seconds=seconds,
                               destination="parquet", how="new")
    finally:
        served_value.unpersist()


def _rescore_into_database(
    stacked: DataFrame, *, url: str, key: RunKey, served: ServedBundle, served_value: Any,
    buckets: int, export_id: str, force: bool, started: float, common: dict[str, Any],
) -> SparkRunSummary:
    from creditrisk.ledger.database import make_engine, upgrade_database

    upgrade_database(url)
    engine = make_engine(url)
    try:
        opened = open_run(
            engine, key, model_uri=served.source_uri,
            policy_version=served.bundle.policy.version, buckets=buckets,
            ledger_digest=f"parquet-export:{export_id}", force=force,
        )
        if opened.how == "complete":
            return SparkRunSummary(
                **common, customers=opened.run.customer_count, seconds=0.0,
                destination="database", how="complete", buckets_skipped=buckets,
            )
        todo = stacked
        if opened.done_buckets:
            todo = stacked.where(~stacked[BUCKET_COLUMN].isin(sorted(opened.done_buckets)))
        binnings = monitoring.run_binnings(served)
        try:
            rows = written_buckets(
                todo, served_value=served_value, binnings=binnings, as_of=key.as_of,
                run_id=key.run_id, buckets=buckets, url=url,
            ).collect()
        except PySparkException as exc:
            message = failure_message(exc)
            fail_run(engine, key.run_id, message)
            raise SparkRescoringError(
                f"rescoring as of {key.as_of} failed, run not complete: {message}"
            ) from None
        seen = {int(r["bucket"]) for r in rows} | set(opened.done_buckets)
        for bucket in sorted(set(range(buckets)) - seen):  # buckets without customers
            write_bucket(engine, key.run_id, bucket, empty_scores(), timings={},
                         monitoring={})
        records = bucket_records(engine, key.run_id)
        timings_total: dict[str, float] = {}
        for record in records:
            for stage, value in record["timings"].items():
                timings_total[stage] = timings_total.get(stage, 0.0) + float(value)
        counts = monitoring.merge_counts([r["monitoring"] for r in records])
        seconds = time.perf_counter() - started
        try:
            run = complete_run(
                engine, key.run_id, timings=timings_total,
                monitoring=monitoring.run_monitoring(binnings, counts),
            )
        except RescoringError as exc:
            fail_run(engine, key.run_id, str(exc))
            raise SparkRescoringError(str(exc)) from None
        return SparkRunSummary(
            **common, customers=run.customer_count, seconds=seconds, destination="database",
            how=opened.how, buckets_skipped=len(opened.done_buckets),
        )
    finally:
        engine.dispose()


def run_spark_rescoring(
    *,
    master: str | None,
    ledger: str,
    out: str,
    as_of: date,
    served: ServedBundle,
    force: bool = False,
    config: Mapping[str, str] | None = None,
) -> SparkRunSummary:
    """What ``creditrisk rescore --engine spark`` runs: a session on ``master`` (None under
    ``spark-submit``), :func:`rescore_on_spark`, the session stopped (unless it was open
    before). Raises
    :class:`SparkRescoringError` for a failed run, :class:`~creditrisk.ledger.errors.
    LedgerError` for a ledger folder that is not an export, ``ValueError`` for a bad ``out``."""
    from creditrisk.serving.rescoring.spark.session import spark_session, stop_session

    database_url(out)  # an unsupported JDBC URL fails before Spark starts
    started_here = SparkSession.getActiveSession() is None
    spark = spark_session(master, config=config)
    try:
        try:
            return rescore_on_spark(spark, ledger=ledger, out=out, as_of=as_of,
                                    served=served, force=force)
        except PySparkException as exc:  # reading the ledger folder or its manifest
            raise SparkRescoringError(f"rescoring as of {as_of} failed: "
                                      f"{failure_message(exc)}") from None
    finally:
        if started_here:  # a session the caller had open stays open
            stop_session(spark)
