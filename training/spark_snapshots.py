"""The monthly snapshot set built on Spark, bucket by bucket, for ledgers whose snapshots do not
fit one machine's memory.

The only module of ``creditrisk.training`` that imports pyspark (the optional extra
``creditrisk[spark]``); nothing else in training imports it. The input is a *stacked* ledger
(the bucketed Parquet export's tables in one frame, see :mod:`creditrisk.ledger.parquet`;
``creditrisk.serving.rescoring.spark.ledger_frames.stacked_ledger`` reads one). Every bucket
holds all the rows of its customers, and snapshots, onboarding snapshots and labels are per
customer, so each bucket runs the local code unchanged
(:func:`creditrisk.training.datasets.build_snapshot_set`, which builds its features with
:mod:`creditrisk.features.snapshots`) in ``groupBy(bucket).applyInPandas``. The only
ledger-wide input, the first snapshot date (the ledger's earliest invoice,
:func:`~creditrisk.training.datasets.ledger_start`), is computed once over the whole ledger
and handed to every bucket, so the union of the buckets' rows is the local snapshot set.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from creditrisk.features.catalog import categorical_names, feature_names
from creditrisk.features.default_status import DefaultDefinition
from creditrisk.ledger.errors import LedgerError
from creditrisk.ledger.parquet import BUCKET_COLUMN, TABLE_COLUMN, unstack_ledger
from creditrisk.training.datasets import DatasetError, build_snapshot_set

LABEL_COLUMNS: Final = ("default_12m", "is_applicant")
FAILURE_MARK: Final = "creditrisk snapshot bucket failure: "


class SnapshotBucketError(RuntimeError):
    """Raised in a Python worker: which bucket failed and why (travels in Spark's error)."""


def snapshot_columns() -> list[str]:
    """The snapshot set's columns, in order: keys, the customer features, the labels."""
    return ["customer_id", "as_of", *feature_names("customer"), *LABEL_COLUMNS]


def snapshot_schema() -> str:
    """The Spark schema (DDL) of the snapshot set: text categories, numeric features as
    doubles, ``as_of`` a date, ``default_12m`` 0/1, ``is_applicant`` a flag."""
    text = set(categorical_names("customer"))
    features = [
        f"`{name}` {'string' if name in text else 'double'}" for name in feature_names("customer")
    ]
    return ", ".join(
        ["customer_id string", "as_of date", *features, "default_12m tinyint",
         "is_applicant boolean"]
    )


def ledger_first_date(stacked: DataFrame) -> date:
    """The ledger's first record, as the local set starts it: its earliest invoice."""
    row = (
        stacked.where(sf.col(TABLE_COLUMN) == "invoices")
        .agg(sf.min("issue_date").alias("first"))
        .collect()[0]
    )
    if row["first"] is None:
        raise DatasetError("the ledger holds no invoices: there is no history to learn from")
    first: date = row["first"]
    return first


def spark_snapshot_set(
    stacked: DataFrame,
    *,
    data_end: date | pd.Timestamp,
    horizon_days: int,
    definition: DefaultDefinition | None = None,
    first_date: date | pd.Timestamp | None = None,
) -> DataFrame:
    """The labelled snapshot set of :func:`~creditrisk.training.datasets.build_snapshot_set`
    as a Spark frame (:func:`snapshot_schema`), computed per customer bucket.

    Lazy: nothing runs until the frame is written (``.write.parquet(...)``) or collected.
    A bucket that fails raises in Spark with :data:`FAILURE_MARK`, the bucket and the cause.
    """
    first = pd.Timestamp(first_date if first_date is not None else ledger_first_date(stacked))
    end = pd.Timestamp(data_end)
    columns = snapshot_columns()

    def snapshots_of(group: pd.DataFrame) -> pd.DataFrame:
        bucket = int(group[BUCKET_COLUMN].iloc[0])
        try:
            ledger = unstack_ledger(group)
            snapshot_set = build_snapshot_set(
                ledger, data_end=end, horizon_days=horizon_days, definition=definition,
                first_date=first,
            )
        except (LedgerError, DatasetError, ValueError) as exc:
            raise SnapshotBucketError(f"{FAILURE_MARK}bucket {bucket}: {exc}") from exc
        frame = snapshot_set.frame
        if list(frame.columns) != columns:
            raise SnapshotBucketError(
                f"{FAILURE_MARK}bucket {bucket}: snapshot columns {list(frame.columns)} are "
                f"not the schema's {columns}"
            )
        out = frame.copy()
        out["as_of"] = pd.to_datetime(out["as_of"]).dt.date.astype(object)
        for name in out.columns:  # Arrow-backed text (pandas 3) as plain objects for Spark
            if isinstance(out[name].dtype, pd.StringDtype):
                out[name] = out[name].astype(object).where(out[name].notna(), None)
        return out

    return stacked.groupBy(BUCKET_COLUMN).applyInPandas(snapshots_of, schema=snapshot_schema())
