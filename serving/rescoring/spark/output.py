"""Where a Spark rescoring writes: the ``scores`` columns, to Parquet or to the database.

* **Parquet** (a folder: local, ``s3a://``, ``hdfs://``...): the rows of a run go to
  ``OUT/scores/as_of=DATE/model_version=V/`` (every :data:`SCORE_COLUMNS` column inside the
  files as well, so a file read alone is complete) and its status, one JSON record, to
  ``OUT/score_runs/as_of=DATE/model_version=V/``. The status is deleted before the rows are
  (re)written and written only after Spark reports every task of the write done: a reader
  that finds the status finds the whole run; a failed or killed run leaves rows without a
  status, which the next run overwrites.
* **Database** (a SQLAlchemy URL, or ``jdbc:postgresql://...`` / ``jdbc:sqlite:...``
  translated to one): the local engine's own run life cycle
  (:mod:`creditrisk.serving.rescoring.store`): the driver opens the run, each bucket's rows
  and its done-marker are written by the executor in one transaction (PostgreSQL ``COPY``),
  the driver marks the run complete only when every bucket is recorded and the rows add up.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Final

import pandas as pd
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql import types as st

from creditrisk.serving.rescoring.columns import SCORE_COLUMNS, ColumnKind

SPARK_TYPES: Final[dict[ColumnKind, st.DataType]] = {
    "date": st.DateType(),
    "str": st.StringType(),
    "float": st.DoubleType(),
    "int": st.LongType(),
    "bool": st.BooleanType(),
}
DATABASE_SCHEMES: Final = re.compile(r"^(postgresql|postgres|sqlite)(\+[a-z0-9_]+)?://")
STATUS_COMPLETE: Final = "complete"


def scores_struct() -> st.StructType:
    """The Spark schema of the ``scores`` rows: :data:`SCORE_COLUMNS`, in order."""
    return st.StructType(
        [st.StructField(c.name, SPARK_TYPES[c.kind], nullable=c.nullable) for c in SCORE_COLUMNS]
    )


def spark_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """A conformed scores frame as ``applyInPandas`` must return it (dates as dates)."""
    out = scores.copy()
    for column in SCORE_COLUMNS:
        values = out[column.name]
        if column.kind == "date":
            out[column.name] = pd.to_datetime(values).dt.date.astype(object)
        elif isinstance(values.dtype, pd.StringDtype):  # Arrow-backed text as plain objects
            out[column.name] = values.astype(object).where(values.notna(), None)
    return out


def database_url(out: str) -> str | None:
    """The SQLAlchemy URL ``out`` names, or None when ``out`` is a folder.

    ``jdbc:postgresql://host:port/db?user=u`` -> ``postgresql+psycopg://host:port/db?user=u``;
    ``jdbc:sqlite:/path/x.db`` -> ``sqlite:////path/x.db``; SQLAlchemy URLs pass as they are.
    """
    if out.startswith("jdbc:postgresql://"):
        return "postgresql+psycopg://" + out.removeprefix("jdbc:postgresql://")
    if out.startswith("jdbc:sqlite:"):
        path = out.removeprefix("jdbc:sqlite:")
        return "sqlite:///" + path
    if out.startswith("jdbc:"):
        raise ValueError(
            f"--out {out.split(':', 2)[1]!r} JDBC URLs are not supported: use "
            "jdbc:postgresql://..., jdbc:sqlite:... or a Parquet folder"
        )
    if DATABASE_SCHEMES.match(out):
        return out
    return None


def run_folder(out: str, kind: str, *, as_of: date, model_version: str) -> str:
    """``OUT/<kind>/as_of=DATE/model_version=V`` (kind: ``scores`` or ``score_runs``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model_version)
    return f"{out.rstrip('/')}/{kind}/as_of={as_of.isoformat()}/model_version={safe}"


def delete_path(spark: SparkSession, path: str) -> None:
    """Remove ``path`` (recursively) on whatever file system Spark reaches it through."""
    # Hadoop's FileSystem (local, HDFS, S3A...) is reached only through the JVM gateway
    jvm: Any = spark.sparkContext._jvm
    conf: Any = spark.sparkContext._jsc.hadoopConfiguration()
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    hadoop_path.getFileSystem(conf).delete(hadoop_path, True)


def write_status(spark: SparkSession, path: str, record: dict[str, Any]) -> None:
    """The run's status record as one JSON file under ``path`` (overwriting)."""
    text = json.dumps(record, sort_keys=True, default=str)
    spark.createDataFrame([(text,)], "value string").coalesce(1).write.mode("overwrite").text(path)


def read_status(spark: SparkSession, path: str) -> dict[str, Any] | None:
    """The status record at ``path``; None when there is none (run not complete)."""
    try:
        rows = spark.read.text(path).collect()
    except AnalysisException:  # no such path: the run never completed
        return None
    if not rows:
        return None
    record: dict[str, Any] = json.loads(str(rows[0][0]))
    return record
