"""Ledger: optional invoice dimensions and quality flags; customer attribute history.

Invoices gain ``company_code``, ``gl_account``, ``terms_code``, ``segment`` (categorical
features of the late model) and ``quality_flags`` (what a mapping's data-quality rule did to
the row). ``customer_attributes`` keeps time-varying customer attributes (a rating with its
valid-from date) as history, read point in time. Mirrors ledger/schema.py.

Revision ID: 0004_ledger_dimensions
Revises: 0003_rescoring
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_ledger_dimensions"
down_revision = "0003_rescoring"
branch_labels = None
depends_on = None

ID = sa.String(64)
INVOICE_COLUMNS = ("company_code", "gl_account", "terms_code", "segment", "quality_flags")


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        for name in INVOICE_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(64)))
    op.create_table(
        "customer_attributes",
        sa.Column("attribute_id", ID, primary_key=True),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.customer_id"), nullable=False),
        sa.Column("attribute", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("value", sa.String(64)),
        sa.UniqueConstraint(
            "customer_id", "attribute", "valid_from", name="uq_customer_attributes"
        ),
    )
    op.create_index(
        "ix_customer_attributes_customer",
        "customer_attributes",
        ["customer_id", "attribute", "valid_from"],
    )


def downgrade() -> None:
    op.drop_index("ix_customer_attributes_customer", table_name="customer_attributes")
    op.drop_table("customer_attributes")
    with op.batch_alter_table("invoices") as batch:
        for name in reversed(INVOICE_COLUMNS):
            batch.drop_column(name)
