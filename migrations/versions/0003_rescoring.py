"""Batch rescoring: scores, score_runs and score_run_buckets.

The tables as first released, written out (a migration never changes once applied; later
columns come in their own revisions, 0006_rescoring_service_inputs). The scores columns are
the first 23 of creditrisk/serving/rescoring/columns.py SCORE_COLUMNS.

Revision ID: 0003_rescoring
Revises: 0002_serving
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_rescoring"
down_revision = "0002_serving"
branch_labels = None
depends_on = None

RUN_ID = sa.String(64)
DOUBLE = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "score_runs",
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
        sa.UniqueConstraint("as_of", "model_version", name="uq_score_runs_as_of_model_version"),
    )
    op.create_table(
        "score_run_buckets",
        sa.Column("run_id", RUN_ID, primary_key=True),
        sa.Column("bucket", sa.Integer(), primary_key=True),
        sa.Column("customer_count", sa.Integer(), nullable=False),
        sa.Column("timings_json", sa.Text(), nullable=False),
        sa.Column("monitoring_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "scores",
        sa.Column("as_of", sa.Date(), primary_key=True),
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.String(64), primary_key=True),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("run_id", RUN_ID),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("pd_12m", DOUBLE, nullable=False),
        sa.Column("model_pd_12m", DOUBLE, nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("in_default", sa.Boolean(), nullable=False),
        sa.Column("exposure", DOUBLE, nullable=False),
        sa.Column("overdue_amount", DOUBLE, nullable=False),
        sa.Column("worst_days_past_due", DOUBLE),
        sa.Column("expected_overdue_30d", DOUBLE, nullable=False),
        sa.Column("expected_loss", DOUBLE, nullable=False),
        sa.Column("current_limit", DOUBLE),
        sa.Column("recommended_limit", DOUBLE, nullable=False),
        sa.Column("limit_action", sa.String(8), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason_codes", sa.Text(), nullable=False),
        sa.Column("top_factors", sa.Text(), nullable=False),
        sa.Column("next_review_date", sa.Date(), nullable=False),
    )
    op.create_index("ix_scores_run_bucket", "scores", ["run_id", "bucket"])
    op.create_index("ix_scores_customer", "scores", ["customer_id", "as_of"])


def downgrade() -> None:
    op.drop_index("ix_scores_customer", table_name="scores")
    op.drop_index("ix_scores_run_bucket", table_name="scores")
    op.drop_table("scores")
    op.drop_table("score_run_buckets")
    op.drop_table("score_runs")
