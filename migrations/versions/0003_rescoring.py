"""Batch rescoring: scores, score_runs and score_run_buckets.

Built from creditrisk/serving/rescoring/tables.py (whose scores columns come from the one
column list, serving/rescoring/columns.py SCORE_COLUMNS).

Revision ID: 0003_rescoring
Revises: 0002_serving
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from creditrisk.serving.rescoring.tables import (
    score_columns,
    score_run_bucket_columns,
    score_run_columns,
)

revision = "0003_rescoring"
down_revision = "0002_serving"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_runs", *score_run_columns(),
        sa.UniqueConstraint("as_of", "model_version", name="uq_score_runs_as_of_model_version"),
    )
    op.create_table("score_run_buckets", *score_run_bucket_columns())
    op.create_table("scores", *score_columns())
    op.create_index("ix_scores_run_bucket", "scores", ["run_id", "bucket"])
    op.create_index("ix_scores_customer", "scores", ["customer_id", "as_of"])


def downgrade() -> None:
    op.drop_index("ix_scores_customer", table_name="scores")
    op.drop_index("ix_scores_run_bucket", table_name="scores")
    op.drop_table("scores")
    op.drop_table("score_run_buckets")
    op.drop_table("score_runs")
