"""The customer features: one row per customer and as-of date, declared once.

Windows: "last N days" as of date ``T`` means records dated ``T - N < d <= T``
(:mod:`features.declaration`). Computed by :mod:`features.customer` and
:mod:`features.payment_delays`; read through :mod:`features.catalog`.
"""

from __future__ import annotations

from creditrisk.features.declaration import Feature
from creditrisk.features.declaration import customer_feature as _customer

CUSTOMER_FEATURES: tuple[Feature, ...] = (
    # tenure and recency
    _customer("days_since_onboarded", "Days since the customer was onboarded", -1, "tenure"),
    _customer("company_age_years", "Age of the company in years", -1, "tenure"),
    _customer("days_since_last_invoice", "Days since the last invoice was issued", 0, "recency"),
    _customer("days_since_last_payment", "Days since the last payment was received", 0, "recency"),
    # invoicing volume
    _customer("invoice_count_30d", "Invoices issued, last 30 days", 0, "volume", 30),
    _customer("invoice_count_90d", "Invoices issued, last 90 days", 0, "volume", 90),
    _customer("invoice_count_365d", "Invoices issued, last 365 days", 0, "volume", 365),
    _customer(
        "invoice_count_share_90d",
        "Share of the last 365 days' invoices issued in the last 90 days (about 0.25 when the "
        "customer orders steadily; lower when its orders slow down)",
        0,
        "volume",
        365,
    ),
    _customer("invoiced_amount_90d", "Amount invoiced, last 90 days", 0, "volume", 90),
    _customer("invoiced_amount_365d", "Amount invoiced, last 365 days", 0, "volume", 365),
    _customer("credit_note_count_365d", "Credit notes issued, last 365 days", 0, "volume", 365),
    # open and overdue balance, aging
    _customer("open_balance", "Open receivable balance (amount still owed)", 0, "balance"),
    _customer("overdue_balance", "Open balance past its due date", 0, "balance"),
    _customer("aging_current_amount", "Open balance not yet due", 0, "aging"),
    _customer("aging_1_30_amount", "Open balance 1-30 days past due", 0, "aging"),
    _customer("aging_31_60_amount", "Open balance 31-60 days past due", 0, "aging"),
    _customer("aging_61_90_amount", "Open balance 61-90 days past due", 0, "aging"),
    _customer("aging_over_90_amount", "Open balance more than 90 days past due", 0, "aging"),
    _customer("aging_current_share", "Share of the open balance not yet due", -1, "aging"),
    _customer("aging_1_30_share", "Share of the open balance 1-30 days past due", 1, "aging"),
    _customer("aging_31_60_share", "Share of the open balance 31-60 days past due", 1, "aging"),
    _customer("aging_61_90_share", "Share of the open balance 61-90 days past due", 1, "aging"),
    _customer(
        "aging_over_90_share", "Share of the open balance more than 90 days past due", 1, "aging"
    ),
    _customer("worst_days_past_due", "Days past due of the most overdue open invoice", 1, "aging"),
    _customer(
        "overdue_over_15_invoice_count", "Open invoices more than 15 days past due", 0, "aging"
    ),
    # payment behaviour on settled invoices
    _customer("settled_invoice_count_365d", "Invoices settled, last 365 days", 0, "lateness", 365),
    _customer(
        "late_share_365d",
        "Share of invoices paid after due date, last 365 days",
        1,
        "lateness",
        365,
    ),
    _customer(
        "days_beyond_terms_mean_365d",
        "Average days paid beyond terms, last 365 days",
        1,
        "lateness",
        365,
    ),
    _customer(
        "payment_delay_mean_365d",
        "Average days from due date to payment, last 365 days (negative = paid early)",
        1,
        "lateness",
        365,
    ),
    _customer(
        "payment_delay_median_365d",
        "Median days from due date to payment, last 365 days (negative = paid early)",
        1,
        "lateness",
        365,
    ),
    _customer(
        "payment_delay_q25_365d",
        "Days from due date to payment of the quickest-paid quarter of invoices (25th "
        "percentile), last 365 days (negative = paid early)",
        1,
        "lateness",
        365,
    ),
    _customer(
        "payment_delay_mean_90d",
        "Average days from due date to payment, last 90 days (negative = paid early)",
        1,
        "lateness",
        90,
    ),
    _customer(
        "days_beyond_terms_weighted_365d",
        "Amount-weighted average days paid beyond terms, last 365 days",
        1,
        "lateness",
        365,
    ),
    _customer(
        "days_beyond_terms_p90_365d",
        "Days beyond terms of the slowest tenth of invoices (90th percentile), last 365 days",
        1,
        "lateness",
        365,
    ),
    _customer(
        "days_beyond_terms_trend_90d",
        "Change in average days beyond terms: last 90 days minus the 90 days before",
        1,
        "lateness",
        180,
    ),
    # invoices that fell due recently: the earliest sign of a change in payment behaviour
    _customer(
        "due_invoice_count_60d",
        "Invoices that fell due in the last 60 days",
        0,
        "recent_dues",
        60,
    ),
    _customer(
        "unpaid_due_share_60d",
        "Share of the invoices that fell due in the last 60 days still unpaid",
        1,
        "recent_dues",
        60,
    ),
    _customer(
        "payment_delay_due_60d",
        "Average days from due date to payment of invoices that fell due in the last 60 days "
        "(unpaid ones counted at their days overdue so far; negative = paid early)",
        1,
        "recent_dues",
        60,
    ),
    _customer(
        "payment_delay_shift_60d",
        "How many days later than its own 12-month average the customer paid the invoices "
        "that fell due in the last 60 days",
        1,
        "recent_dues",
        365,
    ),
    _customer(
        "due_invoice_count_30d",
        "Invoices that fell due in the last 30 days",
        0,
        "recent_dues",
        30,
    ),
    _customer(
        "unpaid_due_share_30d",
        "Share of the invoices that fell due in the last 30 days still unpaid",
        1,
        "recent_dues",
        30,
    ),
    _customer(
        "payment_delay_due_30d",
        "Average days from due date to payment of invoices that fell due in the last 30 days "
        "(unpaid ones counted at their days overdue so far; negative = paid early)",
        1,
        "recent_dues",
        30,
    ),
    _customer(
        "payment_delay_shift_30d",
        "How many days later than its own 12-month average the customer paid the invoices "
        "that fell due in the last 30 days",
        1,
        "recent_dues",
        365,
    ),
    _customer(
        "slow_share_due_10_40d",
        "Share of the invoices that fell due 10 to 39 days ago not paid within 10 days of "
        "their due date",
        1,
        "recent_dues",
        40,
    ),
    _customer(
        "last_due_delay",
        "Days from due date to payment of the most recent invoice due at least 7 days ago "
        "(unpaid: its days overdue so far; several due that day: their average)",
        1,
        "recent_dues",
    ),
    # DSO and utilisation
    _customer(
        "dso_days",
        "Days sales outstanding: open balance over the last 90 days' sales, times 90",
        1,
        "dso",
        90,
    ),
    _customer(
        "credit_utilisation", "Open balance as a share of the credit limit", 1, "utilisation"
    ),
    # disputes, partial payments, collections
    _customer("dispute_count_90d", "Disputes raised, last 90 days", 0, "disputes", 90),
    _customer("dispute_count_365d", "Disputes raised, last 365 days", 1, "disputes", 365),
    _customer(
        "disputed_settled_invoice_count_365d",
        "Invoices settled in the last 365 days that had been disputed",
        1,
        "disputes",
        365,
    ),
    _customer(
        "partially_paid_invoice_count_365d",
        "Invoices of the last 365 days paid in more than one instalment",
        1,
        "partial_payments",
        365,
    ),
    _customer(
        "open_part_paid_invoice_count",
        "Open invoices already part-paid (an instalment received, the rest still owed)",
        0,
        "partial_payments",
    ),
    _customer(
        "reminder_count_30d", "Payment reminders sent, last 30 days", 1, "collections", 30
    ),
    _customer(
        "reminder_count_90d", "Payment reminders sent, last 90 days", 1, "collections", 90
    ),
    _customer(
        "reminder_count_365d", "Payment reminders sent, last 365 days", 1, "collections", 365
    ),
    _customer(
        "broken_promise_count_365d",
        "Promises to pay not followed by any payment within 14 days, last 365 days",
        1,
        "collections",
        365,
    ),
    # static attributes
    _customer("payment_terms_days", "Agreed payment terms in days", 0, "static"),
    _customer("annual_revenue", "Annual revenue of the company", -1, "static"),
    _customer("external_score", "External credit score (higher is better)", -1, "static"),
    _customer("credit_limit", "Credit limit granted", 0, "static"),
    _customer("industry", "Industry", 0, "static", kind="categorical"),
    _customer("country", "Country", 0, "static", kind="categorical"),
    _customer(
        "customer_rating",
        "Customer's rating in force at the date (from its rating history)",
        0,
        "attributes",
        kind="categorical",
    ),
)
"""Customer features as of a date ``T`` (one row per customer onboarded on or before ``T``)."""
