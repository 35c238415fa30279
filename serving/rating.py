"""An existing customer rated from its live ledger: PD, grade, limit, order check, reasons.

Plain functions that the HTTP routes, the batch rescoring and Spark all call. Each reads only
the customer's own rows from the ledger database (``read_ledger(engine, customer_ids=[id])``),
builds the same point-in-time features training used as of the decision date, and scores
them with the served bundle. Nothing here knows about HTTP.

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
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from creditrisk.features.customer import build_features
from creditrisk.features.default_status import customers_in_default
from creditrisk.ledger.database import read_ledger
from creditrisk.ledger.frame import Ledger
from creditrisk.models.grades import DEFAULT_GRADE_LABEL
from creditrisk.models.policy import DAYS_PER_MONTH, LimitDecision, OrderDecision, Policy
from creditrisk.models.reasons import Reason
from creditrisk.serving.errors import CustomerNotFound, CustomerNotOnboarded, NoDefaultModel
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
    """One customer as known at the end of ``as_of``: its ledger, features and rating."""

    customer_id: str
    as_of: date
    ledger: Ledger
    features: pd.DataFrame
    """One row (index = customer_id), catalog columns."""
    pd_12m: float
    """PD answered (1.0 in default)."""
    model_pd_12m: float
    """What the default model says (kept for the decision log even when in default)."""
    grade: str
    grade_name: str
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
    invoiced = features["invoiced_amount_365d"].to_numpy(np.float64)
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
    policy = served.bundle.policy
    in_default = defaulted_customers(served, ledger, features.index, as_of=as_of).to_numpy(bool)
    if not served.bundle.has_default_model:
        # a late-only bundle: the state serves invoice predictions; every PD answer below
        # (explain, limit, order, expected loss) raises NoDefaultModel
        return CustomerState(customer_id=customer_id, as_of=as_of, ledger=ledger,
                             features=features, pd_12m=math.nan, model_pd_12m=math.nan,
                             grade="", grade_name="", in_default=bool(in_default[0]))
    model_pd = served.bundle.predict_pd_12m(features)
    grade = str(grade_labels(policy, model_pd, in_default)[0])
    return CustomerState(
        customer_id=customer_id,
        as_of=as_of,
        ledger=ledger,
        features=features,
        pd_12m=float(rated_pd(model_pd, in_default)[0]),
        model_pd_12m=float(model_pd[0]),
        grade=grade,
        grade_name=grade_name(policy, grade),
        in_default=bool(in_default[0]),
    )


def load_customer(
    served: ServedBundle, engine: Engine, customer_id: str, *, as_of: date
) -> CustomerState:
    """:func:`rate_customer` on the customer's own rows read from the ledger database."""
    ledger = read_ledger(engine, customer_ids=[customer_id])
    return rate_customer(served, ledger, customer_id, as_of=as_of)


def require_default_model(served: ServedBundle) -> None:
    """:class:`NoDefaultModel` when the served bundle is late-only (no PD can be answered)."""
    if not served.bundle.has_default_model:
        raise NoDefaultModel(served.bundle.metadata.get("default_model_skipped"))


def explain_customer(served: ServedBundle, state: CustomerState) -> list[Reason]:
    """The top factors behind the model's PD for the customer."""
    require_default_model(served)
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
        expected_monthly_sales=float(expected_monthly_sales(state.features)[0]),
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
