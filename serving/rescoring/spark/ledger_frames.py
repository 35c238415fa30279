"""A bucketed Parquet ledger (``creditrisk ledger export --format parquet``) as ONE Spark frame.

``groupBy(...).applyInPandas`` hands Python one frame per group, but a ledger is four tables.
They are stacked by name into one long frame (the union of their columns, a
``ledger_table`` column saying which table a row belongs to; columns a table lacks are null),
so one group carries a bucket's whole sub-ledger, and :func:`group_ledger` splits it back into
a :class:`~creditrisk.ledger.frame.Ledger` with the contract's dtypes. Rows are put in key
order there: Spark's shuffle gives no row order within a group, and the run must not depend
on one.

Paths are Spark paths (a local folder, ``file://``, ``s3a://``, ``hdfs://``...): the manifest is
read through Spark too, so object storage works the same as a local disk.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf
from pyspark.sql import types as st

from creditrisk.ledger.frame import TABLE_COLUMNS, Ledger
from creditrisk.ledger.parquet import (
    BUCKET_COLUMN,
    MANIFEST_FILE,
    TABLE_COLUMN,
    parse_manifest,
    unstack_ledger,
)

_SPARK_TYPES: Final[dict[str, st.DataType]] = {
    "id": st.StringType(),
    "str": st.StringType(),
    "date": st.DateType(),
    "float": st.DoubleType(),
    "int": st.LongType(),
    "bool": st.BooleanType(),
}


def table_struct(table: str) -> st.StructType:
    """The Spark schema of one exported table, the ``bucket`` partition column included."""
    fields = [
        st.StructField(column, _SPARK_TYPES[kind], nullable=True)
        for column, kind in TABLE_COLUMNS[table].items()
    ]
    return st.StructType([*fields, st.StructField(BUCKET_COLUMN, st.LongType(), nullable=False)])


def read_ledger_manifest(spark: SparkSession, folder: str) -> dict[str, Any]:
    """The export's manifest, read with Spark (local or object storage), checked."""
    where = f"{folder.rstrip('/')}/{MANIFEST_FILE}"
    rows = spark.read.text(where, wholetext=True).collect()
    if not rows:
        return parse_manifest("", where=where)
    return parse_manifest(str(rows[0][0]), where=where)


def stacked_ledger(spark: SparkSession, folder: str) -> DataFrame:
    """The four tables of the export at ``folder`` stacked into one frame (see the module)."""
    root = folder.rstrip("/")
    frames = [
        spark.read.schema(table_struct(table))
        .parquet(f"{root}/{table}")
        .withColumn(TABLE_COLUMN, sf.lit(table))
        for table in TABLE_COLUMNS
    ]
    stacked = frames[0]
    for frame in frames[1:]:
        stacked = stacked.unionByName(frame, allowMissingColumns=True)
    return stacked


def group_ledger(group: pd.DataFrame) -> Ledger:
    """One group of :func:`stacked_ledger` (a bucket) as a normalised ledger, in key order
    (:func:`creditrisk.ledger.parquet.unstack_ledger`)."""
    return unstack_ledger(group)
