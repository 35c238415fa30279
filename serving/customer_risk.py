"""An existing customer from its live ledger: re-rating, order checks, open invoice predictions.

Plain functions the ``/v1/customers/...`` handlers call. Each reads only the customer's own
rows from the ledger database (``read_ledger(engine, customer_ids=[id])``), builds the same
point-in-time features training used (``build_features``, ``build_invoice_features``) as of
the decision date, and scores them with the served bundle. Nothing here knows about HTTP.

Business rules fixed here:

* **in default** at ``T``: :mod:`creditrisk.features.default_status` with the bundle's
  parameters (the training labels' own definition);
* **open amount** of an invoice: its amount minus the payments allocated to it up to ``T``
  (never below 0); **days past due** ``max(T - due_date, 0)``;
* **expected monthly sales** of an existing customer (what its limit is sized for): amount
  invoiced in the last 365 days divided by its months of trading in that year (1 to 12);
* **probability its open invoices are paid late**: the mean of the late-payment model's
  ``p_late`` over open invoices, plain and weighted by open amount.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from creditrisk.features.customer import DAYS_PER_YEAR, build_features
from creditrisk.features.default_status import customers_in_default
from creditrisk.features.invoice import build_invoice_features
from creditrisk.ledger.database import read_ledger
from creditrisk.ledger.frame import Ledger
from creditrisk.models.policy import LimitDecision, OrderDecision
from creditrisk.models.reasons import Reason
from creditrisk.serving.errors import CustomerNotFound, ServiceError
from creditrisk.serving.registry import ServedBundle

DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
TOP_FACTORS = 4


class CustomerNotOnboarded(ServiceError):  # noqa: N818 (reads as the situation it is)
    """The customer exists but was onboarded after the requested as-of date."""

    status_code = 422
    code = "validation_error"

    def __init__(self, customer_id: str, onboarded_on: date | None, as_of: date) -> None:
        when = f"on {onboarded_on.isoformat()}" if onboarded_on else "later"
        super().__init__(
            f"customer {customer_id!r} was onboarded {when}, after as_of {as_of.isoformat()}"
        )
        self.as_of = as_of

    def details(self) -> list[dict[str, Any]]:
        return [{"loc": ["query", "as_of"], "msg": self.message, "type": "value_error"}]


@dataclass(frozen=True)
class CustomerState:
    """One customer as known at the end of ``as_of``: its ledger, features and PD."""

    customer_id: str
    as_of: date
    ledger: Ledger
    features: pd.DataFrame
    """One row (index = customer_id), catalog columns."""
    pd_12m: float
    grade: int
    in_default: bool

    def feature(self, name: str) -> float:
        """A numeric feature's value (NaN when unknown)."""
        value = self.features[name].iloc[0]
        return math.nan if pd.isna(value) else float(value)

    def optional(self, name: str) -> float | None:
        value = self.feature(name)
        return None if math.isnan(value) else value

    @property
    def exposure(self) -> float:
        return self.feature("open_balance")

    @property
    def overdue_amount(self) -> float:
        return self.feature("overdue_balance")

    @property
    def worst_days_past_due(self) -> float:
        return self.feature("worst_days_past_due")

    @property
    def credit_limit(self) -> float | None:
        return self.optional("credit_limit")

    def feature_record(self) -> dict[str, Any]:
        """The features as JSON-safe values (for the decision log)."""
        return json_record(self.features.iloc[0].to_dict())


