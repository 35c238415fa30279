"""Features of a new applicant: a customer onboarded on the as-of date with no history.

The default model is trained on monthly snapshots that include each customer's snapshot at
onboarding, so an applicant is scored with exactly the row :func:`build_features` would give
such a customer. :func:`applicant_features` computes it that way (one ledger of applicants,
no invoices). :class:`ApplicantTemplate` is the online fast path: the no-history row is
computed once through the same code, and per request only the attribute-derived values are
filled in; a test holds the two equal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.features.catalog import feature_names
from creditrisk.features.customer import DAYS_PER_YEAR, build_features
from creditrisk.ledger.frame import normalize_ledger

APPLICATION_FIELDS: tuple[str, ...] = (
    "country",
    "industry",
    "founded_on",
    "annual_revenue",
    "external_score",
    "payment_terms_days",
    "requested_limit",
    "expected_monthly_sales",
)
"""What an applicant tells us, by the names of an application: the one list the bundle's
input (``models.bundle.APPLICATION_COLUMNS``) and the service's request schema use."""

REQUESTED_LIMIT = "requested_limit"
"""The limit an applicant asks for; as a customer it becomes its ``credit_limit``."""

POLICY_ONLY_FIELDS: tuple[str, ...] = ("expected_monthly_sales",)
"""Application fields the credit policy uses but the default model does not see."""

APPLICANT_ATTRIBUTES: tuple[str, ...] = tuple(
    "credit_limit" if name == REQUESTED_LIMIT else name
    for name in APPLICATION_FIELDS
    if name not in POLICY_ONLY_FIELDS
)
"""The customer attributes an application gives (``credit_limit`` = the requested limit)."""

FIELD_FEATURES: dict[str, str] = {
    "country": "country",
    "industry": "industry",
    "founded_on": "company_age_years",
    "annual_revenue": "annual_revenue",
    "external_score": "external_score",
    "payment_terms_days": "payment_terms_days",
    REQUESTED_LIMIT: "credit_limit",
}
"""Application field -> the customer feature it becomes. These are the only features an
applicant *has*: every other feature of a no-history row is a history feature (null, or a
count of zero) and is never a reason for an applicant."""

APPLICANT_FEATURES: tuple[str, ...] = tuple(FIELD_FEATURES.values())

_COPIED = ("annual_revenue", "external_score", "payment_terms_days", "credit_limit")
_CATEGORICAL = ("industry", "country")


def applicant_features(applications: pd.DataFrame, *, as_of: date | pd.Timestamp) -> pd.DataFrame:
    """One feature row per application (same order), as a customer onboarded on ``as_of``."""
    missing = [a for a in APPLICANT_ATTRIBUTES if a not in applications.columns]
    if missing:
        raise KeyError(f"application columns missing: {', '.join(missing)}")
    n = len(applications)
    customers = applications.loc[:, list(APPLICANT_ATTRIBUTES)].reset_index(drop=True).copy()
    customers["customer_id"] = [f"applicant-{i:09d}" for i in range(n)]
    customers["onboarded_on"] = pd.Timestamp(as_of).normalize()
    ledger = normalize_ledger({"customers": customers})
    frame = build_features(ledger, as_of=as_of)
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class ApplicantTemplate:
    """The no-history feature row, computed once; :meth:`record` fills one applicant in."""

    names: tuple[str, ...]
    base: Mapping[str, Any]

    @classmethod
    def build(cls, *, probe_as_of: date = date(2000, 1, 1)) -> ApplicantTemplate:
        probe = pd.DataFrame([dict.fromkeys(APPLICANT_ATTRIBUTES)])
        row = applicant_features(probe, as_of=probe_as_of).iloc[0]
        return cls(tuple(feature_names("customer")), row.to_dict())

    def record(self, attributes: Mapping[str, Any], *, as_of: date) -> dict[str, Any]:
        """Feature dict for one applicant; equals :func:`applicant_features` for it."""
        out = dict(self.base)
        for name in _COPIED:
            value = attributes.get(name)
            out[name] = math.nan if value is None else float(value)
        for name in _CATEGORICAL:
            value = attributes.get(name)
            out[name] = None if value is None else str(value)
        founded = attributes.get("founded_on")
        out["company_age_years"] = (
            math.nan
            if founded is None
            else (pd.Timestamp(as_of) - pd.Timestamp(founded).normalize()).days / DAYS_PER_YEAR
        )
        limit = out["credit_limit"]
        out["credit_utilisation"] = 0.0 if limit > 0 else math.nan
        return out

    def vector(self, attributes: Mapping[str, Any], *, as_of: date) -> np.ndarray:
        """The record as numbers in catalog order (categoricals left as NaN for the spec)."""
        rec = self.record(attributes, as_of=as_of)
        return np.array(
            [math.nan if n in _CATEGORICAL else rec[n] for n in self.names], dtype=np.float64
        )
