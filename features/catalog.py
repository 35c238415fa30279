"""The feature catalog: every feature the models see, declared once.

Each :class:`Feature` carries its name (the column name everywhere: feature frames, model
signatures, reason codes), a description a credit analyst understands (shown as a reason
code), the direction of risk (used as a LightGBM monotone constraint where that is sound),
its family, its look-back window and its level (one row per customer, or per invoice).

Direction: ``+1`` a higher value means higher risk, ``-1`` a higher value means lower risk,
``0`` not monotone or not known. Amounts that grow with the size of the customer (open
balance, overdue amount) get ``0``; the size-free shares and ratios get the sign.

Windows: "last N days" as of date ``T`` means records dated ``T - N < d <= T``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Level = Literal["customer", "invoice"]
Kind = Literal["numeric", "categorical"]


class CatalogError(ValueError):
    """A feature level or name that the catalog does not declare."""


@dataclass(frozen=True)
class Feature:
    """One declared feature."""

    name: str
    description: str
    direction: Literal[-1, 0, 1]
    family: str
    window_days: int | None
    level: Level
    kind: Kind = "numeric"


def _customer(
    name: str,
    description: str,
    direction: Literal[-1, 0, 1],
    family: str,
    window_days: int | None = None,
    kind: Kind = "numeric",
) -> Feature:
    return Feature(name, description, direction, family, window_days, "customer", kind)


def _invoice(
    name: str,
    description: str,
    direction: Literal[-1, 0, 1],
    family: str,
    window_days: int | None = None,
    kind: Kind = "numeric",
) -> Feature:
    return Feature(name, description, direction, family, window_days, "invoice", kind)


CUSTOMER_FEATURES: tuple[Feature, ...] = (
    # tenure and recency
    _customer("days_since_onboarded", "Days since the customer was onboarded", -1, "tenure"),
    _customer("company_age_years", "Age of the company in years", -1, "tenure"),
    _customer("days_since_last_invoice", "Days since the last invoice was issued", 0, "recency"),
    _customer("days_since_last_payment", "Days since the last payment was received", 0, "recency"),
    # invoicing volume
    _customer("invoice_count_90d", "Invoices issued, last 90 days", 0, "volume", 90),
    _customer("invoice_count_365d", "Invoices issued, last 365 days", 0, "volume", 365),
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
    _customer("reminder_count_90d", "Payment reminders sent, last 90 days", 1, "collections", 90),
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

LEVELS: tuple[Level, ...] = ("customer", "invoice")

DIMENSION_FEATURE_PREFIX = "dim_"


def dimension_feature(name: str) -> Feature:
    """The feature of an extra named invoice dimension (``dimensions:`` in the import
    mapping, kept in ``invoices.dimensions``): ``dim_<name>``, categorical, no risk
    direction. The one declaration of the family: which names a model was trained with
    travel in its bundle's invoice spec, so serving encodes the same columns."""
    return Feature(
        DIMENSION_FEATURE_PREFIX + name,
        f"Invoice dimension '{name}' of the export (named in the import mapping)",
        0,
        "dimension",
        None,
        "invoice",
        "categorical",
    )


def dimension_names(columns: Iterable[str]) -> list[str]:
    """The extra dimension names behind the ``dim_<name>`` columns among ``columns``."""
    prefix = DIMENSION_FEATURE_PREFIX
    return [c[len(prefix):] for c in columns if c.startswith(prefix) and len(c) > len(prefix)]


def catalog(level: Level) -> tuple[Feature, ...]:
    """The declared features of ``level`` ("customer" or "invoice"), in column order."""
    if level == "customer":
        return CUSTOMER_FEATURES
    if level == "invoice":
        return INVOICE_FEATURES
    raise CatalogError(f"unknown feature level {level!r} (expected one of {', '.join(LEVELS)})")


def feature_names(level: Level) -> list[str]:
    """Column names of ``level``'s features, in catalog order."""
    return [f.name for f in catalog(level)]


def categorical_names(level: Level) -> list[str]:
    """Names of the categorical features of ``level``."""
    return [f.name for f in catalog(level) if f.kind == "categorical"]


def monotone_constraints(level: Level) -> list[int]:
    """LightGBM ``monotone_constraints``, aligned with :func:`feature_names`.

    Categorical features are never constrained.
    """
    return [0 if f.kind == "categorical" else int(f.direction) for f in catalog(level)]


def feature(name: str, level: Level) -> Feature:
    """The declared feature called ``name`` at ``level``."""
    for f in catalog(level):
        if f.name == name:
            return f
    if level == "invoice" and dimension_names([name]):
        return dimension_feature(dimension_names([name])[0])
    raise CatalogError(f"no {level} feature named {name!r} in the catalog")


_DIRECTION_WORDS = {1: "higher = riskier", -1: "higher = safer", 0: "-"}


def catalog_markdown(level: Level) -> str:
    """The catalog of ``level`` as a Markdown table (used for docs/features.md)."""
    lines = [
        "| feature | description | risk direction | family | window (days) | kind |",
        "|---|---|---|---|---|---|",
    ]
    for f in catalog(level):
        window = "" if f.window_days is None else str(f.window_days)
        lines.append(
            f"| `{f.name}` | {f.description} | {_DIRECTION_WORDS[f.direction]} | {f.family} "
            f"| {window} | {f.kind} |"
        )
    return "\n".join(lines) + "\n"
