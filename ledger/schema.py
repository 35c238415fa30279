"""The ledger's SQL schema (SQLAlchemy 2 Core). Migrations in ``migrations/`` create it.

SQLite is the embedded default; PostgreSQL is the production target. Both get the same
keys, foreign keys and check constraints.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
)

from creditrisk.ledger.dimensions import DIMENSIONS_COLUMN_LENGTH

metadata = MetaData()

ID = String(64)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("onboarded_on", Date, nullable=False),
    Column("country", String(64)),
    Column("industry", String(64)),
    Column("founded_on", Date),
    Column("credit_limit", Float),
    Column("payment_terms_days", Float),
    Column("external_score", Float),
    Column("annual_revenue", Float),
    CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="ck_customers_limit"),
    CheckConstraint(
        "payment_terms_days IS NULL OR payment_terms_days >= 0", name="ck_customers_terms"
    ),
    CheckConstraint(
        "annual_revenue IS NULL OR annual_revenue >= 0", name="ck_customers_revenue"
    ),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount", Float, nullable=False),
    Column("currency", String(3)),
    # server_default, not default=: an import leaving `disputed` unmapped compiles an INSERT
    # without it (a Python-side default would demand a bind parameter it never gets)
    Column("disputed", Boolean, nullable=False, server_default=false()),
    Column("settled_date", Date),
    Column("company_code", String(64)),
    Column("gl_account", String(64)),
    Column("terms_code", String(64)),
    Column("segment", String(64)),
    Column("quality_flags", String(64)),
    Column("dimensions", String(DIMENSIONS_COLUMN_LENGTH)),  # JSON: ledger/dimensions.py
    CheckConstraint("due_date >= issue_date", name="ck_invoices_due_after_issue"),
    CheckConstraint(
        "settled_date IS NULL OR settled_date >= issue_date", name="ck_invoices_settled"
    ),
    Index("ix_invoices_customer_issue", "customer_id", "issue_date"),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("invoice_id", ID, ForeignKey("invoices.invoice_id")),
    Column("paid_on", Date, nullable=False),
    Column("amount", Float, nullable=False),
    CheckConstraint("amount > 0", name="ck_payments_amount_positive"),
    Index("ix_payments_customer_paid", "customer_id", "paid_on"),
)

credit_events = Table(
    "credit_events",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("event_date", Date, nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("invoice_id", ID, ForeignKey("invoices.invoice_id")),
    CheckConstraint(
        "event_type IN ('insolvency', 'write_off', 'reminder', 'promise_to_pay', "
        "'dispute', 'collection')",
        name="ck_credit_events_type",
    ),
    Index("ix_credit_events_customer_date", "customer_id", "event_date"),
)

customer_attributes = Table(
    "customer_attributes",
    metadata,
    Column("attribute_id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("attribute", String(64), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("value", String(64)),
    UniqueConstraint("customer_id", "attribute", "valid_from", name="uq_customer_attributes"),
    Index("ix_customer_attributes_customer", "customer_id", "attribute", "valid_from"),
)
"""Time-varying customer attributes (for example a rating and its valid-from date)."""

LEDGER_TABLES: dict[str, Table] = {
    "customers": customers,
    "invoices": invoices,
    "payments": payments,
    "credit_events": credit_events,
    "customer_attributes": customer_attributes,
}
"""In foreign-key order: parents before children."""
