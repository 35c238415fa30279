"""The rescoring tables (SQLAlchemy Core), built from :data:`.columns.SCORE_COLUMNS`.

Migrations ``0003_rescoring`` (the tables), ``0006_rescoring_service_inputs`` (the
portfolio and worklist columns) and ``0007_scores_currency`` write the same columns out,
frozen as released; a test checks that a migrated database has exactly SCORE_COLUMNS in
order, so the table, the Parquet export and Spark's schema share one column list.

- ``scores``: one row per (as_of, customer_id, model_version), the columns of SCORE_COLUMNS;
- ``score_runs``: one row per run (as_of, model_name, model_version): status (``running``,
  ``complete``, ``failed``), counts, timings, ledger digest, model and policy versions and the
  run's monitoring histograms (JSON text);
- ``score_run_buckets``: the buckets a run has finished, each written in the same transaction
  as its ``scores`` rows (what a resumed run skips).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from creditrisk.serving.rescoring.columns import KEY_COLUMNS, SCORE_COLUMNS, ScoreColumn

STRING_LENGTHS: dict[str, int] = {
    "customer_id": 64,
    "model_version": 64,
    "model_name": 200,
    "policy_version": 64,
    "run_id": 64,
    "grade": 8,
    "limit_action": 8,
    "decision": 16,
    "currency": 3,
}
RUN_ID = sa.String(64)


def sql_type(column: ScoreColumn) -> Any:
    """The SQL type of a scores column (text without a length for the reason lists)."""
    if column.kind == "date":
        return sa.Date()
    if column.kind == "float":
        return sa.Float(precision=53)
    if column.kind == "int":
        return sa.Integer()
    if column.kind == "bool":
        return sa.Boolean()
    length = STRING_LENGTHS.get(column.name)
    return sa.String(length) if length else sa.Text()


def score_columns() -> list[sa.Column[Any]]:
    """Fresh Column objects of the ``scores`` table (primary key = KEY_COLUMNS)."""
    return [
        sa.Column(c.name, sql_type(c), primary_key=c.name in KEY_COLUMNS, nullable=c.nullable)
        for c in SCORE_COLUMNS
    ]


def score_run_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("run_id", RUN_ID, primary_key=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("model_uri", sa.String(500), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("buckets", sa.Integer(), nullable=False),
        sa.Column("buckets_done", sa.Integer(), nullable=False),
        sa.Column("customer_count", sa.Integer(), nullable=False),
        sa.Column("ledger_digest", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("timings_json", sa.Text()),
        sa.Column("monitoring_json", sa.Text()),
        sa.Column("error", sa.Text()),
    ]


def score_run_bucket_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("run_id", RUN_ID, primary_key=True),
        sa.Column("bucket", sa.Integer(), primary_key=True),
        sa.Column("customer_count", sa.Integer(), nullable=False),
        sa.Column("timings_json", sa.Text(), nullable=False),
        sa.Column("monitoring_json", sa.Text(), nullable=False),
    ]


metadata = sa.MetaData()
scores = sa.Table(
    "scores", metadata, *score_columns(),
    sa.Index("ix_scores_run_bucket", "run_id", "bucket"),
    sa.Index("ix_scores_customer", "customer_id", "as_of"),
)
score_runs = sa.Table(
    "score_runs", metadata, *score_run_columns(),
    sa.UniqueConstraint("as_of", "model_version", name="uq_score_runs_as_of_model_version"),
)
score_run_buckets = sa.Table("score_run_buckets", metadata, *score_run_bucket_columns())

RESCORING_TABLES: dict[str, sa.Table] = {
    "scores": scores, "score_runs": score_runs, "score_run_buckets": score_run_buckets,
}
