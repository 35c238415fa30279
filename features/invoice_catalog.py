"""The invoice features: one row per invoice and prediction date, declared once.

Computed by :mod:`features.invoice`; read through :mod:`features.catalog`.
"""

from __future__ import annotations

from creditrisk.features.declaration import Feature
from creditrisk.features.declaration import invoice_feature as _invoice

INVOICE_FEATURES: tuple[Feature, ...] = (
    # the customer's history before the prediction date
    _invoice("customer_tenure_days", "Days the customer had been onboarded", -1, "history"),
    _invoice("prior_invoice_count", "Invoices the customer received before", 0, "history"),
    _invoice(
        "prior_invoice_count_90d",
        "Invoices the customer received in the previous 90 days",
        0,
        "history",
        90,
    ),
    _invoice(
        "prior_settled_invoice_count", "Earlier invoices the customer has settled", 0, "history"
    ),
    _invoice(
        "prior_late_share", "Share of the customer's settled invoices paid late", 1, "history"
    ),
    _invoice(
        "prior_days_beyond_terms_mean",
        "Average days beyond terms on the customer's settled invoices",
        1,
        "history",
    ),
    _invoice(
        "recent_days_beyond_terms_mean",
        "Average days beyond terms on the customer's last 5 settled invoices",
        1,
        "history",
    ),
    _invoice("open_balance", "Customer's open balance", 0, "history"),
    _invoice("overdue_balance", "Customer's open balance past its due date", 0, "history"),
    _invoice(
        "overdue_share", "Share of the customer's open balance past its due date", 1, "history"
    ),
    # the invoice itself
    _invoice("invoice_amount", "Invoice amount", 0, "invoice"),
    _invoice("log_invoice_amount", "Invoice amount, log scale", 0, "invoice"),
    _invoice(
        "amount_vs_customer_mean",
        "Invoice amount relative to the customer's average earlier invoice",
        0,
        "invoice",
    ),
    _invoice("terms_days", "Payment terms of this invoice in days", 0, "invoice"),
    _invoice("issue_month", "Calendar month of issue (1-12)", 0, "calendar"),
    _invoice("issue_weekday", "Weekday of issue (0 = Monday)", 0, "calendar"),
    _invoice(
        "issued_at_quarter_end",
        "Issued in the last 14 days of a calendar quarter (1 = yes)",
        0,
        "calendar",
    ),
    _invoice("days_since_issue", "Days since the invoice was issued", 0, "invoice"),
    _invoice("days_to_due", "Days until the due date (negative: overdue)", 0, "invoice"),
    # what happened to the invoice itself by the prediction date (0 at issue)
    _invoice(
        "invoice_paid_share", "Share of this invoice already paid by partial payments", 0,
        "invoice",
    ),
    _invoice(
        "invoice_reminder_count", "Payment reminders already sent for this invoice", 1, "invoice"
    ),
    _invoice("invoice_disputed", "A dispute has been raised on this invoice (1 = yes)", 1,
             "invoice"),
    # static attributes of the customer
    _invoice("payment_terms_days", "Customer's agreed payment terms in days", 0, "static"),
    _invoice("annual_revenue", "Annual revenue of the company", -1, "static"),
    _invoice("external_score", "External credit score (higher is better)", -1, "static"),
    _invoice("credit_limit", "Credit limit granted", 0, "static"),
    _invoice("company_age_years", "Age of the company in years", -1, "static"),
    _invoice("industry", "Industry", 0, "static", kind="categorical"),
    _invoice("country", "Country", 0, "static", kind="categorical"),
    _invoice(
        "customer_rating",
        "Customer's rating in force before the prediction date (from its rating history)",
        0,
        "attributes",
        kind="categorical",
    ),
    # optional invoice dimensions of the export (missing when the mapping leaves them out)
    _invoice("company_code", "Company code the invoice was booked in", 0, "dimension",
             kind="categorical"),
    _invoice("gl_account", "Receivables (GL) account of the invoice", 0, "dimension",
             kind="categorical"),
    _invoice("terms_code", "Payment-terms code of the invoice", 0, "dimension",
             kind="categorical"),
    _invoice("segment", "Segment of the invoice (a named column of the export)", 0,
             "dimension", kind="categorical"),
)
"""Invoice features at the prediction date (the issue date, or an as-of date for open
invoices); the customer's history uses only records dated before the issue date."""

INVOICE_ID_COLUMNS: tuple[str, ...] = (
    "invoice_id",
    "customer_id",
    "issue_date",
    "due_date",
    "amount",
)
"""Identifying columns that precede the features in an invoice feature frame."""
