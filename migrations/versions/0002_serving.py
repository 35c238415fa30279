"""The service's own tables: API keys (hashed) and the decision log.

Mirrors serving/tables.py.

Revision ID: 0002_serving
Revises: 0001_ledger
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_serving"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

KEY_ID = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", KEY_ID, primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "decision_log",
        sa.Column("decision_id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("api_key_id", KEY_ID, nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("request_json", sa.Text, nullable=False),
        sa.Column("features_json", sa.Text),
        sa.Column("outputs_json", sa.Text, nullable=False),
        sa.Column("reasons_json", sa.Text),
    )
    op.create_index("ix_decision_log_created_at", "decision_log", ["created_at"])
    op.create_index(
        "ix_decision_log_customer_created", "decision_log", ["customer_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_decision_log_customer_created", table_name="decision_log")
    op.drop_index("ix_decision_log_created_at", table_name="decision_log")
    op.drop_table("decision_log")
    op.drop_table("api_keys")
