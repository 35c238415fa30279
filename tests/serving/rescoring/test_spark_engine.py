"""Both engines on the same ledger: the local runner (database ledger, bucket by bucket) and
Spark in local mode (the ledger exported as bucketed Parquet, ``groupBy(bucket)
.applyInPandas``) give every customer the same score, grade, limit and reasons (PD to 1e-9);
a failing bucket fails the Spark run loudly and leaves it without a complete status."""

from __future__ import annotations

import os
import re
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="the spark extra is not installed (creditrisk[spark])")

from pyspark.sql import SparkSession
from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.ledger.database import make_engine
from creditrisk.ledger.parquet import export_database_ledger
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring.columns import SCORE_COLUMNS, conform_scores
from creditrisk.serving.rescoring.partitions import customer_bucket
from creditrisk.serving.rescoring.runner import rescore
from creditrisk.serving.rescoring.spark.engine import SparkRescoringError, rescore_on_spark
from creditrisk.serving.rescoring.spark.output import read_status, run_folder
from creditrisk.serving.rescoring.spark.session import spark_session
from creditrisk.serving.rescoring.store import (
    COMPLETE,
    FAILED,
    RunKey,
    get_run,
    read_run_scores,
)
from tests.serving.bundle_fixture import ServingWorld
from tests.serving.rescoring.conftest import AS_OF

pytestmark = pytest.mark.slow

BUCKETS = 4
JAVA_17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")
FLOAT_COLUMNS = [c.name for c in SCORE_COLUMNS if c.kind == "float"]


@pytest.fixture(scope="module")
def spark() -> SparkSession:
    """One local session for the Spark tests (getOrCreate: the training test shares it)."""
    if "JAVA_HOME" not in os.environ and JAVA_17.is_dir():
        os.environ["JAVA_HOME"] = str(JAVA_17)
    return spark_session("local[2]", shuffle_partitions=BUCKETS,
                         config={"spark.ui.enabled": "false"})


def export(url: str, out: Path, bucket_of: object = None) -> str:
    engine = make_engine(url)
    try:
        export_database_ledger(
            engine, out, buckets=BUCKETS,
            bucket_of=bucket_of or partial(customer_bucket, buckets=BUCKETS),  # type: ignore[arg-type]  # a test's deliberately wrong bucket function
        )
    finally:
        engine.dispose()
    return str(out)


def by_customer(frame: pd.DataFrame) -> pd.DataFrame:
    return conform_scores(frame).sort_values("customer_id").reset_index(drop=True)


def assert_same_scores(spark_rows: pd.DataFrame, local_rows: pd.DataFrame) -> None:
    left, right = by_customer(spark_rows), by_customer(local_rows)
    assert len(left) == len(right) > 0
    assert (left["customer_id"] == right["customer_id"]).all()
    for name in FLOAT_COLUMNS:
        np.testing.assert_allclose(
            left[name].to_numpy(np.float64), right[name].to_numpy(np.float64),
            rtol=0, atol=1e-9, equal_nan=True, err_msg=name,
        )
    others = [c.name for c in SCORE_COLUMNS if c.name not in FLOAT_COLUMNS]
    pd.testing.assert_frame_equal(left[others], right[others])


def test_spark_and_local_engines_give_identical_scores(
    spark: SparkSession, champion: ServedBundle, ledger_copy: str, tmp_path: Path
) -> None:
    lake = export(ledger_copy, tmp_path / "lake")
    engine = make_engine(ledger_copy)
    try:
        local = rescore(engine, champion, as_of=AS_OF, model_uri=champion.source_uri,
                        buckets=BUCKETS)
        local_rows = read_run_scores(engine, local.run)
    finally:
        engine.dispose()
    assert local.run.status == COMPLETE
    assert {"D"} < set(local_rows["grade"])
    assert local_rows["reason_codes"].str.len().gt(0).any()

    out = tmp_path / "scores-lake"
    summary = rescore_on_spark(spark, ledger=lake, out=str(out), as_of=AS_OF, served=champion)
    assert summary.customers == len(local_rows)
    assert summary.run_id == local.run.run_id
    scores_dir = run_folder(str(out), "scores", as_of=AS_OF,
                            model_version=champion.model_version)
    assert_same_scores(pd.read_parquet(scores_dir), local_rows)
    status = read_status(spark, run_folder(str(out), "score_runs", as_of=AS_OF,
                                           model_version=champion.model_version))
    assert status is not None
    assert status["status"] == COMPLETE
    assert status["customers"] == len(local_rows)

    # the database destination: the local engine's run life cycle, written by the executors
    target = f"sqlite:///{tmp_path / 'scores.db'}"
    into_db = rescore_on_spark(spark, ledger=lake, out=target, as_of=AS_OF, served=champion)
    assert (into_db.how, into_db.customers) == ("new", len(local_rows))
    db = make_engine(target)
    try:
        run = get_run(db, into_db.run_id)
        assert run is not None
        assert run.status == COMPLETE
        assert run.buckets_done == BUCKETS
        assert set(run.monitoring["counts"]) == set(local.run.monitoring["counts"])
        assert run.monitoring["counts"] == local.run.monitoring["counts"]
        assert_same_scores(read_run_scores(db, run), local_rows)
    finally:
        db.dispose()
    again = rescore_on_spark(spark, ledger=lake, out=target, as_of=AS_OF, served=champion)
    assert again.how == "complete"


def test_a_failing_bucket_fails_the_run_and_writes_no_status(
    spark: SparkSession, champion: ServedBundle, serving_world: ServingWorld, ledger_copy: str,
    tmp_path: Path,
) -> None:
    def shifted(ids: pd.Series) -> pd.Series:  # customers filed under the wrong bucket
        return (customer_bucket(ids, BUCKETS) + 1) % BUCKETS

    lake = export(ledger_copy, tmp_path / "lake", bucket_of=shifted)
    out = tmp_path / "scores-lake"
    result = CliRunner().invoke(app, [
        "rescore", "--engine", "spark", "--master", "local[2]", "--as-of", AS_OF.isoformat(),
        "--model", serving_world.model_uri, "--tracking-uri", serving_world.tracking_uri,
        "--ledger", lake, "--out", str(out),
    ], env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    assert "Spark rescoring failed, the run is not complete" in result.output
    # the console may wrap the message at any space
    assert re.search(r"bucket \d: customer \S+ belongs to bucket \d\s+of\s+4", result.output)
    assert "Traceback" not in result.output
    status_dir = run_folder(str(out), "score_runs", as_of=AS_OF,
                            model_version=champion.model_version)
    assert read_status(spark, status_dir) is None
    assert not spark.sparkContext._jsc.sc().isStopped()  # the CLI left the test's session open

    target = f"sqlite:///{tmp_path / 'scores.db'}"
    with pytest.raises(SparkRescoringError, match="run not complete"):
        rescore_on_spark(spark, ledger=lake, out=target, as_of=AS_OF, served=champion)
    db = make_engine(target)
    try:
        key = RunKey(AS_OF, champion.model_name, champion.model_version)
        run = get_run(db, key.run_id)
        assert run is not None
        assert run.status == FAILED
    finally:
        db.dispose()


def test_spark_engine_needs_a_ledger_folder_and_a_destination(
    serving_world: ServingWorld,
) -> None:
    result = CliRunner().invoke(app, [
        "rescore", "--engine", "spark", "--as-of", AS_OF.isoformat(),
        "--model", serving_world.model_uri, "--tracking-uri", serving_world.tracking_uri,
    ], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "--ledger PARQUET_DIR" in result.output
    assert "Traceback" not in result.output
