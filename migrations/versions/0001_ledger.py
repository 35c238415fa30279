"""The receivables ledger: customers, invoices, payments, credit events.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", ID, primary_key=True),
        sa.Column("onboarded_on", sa.Date, nullable=False),
        sa.Column("country", sa.String(64)),
        sa.Column("industry", sa.String(64)),
        sa.Column("founded_on", sa.Date),
        sa.Column("credit_limit", sa.Float),
        sa.Column("payment_terms_days", sa.Float),
        sa.Column("external_score", sa.Float),
        sa.Column("annual_revenue", sa.Float),
        sa.CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="ck_customers_limit"),
        sa.CheckConstraint(
            "payment_terms_days IS NULL OR payment_terms_days >= 0", name="ck_customers_terms"
        ),
        sa.CheckConstraint(
            "annual_revenue IS NULL OR annual_revenue >= 0", name="ck_customers_revenue"
        ),
    )
    op.create_table(
        "invoices",
        sa.Column("invoice_id", ID, primary_key=True),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.customer_id"), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("currency", sa.String(3)),
        sa.Column("disputed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("settled_date", sa.Date),
        sa.CheckConstraint("due_date >= issue_date", name="ck_invoices_due_after_issue"),
        sa.CheckConstraint(
            "settled_date IS NULL OR settled_date >= issue_date", name="ck_invoices_settled"
        ),
    )
    op.create_index("ix_invoices_customer_issue", "invoices", ["customer_id", "issue_date"])
    op.create_table(
        "payments",
        sa.Column("payment_id", ID, primary_key=True),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.customer_id"), nullable=False),
        sa.Column("invoice_id", ID, sa.ForeignKey("invoices.invoice_id")),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_payments_amount_positive"),
    )
    op.create_index("ix_payments_customer_paid", "payments", ["customer_id", "paid_on"])
    op.create_table(
        "credit_events",
        sa.Column("event_id", ID, primary_key=True),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.customer_id"), nullable=False),
        sa.Column("event_date", sa.Date, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("invoice_id", ID, sa.ForeignKey("invoices.invoice_id")),
        sa.CheckConstraint(
            "event_type IN ('insolvency', 'write_off', 'reminder', 'promise_to_pay', "
            "'dispute', 'collection')",
            name="ck_credit_events_type",
        ),
    )
    op.create_index(
        "ix_credit_events_customer_date", "credit_events", ["customer_id", "event_date"]
    )


def downgrade() -> None:
    op.drop_table("credit_events")
    op.drop_table("payments")
    op.drop_table("invoices")
    op.drop_table("customers")
