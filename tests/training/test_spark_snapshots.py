"""The monthly snapshot set built on Spark, bucket by bucket, equals the local one: the same
rows (customer, month-end or onboarding day), features, labels and applicant flags."""

from __future__ import annotations

import os
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="the spark extra is not installed (creditrisk[spark])")

from creditrisk.features.catalog import categorical_names, feature_names
from creditrisk.ledger.parquet import export_parquet_ledger
from creditrisk.serving.rescoring.partitions import customer_bucket
from creditrisk.serving.rescoring.spark.ledger_frames import stacked_ledger
from creditrisk.serving.rescoring.spark.session import spark_session
from creditrisk.synthetic import generate_ledger
from creditrisk.training.datasets import build_snapshot_set
from creditrisk.training.spark_snapshots import (
    ledger_first_date,
    snapshot_columns,
    spark_snapshot_set,
)

pytestmark = pytest.mark.slow

BUCKETS = 3
DATA_END = date(2025, 6, 30)
JAVA_17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["as_of"] = pd.to_datetime(out["as_of"]).astype("datetime64[ns]")
    out["default_12m"] = out["default_12m"].astype("int64")
    for name in ["customer_id", *categorical_names("customer")]:
        out[name] = out[name].astype("string")
    return out.sort_values(["customer_id", "as_of"], kind="stable").reset_index(drop=True)


def test_spark_snapshot_set_equals_the_local_one(tmp_path: Path) -> None:
    if "JAVA_HOME" not in os.environ and JAVA_17.is_dir():
        os.environ["JAVA_HOME"] = str(JAVA_17)
    ledger = generate_ledger(
        n_customers=150, start=date(2023, 1, 1), end=DATA_END, seed=9
    ).ledger
    local = build_snapshot_set(ledger, data_end=DATA_END, horizon_days=365).frame
    lake = tmp_path / "lake"
    export_parquet_ledger(ledger, lake, buckets=BUCKETS,
                          bucket_of=partial(customer_bucket, buckets=BUCKETS))

    spark = spark_session("local[2]", shuffle_partitions=BUCKETS,
                          config={"spark.ui.enabled": "false"})
    stacked = stacked_ledger(spark, str(lake))
    assert ledger_first_date(stacked) == ledger.invoices["issue_date"].min().date()
    distributed = spark_snapshot_set(stacked, data_end=DATA_END, horizon_days=365).toPandas()

    assert list(distributed.columns) == snapshot_columns() == list(local.columns)
    left, right = ordered(distributed), ordered(local)
    assert len(left) == len(right) > 0
    assert right["is_applicant"].any()
    assert right["default_12m"].any()
    keys = ["customer_id", "as_of", "default_12m", "is_applicant",
            *categorical_names("customer")]
    pd.testing.assert_frame_equal(left[keys], right[keys])
    numeric = [n for n in feature_names("customer") if n not in categorical_names("customer")]
    np.testing.assert_allclose(
        left[numeric].to_numpy(np.float64), right[numeric].to_numpy(np.float64),
        rtol=0, atol=1e-9, equal_nan=True,
    )
