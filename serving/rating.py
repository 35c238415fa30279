"""An existing customer rated from its live ledger: PD, grade, limit, order check, reasons.

Plain functions that the HTTP routes, the batch rescoring and Spark all call. Online,
:func:`load_customer` reads only the customer's own rows (one indexed ``SELECT`` per ledger
table, :mod:`creditrisk.ledger.customer_rows`), builds the same point-in-time features
training used as of the decision date without the whole-book machinery
(:mod:`creditrisk.features.one_customer`) and scores them with the bundle's one-row calls;
:func:`rate_customer` does the same from a ledger of frames (batch callers). Both give the
same answer (``tests/serving/test_risk_fast_path.py``). Nothing here knows about HTTP.

Business rules fixed here:

* **in default** at ``T``: :mod:`creditrisk.features.default_status` with the bundle's own
  parameters (``bundle.default_definition``, the training labels' definition);
* **what is known is not predicted**: a customer in default is rated PD 1 and grade ``D``
  (outside the master scale), gets no credit (limit 0, decline: the policy's ``in_default``
  rule), every order is held, and its expected loss is LGD x exposure;
* **expected monthly sales** of an existing customer (what its limit is sized for): amount
  invoiced in the last 365 days divided by its months of trading in that year (1 to 12).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from creditrisk.features import one_customer, point_in_time
from creditrisk.features.customer import build_features
from creditrisk.features.default_status import customers_in_default
from creditrisk.features.prepared import PreparedLedger
from creditrisk.ledger.customer_rows import CustomerRows, compensated_add, read_customer_rows
from creditrisk.ledger.frame import Ledger
from creditrisk.models.grades import DEFAULT_GRADE_LABEL
from creditrisk.models.policy import DAYS_PER_MONTH, LimitDecision, OrderDecision, Policy
from creditrisk.models.reasons import Reason
from creditrisk.serving.errors import CustomerNotFound, CustomerNotOnboarded, NoDefaultModel
from creditrisk.serving.open_invoices import (
    LatePaymentSummary,
    predict_open_invoices,
    summarize_late_arrays,
    summarize_late_payment,
)
from creditrisk.serving.registry import ServedBundle

TOP_FACTORS: Final = 4
DEFAULT_GRADE: Final = DEFAULT_GRADE_LABEL
"""The grade of a customer in default, as answered: the policy's label (models.grades)."""
DEFAULT_PD: Final = 1.0


def grade_labels(policy: Policy, pd_12m: np.ndarray, in_default: np.ndarray) -> np.ndarray:
    """Grade per customer as text: the master scale's ``"1"``..``"n"``, ``"D"`` in default."""
    if not len(pd_12m):
        return np.zeros(0, dtype=object)
    codes = np.where(np.asarray(in_default, dtype=bool), policy.scale.default_grade,
                     policy.grade(pd_12m))
    return np.asarray(policy.scale.grade_labels(codes), dtype=object)


def grade_name(policy: Policy, grade: str) -> str:
    """The analyst's name of a grade label (``"D"`` -> "in default")."""
    code = policy.scale.default_grade if grade == DEFAULT_GRADE else int(grade)
    return policy.scale.grade_name(code)


def rated_pd(model_pd_12m: np.ndarray, in_default: np.ndarray) -> np.ndarray:
    """The PD answered: the model's, or 1 for a customer already in default."""
    return np.where(np.asarray(in_default, dtype=bool), DEFAULT_PD, model_pd_12m)


@dataclass(frozen=True)
class CustomerState:
    """One customer as known at the end of ``as_of``: its features and rating, and where
    they came from (its own rows read online, or a ledger holding it)."""

    customer_id: str
    as_of: date
    record: dict[str, Any]
    """The features, catalog order: numbers as floats (NaN unknown), text or None."""
    pd_12m: float
    """PD answered (1.0 in default)."""
    model_pd_12m: float
    """What the default model says (kept for the decision log even when in default)."""
    grade: str
    grade_name: str
    in_default: bool
    rows: CustomerRows | None = None
    """The customer's own rows (the online read), with their prepared arrays below."""
    prepared: PreparedLedger | None = None
    source_ledger: Ledger | None = None
    """The ledger the state was rated from (batch callers), when not from ``rows``."""

    @cached_property
    def ledger(self) -> Ledger:
        """The customer's ledger as frames (built from its rows on first use)."""
        if self.source_ledger is not None:
            return self.source_ledger
        if self.rows is None:  # pragma: no cover - every constructor sets one
            raise ValueError("a customer state without rows or ledger")
        return self.rows.ledger()

    @cached_property
    def features(self) -> pd.DataFrame:
        """One row (index = customer_id), catalog columns (frame form of :attr:`record`)."""
        data = {
            name: pd.array([value], dtype="string") if value is None or isinstance(value, str)
            else np.array([value], dtype=np.float64)
            for name, value in self.record.items()
        }
        return pd.DataFrame(data, index=pd.Index([self.customer_id], name="customer_id"))

    def feature(self, name: str) -> float:
        """A numeric feature's value (NaN when unknown)."""
        value = self.record[name]
        return math.nan if value is None else float(value)

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
        return json_record(self.record)


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


