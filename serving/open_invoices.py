"""Open invoices as of a date: how likely each is paid late, and when it is expected to be paid.

Plain functions over a :class:`~creditrisk.ledger.frame.Ledger` (one customer's or the whole
book's): the invoice features as of ``T`` (``build_invoice_features``) scored by the served
bundle's :meth:`~creditrisk.models.bundle.CreditRiskBundle.predict_open_invoices`, which is
conditional on the invoice still being open at ``T`` (p_late 1 once past due + grace; no
expected payment date on or before ``T``).

Business rules fixed here:

* **open amount** of an invoice: its amount minus the payments allocated to it up to ``T``
  (never below 0); **days past due** ``max(T - due_date, 0)``;
* **expected overdue amount**: open amount x p_late;
* **probability a customer's open invoices are paid late**: the mean of ``p_late`` over its
  open invoices, plain and weighted by open amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.features.invoice import build_invoice_features
from creditrisk.ledger.frame import Ledger
from creditrisk.serving.registry import ServedBundle

INVOICE_PREDICTION_COLUMNS: tuple[str, ...] = (
    "invoice_id",
    "customer_id",
    "issue_date",
    "due_date",
    "amount",
    "open_amount",
    "days_past_due",
    "p_late",
    "expected_overdue_amount",
    "expected_payment_p10",
    "expected_payment_p50",
    "expected_payment_p90",
)
MONEY_COLUMNS: tuple[str, ...] = ("amount", "open_amount", "expected_overdue_amount")
DATE_COLUMNS: tuple[str, ...] = (
    "issue_date", "due_date", "expected_payment_p10", "expected_payment_p50",
    "expected_payment_p90",
)


def amounts_paid(ledger: Ledger, *, as_of: date) -> pd.Series:
    """Per invoice id: the payments allocated to it up to the end of ``as_of``."""
    payments = ledger.payments
    known = payments.loc[payments["paid_on"] <= pd.Timestamp(as_of)]
    return known.groupby("invoice_id", sort=False)["amount"].sum()


def predict_open_invoices(served: ServedBundle, ledger: Ledger, *, as_of: date) -> pd.DataFrame:
    """Every invoice open at the end of ``as_of`` with its late-payment prediction.

    Columns :data:`INVOICE_PREDICTION_COLUMNS`; rows in ledger order.
    """
    features = build_invoice_features(ledger, as_of=as_of)
    if features.empty:
        return pd.DataFrame({c: [] for c in INVOICE_PREDICTION_COLUMNS})
    predictions = served.bundle.predict_open_invoices(features, as_of=as_of)
    stamp = pd.Timestamp(as_of)
    amount = features["amount"].to_numpy(np.float64)
    paid_so_far = (
        features["invoice_id"].map(amounts_paid(ledger, as_of=as_of)).to_numpy(
            np.float64, na_value=0.0
        )
    )
    open_amount = np.maximum(amount - np.nan_to_num(paid_so_far), 0.0)
    due = pd.to_datetime(features["due_date"])
    days_past_due = np.maximum((stamp - due).dt.days.to_numpy(np.int64), 0)
    p_late = predictions["p_late"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "invoice_id": features["invoice_id"].to_numpy(),
            "customer_id": features["customer_id"].to_numpy(),
            "issue_date": pd.to_datetime(features["issue_date"]).to_numpy(),
            "due_date": due.to_numpy(),
            "amount": amount,
            "open_amount": open_amount,
            "days_past_due": days_past_due,
            "p_late": p_late,
            "expected_overdue_amount": open_amount * p_late,
            "expected_payment_p10": predictions["expected_payment_p10"].to_numpy(),
            "expected_payment_p50": predictions["expected_payment_p50"].to_numpy(),
            "expected_payment_p90": predictions["expected_payment_p90"].to_numpy(),
        },
        columns=list(INVOICE_PREDICTION_COLUMNS),
    )


@dataclass(frozen=True)
class LatePaymentSummary:
    """How likely a customer's open invoices are paid late."""

    open_invoice_count: int
    p_late_exposure_weighted: float | None
    p_late_invoice_mean: float | None


def summarize_late_payment(invoices: pd.DataFrame) -> LatePaymentSummary:
    """Exposure-weighted and per-invoice mean ``p_late`` (None without open invoices)."""
    return summarize_late_arrays(
        invoices["p_late"].to_numpy(np.float64), invoices["open_amount"].to_numpy(np.float64)
    )


def summarize_late_arrays(p_late: np.ndarray, open_amount: np.ndarray) -> LatePaymentSummary:
    """:func:`summarize_late_payment` of the open invoices' ``p_late`` and open amounts."""
    if len(p_late) == 0:
        return LatePaymentSummary(0, None, None)
    total = float(open_amount.sum())
    weighted = float((p_late * open_amount).sum() / total) if total > 0 else None
    return LatePaymentSummary(len(p_late), weighted, float(p_late.mean()))


def invoice_records(invoices: pd.DataFrame) -> list[dict[str, Any]]:
    """Prediction rows as plain dicts for answers and logs: dates as ``datetime.date``,
    money rounded to cents."""
    if invoices.empty:
        return []
    out = invoices.copy()
    for column in DATE_COLUMNS:
        out[column] = pd.to_datetime(out[column]).dt.date
    for column in MONEY_COLUMNS:
        out[column] = out[column].astype(np.float64).round(2)
    out["days_past_due"] = out["days_past_due"].astype(np.int64)
    out["invoice_id"] = out["invoice_id"].astype(str)
    out["customer_id"] = out["customer_id"].astype(str)
    return list(out.to_dict(orient="records"))
