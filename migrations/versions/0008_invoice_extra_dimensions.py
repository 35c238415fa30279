"""Ledger: extra named invoice dimensions declared by the import mapping.

Invoices gain ``dimensions``: the mapping's extra named string dimensions (``dimensions:``
on the invoices table, e.g. a sales organisation or profit center) as one JSON object of
name -> value, sorted by name (at most 8 names of up to 32 characters, values up to 64;
see ledger/dimensions.py). Categorical features of the late model (``dim_<name>``). Mirrors
ledger/schema.py.

Revision ID: 0008_invoice_extra_dimensions
Revises: 0007_scores_currency
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_invoice_extra_dimensions"
down_revision = "0007_scores_currency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("dimensions", sa.String(1024)))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("dimensions")