def expected_monthly_sales(features: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
    """Amount invoiced in the last 365 days per month of trading in that year (1 to 12);
    ``features`` a frame of customers or one customer's record."""
    days = np.atleast_1d(np.asarray(features["days_since_onboarded"], dtype=np.float64))
    months = np.clip(days / DAYS_PER_MONTH, 1.0, 12.0)
    invoiced = np.atleast_1d(np.asarray(features["invoiced_amount_365d"], dtype=np.float64))
    return np.asarray(invoiced / np.nan_to_num(months, nan=1.0), dtype=np.float64)


def rate_customer(
    served: ServedBundle, ledger: Ledger, customer_id: str, *, as_of: date
) -> CustomerState:
    """The customer's features as of ``as_of``, PD, grade and default status, from a ledger
    that holds (at least) its rows.

    Raises :class:`CustomerNotFound` for an id the ledger does not hold and
    :class:`CustomerNotOnboarded` when it was onboarded after ``as_of``.
    """
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
    in_default = bool(
        defaulted_customers(served, ledger, features.index, as_of=as_of).to_numpy(bool)[0]
    )
    record = {name: _plain(value) for name, value in features.iloc[0].items()}
    model_pd = (
        float(served.bundle.predict_pd_12m(features)[0])
        if served.bundle.has_default_model else math.nan
    )
    return _state(served, customer_id, as_of, record, model_pd, in_default,
                  source_ledger=ledger)


def _plain(value: Any) -> Any:
    """A frame cell as a record value: text or None for categories, a float otherwise."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA:
        return None
    return float(value)


def _state(
    served: ServedBundle,
    customer_id: str,
    as_of: date,
    record: dict[str, Any],
    model_pd: float,
    in_default: bool,
    **source: Any,
) -> CustomerState:
    if not served.bundle.has_default_model:
        # a late-only bundle: the state serves invoice predictions; every PD answer below
        # (explain, limit, order, expected loss) raises NoDefaultModel
        return CustomerState(customer_id=customer_id, as_of=as_of, record=record,
                             pd_12m=math.nan, model_pd_12m=math.nan, grade="", grade_name="",
                             in_default=in_default, **source)
    policy = served.bundle.policy
    grade = str(grade_labels(policy, np.array([model_pd]), np.array([in_default]))[0])
    return CustomerState(
        customer_id=customer_id,
        as_of=as_of,
        record=record,
        pd_12m=DEFAULT_PD if in_default else model_pd,
        model_pd_12m=model_pd,
        grade=grade,
        grade_name=grade_name(policy, grade),
        in_default=in_default,
        **source,
    )


def rate_customer_rows(served: ServedBundle, rows: CustomerRows, *, as_of: date) -> CustomerState:
    """:func:`rate_customer` for the customer of ``rows`` (its own rows, read online): the
    same features, default status and PD, from the one-customer path
    (:mod:`creditrisk.features.one_customer`, the bundle's one-row scoring)."""
    if rows.customer is None:
        raise CustomerNotFound(rows.customer_id)
    day = point_in_time.as_of_day(as_of)
    prepared = one_customer.prepare_customer(rows)
    features = one_customer.customer_features(rows, prepared, day)
    if not features.onboarded:
        raise CustomerNotOnboarded(rows.customer_id, rows.customer["onboarded_on"], as_of)
    in_default = one_customer.in_default(rows, as_of, served.bundle.default_definition)
    model_pd = (
        served.bundle.predict_pd_12m_record(features.values)
        if served.bundle.has_default_model else math.nan
    )
    return _state(served, rows.customer_id, as_of, features.values, model_pd, in_default,
                  rows=rows, prepared=prepared)


def load_customer(
    served: ServedBundle, engine: Engine, customer_id: str, *, as_of: date
) -> CustomerState:
    """The customer rated from its own rows, read from the ledger database with the
    ``customer_id`` indexes (:func:`rate_customer_rows`)."""
    return rate_customer_rows(served, read_customer_rows(engine, customer_id), as_of=as_of)


def late_payment_outlook(served: ServedBundle, state: CustomerState) -> LatePaymentSummary:
    """How likely the customer's open invoices are paid late (:mod:`serving.open_invoices`
    summary of the bundle's open-invoice predictions), from the customer's own rows
    without frames; a state rated from a ledger goes the frame way."""
    if state.rows is None or state.prepared is None:
        invoices = predict_open_invoices(served, state.ledger, as_of=state.as_of)
        return summarize_late_payment(invoices)
    day = point_in_time.as_of_day(state.as_of)
    columns = one_customer.open_invoice_features(state.rows, state.prepared, day)
    n = len(columns["invoice_id"])
    if n == 0:
        return summarize_late_arrays(np.empty(0), np.empty(0))
    model = served.bundle.open_invoice_model
    p_late = (  # the summary reads p_late alone: no payment-date quantiles are predicted
        model.predict_late_columns(columns, n, as_of=state.as_of) if model is not None
        else served.bundle.predict_open_invoice_columns(columns, n, as_of=state.as_of)["p_late"]
    )
    amount = np.asarray(columns["amount"], dtype=np.float64)
    paid = open_invoice_payments(state.rows, list(columns["invoice_id"]), state.as_of)
    return summarize_late_arrays(np.asarray(p_late, dtype=np.float64),
                                 np.maximum(amount - paid, 0.0))


def open_invoice_payments(rows: CustomerRows, invoice_ids: list[str], as_of: date) -> np.ndarray:
    """Per invoice id: the customer's payments allocated to it up to the end of ``as_of``
    (0 without any), summed as :func:`serving.open_invoices.amounts_paid` sums them."""
    totals: dict[str, tuple[float, float]] = {}
    for payment in rows.payments:
        invoice_id, paid_on = payment.get("invoice_id"), payment["paid_on"]
        if invoice_id is None or paid_on is None or paid_on > as_of:
            continue
        amount = payment["amount"]
        total, compensation = totals.get(invoice_id, (0.0, 0.0))
        if amount == amount:  # a missing amount adds nothing (pandas skips it)
            totals[invoice_id] = compensated_add(total, compensation, amount)
        else:
            totals[invoice_id] = (total, compensation)
    return np.array([totals.get(i, (0.0, 0.0))[0] for i in invoice_ids], dtype=np.float64)


def require_default_model(served: ServedBundle) -> None:
    """:class:`NoDefaultModel` when the served bundle is late-only (no PD can be answered)."""
    if not served.bundle.has_default_model:
        raise NoDefaultModel(served.bundle.metadata.get("default_model_skipped"))


def explain_customer(served: ServedBundle, state: CustomerState) -> list[Reason]:
    """The top factors behind the model's PD for the customer."""
    require_default_model(served)
    if state.rows is not None:
        return served.bundle.explain_record(state.record, top_n=TOP_FACTORS)
    return served.bundle.explain(state.features, top_n=TOP_FACTORS)[0]


def expected_loss(served: ServedBundle, state: CustomerState) -> float:
    """PD x LGD x exposure (LGD x exposure in default), in cents."""
    require_default_model(served)
    exposure = max(state.exposure, 0.0) if not math.isnan(state.exposure) else 0.0
    return round(state.pd_12m * served.bundle.policy.limits.lgd * exposure, 2)


def recommend_customer_limit(served: ServedBundle, state: CustomerState) -> LimitDecision:
    """The policy's limit for the customer at its current PD, exposure and sales (a
    rescoring: no requested amount). In default: limit 0, decline."""
    require_default_model(served)
    # One customer per request: plain Python numbers take the policy's one-row path (the
    # same written-once rules on floats, models/limit_rule.py). Batch jobs call
    # Policy.recommend_limits on whole columns instead.
    return served.bundle.policy.recommend_limit(
        state.pd_12m,
        expected_monthly_sales=float(expected_monthly_sales(state.record)[0]),
        payment_terms_days=state.optional("payment_terms_days"),
        requested_limit=None,
        annual_revenue=state.optional("annual_revenue"),
        current_exposure=state.exposure,
        in_default=state.in_default,
    )


def check_customer_order(
    served: ServedBundle, state: CustomerState, *, order_amount: float
) -> OrderDecision:
    """Release or hold an order of ``order_amount`` for the customer (held in default)."""
    require_default_model(served)
    # A batch of one through the policy's one vectorised order rule (~48 µs a call);
    # Policy.check_orders takes whole columns for batch jobs.
    return served.bundle.policy.check_order(
        pd_12m=state.pd_12m,
        credit_limit=state.credit_limit,
        open_exposure=state.exposure,
        order_amount=order_amount,
        max_days_past_due=state.worst_days_past_due,
        in_default=state.in_default,
    )
