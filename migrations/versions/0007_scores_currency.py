"""Rescoring: the reporting currency of every scores row.

Amounts in ``scores`` (exposure, limits, expected loss, ...) are in the bundle policy's
reporting currency (``serving.money.reporting_currency``), the one the service names beside
every amount it answers; the row now says which. Nullable: rows written before this revision
do not know it (new rows always carry it). Mirrors ``currency`` at the end of
creditrisk/serving/rescoring/columns.py SCORE_COLUMNS.

Revision ID: 0007_scores_currency
Revises: 0006_rescoring_service_inputs
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_scores_currency"
down_revision = "0006_rescoring_service_inputs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("currency", sa.String(3)))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("currency")