def json_record(values: Mapping[str, Any]) -> dict[str, Any]:
    """Missing values (NaN, NA, NaT) as None and numpy scalars as Python values."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
            out[name] = None
        elif isinstance(value, np.generic):
            out[name] = value.item()
        else:
            out[name] = value
    return out


def defaulted_customers(
    served: ServedBundle, ledger: Ledger, customer_ids: pd.Index, *, as_of: date
) -> pd.Series:
    """Per customer id: in default at the end of ``as_of``, by the bundle's own definition
    (:mod:`creditrisk.features.default_status`, the one its training labels used)."""
    return customers_in_default(
        ledger, customer_ids, as_of=as_of, definition=served.bundle.default_definition
    )


def expected_monthly_sales(features: pd.DataFrame) -> np.ndarray:
    """Amount invoiced in the last 365 days per month of trading in that year (1 to 12)."""
    months = np.clip(
        features["days_since_onboarded"].to_numpy(np.float64) / DAYS_PER_MONTH, 1.0, 12.0
    )
    return features["invoiced_amount_365d"].to_numpy(np.float64) / np.nan_to_num(months, nan=1.0)


def load_customer(
    served: ServedBundle, engine: Engine, customer_id: str, *, as_of: date
) -> CustomerState:
    """Read the customer's ledger, build its features as of ``as_of`` and score its PD.

    Raises :class:`CustomerNotFound` for an id the ledger does not hold and
    :class:`CustomerNotOnboarded` when it was onboarded after ``as_of``.
    """
    ledger = read_ledger(engine, customer_ids=[customer_id])
    customers = ledger.customers
    match = customers["customer_id"] == customer_id
    if not bool(match.any()):
        raise CustomerNotFound(customer_id)
    features = build_features(ledger, as_of=as_of)
    features = features.loc[features.index == customer_id]
    if features.empty:
        onboarded = customers.loc[match, "onboarded_on"].iloc[0]
        raise CustomerNotOnboarded(
            customer_id, None if pd.isna(onboarded) else onboarded.date(), as_of
        )
    bundle = served.bundle
    pd_12m = float(bundle.predict_pd_12m(features)[0])
    in_default = defaulted_customers(served, ledger, features.index, as_of=as_of)
    return CustomerState(
        customer_id=customer_id,
        as_of=as_of,
        ledger=ledger,
        features=features,
        pd_12m=pd_12m,
        grade=int(bundle.policy.grade(np.array([pd_12m]))[0]),
        in_default=bool(in_default.iloc[0]),
    )


def explain_customer(served: ServedBundle, state: CustomerState) -> list[Reason]:
    """The top factors behind the customer's PD."""
    return served.bundle.explain(state.features, top_n=TOP_FACTORS)[0]


def recommend_customer_limit(served: ServedBundle, state: CustomerState) -> LimitDecision:
    """The policy's limit for the customer at its current PD, exposure and sales (a
    rescoring: no requested amount)."""
    return served.bundle.policy.recommend_limit(
        state.pd_12m,
        grade=state.grade,
        expected_monthly_sales=float(expected_monthly_sales(state.features)[0]),
        payment_terms_days=state.optional("payment_terms_days"),
        requested_amount=None,
        annual_revenue=state.optional("annual_revenue"),
        current_exposure=state.exposure,
        in_default=state.in_default,
    )


def check_customer_order(
    served: ServedBundle, state: CustomerState, *, order_amount: float
) -> OrderDecision:
    """Release or hold an order of ``order_amount`` for the customer."""
    return served.bundle.policy.check_order(
        pd_12m=state.pd_12m,
        grade=state.grade,
        credit_limit=state.credit_limit,
        open_exposure=state.exposure,
        order_amount=order_amount,
        max_days_past_due=state.worst_days_past_due,
        in_default=state.in_default,
    )


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


def predict_open_invoices(served: ServedBundle, ledger: Ledger, *, as_of: date) -> pd.DataFrame:
    """Every invoice open at the end of ``as_of`` with its late-payment prediction.

    Columns :data:`INVOICE_PREDICTION_COLUMNS`; rows in ledger order.
    """
    features = build_invoice_features(ledger, as_of=as_of)
    if features.empty:
        return pd.DataFrame({c: [] for c in INVOICE_PREDICTION_COLUMNS})
    predictions = served.bundle.predict_open_invoices(features, as_of=as_of)
    stamp = pd.Timestamp(as_of)
    payments = ledger.payments
    paid = (
        payments.loc[payments["paid_on"] <= stamp]
        .groupby("invoice_id", sort=False)["amount"]
        .sum()
    )
    amount = features["amount"].to_numpy(np.float64)
    paid_so_far = features["invoice_id"].map(paid).to_numpy(np.float64, na_value=0.0)
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
    if invoices.empty:
        return LatePaymentSummary(0, None, None)
    p_late = invoices["p_late"].to_numpy(np.float64)
    weights = invoices["open_amount"].to_numpy(np.float64)
    total = float(weights.sum())
    weighted = float((p_late * weights).sum() / total) if total > 0 else None
    return LatePaymentSummary(len(invoices), weighted, float(p_late.mean()))


def invoice_records(invoices: pd.DataFrame) -> list[dict[str, Any]]:
    """Prediction rows as plain dicts (dates as ``datetime.date``) for responses and logs."""
    if invoices.empty:
        return []
    out = invoices.copy()
    for column in ("issue_date", "due_date", "expected_payment_p10", "expected_payment_p50",
                   "expected_payment_p90"):
        out[column] = pd.to_datetime(out[column]).dt.date
    out["days_past_due"] = out["days_past_due"].astype(np.int64)
    out["invoice_id"] = out["invoice_id"].astype(str)
    out["customer_id"] = out["customer_id"].astype(str)
    return list(out.to_dict(orient="records"))
