"""Rescoring: the scores columns the service's portfolio summary and worklist read from a run.

Invoiced amount in 90 days and the aging amounts (the portfolio summary), the worklist's
per-customer open-invoice sums and collection facts. Mirrors the columns after the first 23
of creditrisk/serving/rescoring/columns.py SCORE_COLUMNS (tables.py builds the same from it).
Rows written before this revision do not exist outside development databases; the new
columns get a server default there so NOT NULL holds.

Revision ID: 0006_rescoring_service_inputs
Revises: 0005_decision_idempotency
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_rescoring_service_inputs"
down_revision = "0005_decision_idempotency"
branch_labels = None
depends_on = None

DOUBLE = sa.Float(precision=53)
NULLABLE_FLOATS = ("invoiced_amount_90d", "aging_current_amount", "aging_1_30_amount",
                   "aging_31_60_amount", "aging_61_90_amount", "aging_over_90_amount")
FLOATS = ("open_invoice_amount", "overdue_invoice_amount", "oldest_days_past_due",
          "soon_due_amount")
INTS = ("open_disputes", "promises_365d", "promises_kept", "promises_broken",
        "promises_pending")
DATES = ("next_expected_payment", "last_promise_date", "last_reminder_date")


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        for name in NULLABLE_FLOATS:
            batch.add_column(sa.Column(name, DOUBLE))
        for name in FLOATS:
            batch.add_column(sa.Column(name, DOUBLE, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_expected_payment", sa.Date()))
        for name in INTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_promise_date", sa.Date()))
        batch.add_column(sa.Column("last_reminder_date", sa.Date()))
        batch.add_column(sa.Column("default_event", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        for name in (*NULLABLE_FLOATS, *FLOATS, *INTS, *DATES, "default_event"):
            batch.drop_column(name)
