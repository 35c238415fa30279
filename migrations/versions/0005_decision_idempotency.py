"""Decision log: the ``Idempotency-Key`` of a POST and the hash of its request, unique per
API key, so a retried request gets the first decision back (serving/decision_log.py).

Revision ID: 0005_decision_idempotency
Revises: 0004_ledger_dimensions
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_decision_idempotency"
down_revision = "0004_ledger_dimensions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision_log") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(128)))
        batch.add_column(sa.Column("request_sha256", sa.String(64)))
    op.create_index(
        "ux_decision_log_idempotency", "decision_log", ["api_key_id", "idempotency_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_decision_log_idempotency", table_name="decision_log")
    with op.batch_alter_table("decision_log") as batch:
        batch.drop_column("request_sha256")
        batch.drop_column("idempotency_key")
