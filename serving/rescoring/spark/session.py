"""A Spark session for rescoring: local mode on one machine or a cluster's master URL.

The Python workers must run the interpreter that has ``creditrisk`` installed: when the
environment does not say otherwise (``PYSPARK_PYTHON``), this process's interpreter is used,
which is right for ``local[*]``; on a cluster ``spark-submit`` sets it (docs/spark.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
APP_NAME = "creditrisk-rescore"


def spark_session(
    master: str | None = DEFAULT_MASTER,
    *,
    app_name: str = APP_NAME,
    shuffle_partitions: int | None = None,
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """Get or create the session for ``master`` (``local[*]``, ``local[2]``, ``spark://...``;
    None: the master ``spark-submit`` was given).

    ``shuffle_partitions`` sets ``spark.sql.shuffle.partitions`` (the number of tasks the
    bucket groups are spread over); ``config`` adds any other Spark setting.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    if master is not None:
        builder = builder.master(master)
    builder = (
        builder.appName(app_name)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "true")
    )
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def stop_session(spark: SparkSession) -> None:
    """Stop ``spark`` (its JVM-side context; a later :func:`spark_session` starts anew)."""
    spark.stop()
