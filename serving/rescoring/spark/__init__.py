"""Batch rescoring on Apache Spark: the same rating code, one Python call per customer bucket.

The only place of ``creditrisk.serving`` that imports pyspark (an optional extra,
``pip install 'creditrisk[spark]'``); the local engine and the service never import this
package. :mod:`.session` starts or joins a session, :mod:`.ledger_frames` reads a bucketed
Parquet ledger into one Spark frame grouped by bucket, :mod:`.engine` rates every bucket with
:func:`creditrisk.serving.rescoring.scoring.score_customers` (``groupBy(bucket)
.applyInPandas``) and :mod:`.output` writes the ``scores`` columns to Parquet or JDBC and the
run's status only after every bucket succeeded.
"""
