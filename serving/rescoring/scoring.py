"""One chunk of the book rated as of a date: the rows a rescoring writes to ``scores``.

:func:`score_customers` is a pure function of a (sub-)ledger, a date and the served bundle:
no database, no global state, deterministic. It calls the service's own rating code
(:mod:`creditrisk.serving.rating` for default status, grade, rated PD and expected monthly
sales; :mod:`creditrisk.serving.open_invoices` and :mod:`creditrisk.serving.worklist`'s
``customer_outlook`` and ``collection_facts`` for the worklist's inputs; the policy's
vectorised limit rule, of which the service's one customer is a batch of one), so a customer
gets the same grade, PD, limit, decision and reasons from the batch as from
``GET /v1/customers/{id}/risk``. Features are per customer, so a ledger restricted to one
bucket gives the same rows for its customers as the whole ledger (the local runner and Spark
both rely on it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from creditrisk.features.customer import build_features
from creditrisk.ledger.frame import Ledger
from creditrisk.models.decisions import LIMIT_REASON_CODES
from creditrisk.models.reasons import join_reason_codes
from creditrisk.models.tree_contributions import batch_top_factors
from creditrisk.serving.money import money_cents, reporting_currency
from creditrisk.serving.open_invoices import predict_open_invoices
from creditrisk.serving.rating import (
    TOP_FACTORS,
    defaulted_customers,
    expected_monthly_sales,
    grade_labels,
    rated_pd,
)
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring.columns import (
    LIST_SEPARATOR,
    WORKLIST_RENAMES,
    conform_scores,
    empty_scores,
)
from creditrisk.serving.rescoring.partitions import DEFAULT_BUCKETS, customer_bucket
from creditrisk.serving.worklist import (
    FACT_COLUMNS,
    HORIZON_DAYS,
    OUTLOOK_COLUMNS,
    collection_facts,
    customer_outlook,
)

PORTFOLIO_COLUMNS = (
    "invoiced_amount_90d", "aging_current_amount", "aging_1_30_amount", "aging_31_60_amount",
    "aging_61_90_amount", "aging_over_90_amount",
)
"""Feature columns the portfolio summary sums (serving.portfolio.CUSTOMER_COLUMNS)."""


def limit_actions(current_limit: np.ndarray, recommended_limit: np.ndarray) -> np.ndarray:
    """``raise`` / ``lower`` / ``keep`` per customer; no limit on file counts as 0."""
    current = np.nan_to_num(np.asarray(current_limit, dtype=np.float64), nan=0.0)
    recommended = np.asarray(recommended_limit, dtype=np.float64)
    return np.where(
        recommended > current, "raise", np.where(recommended < current, "lower", "keep")
    ).astype(object)


def next_review_dates(served: ServedBundle, grade_codes: np.ndarray, *, as_of: date) -> np.ndarray:
    """``as_of`` + the policy's review interval (calendar months) for each grade code."""
    schedule = served.bundle.policy.review_schedule()
    codes = np.asarray(grade_codes, dtype=np.int64)
    out = np.empty(len(codes), dtype="datetime64[ns]")
    stamp = pd.Timestamp(as_of)
    for code in np.unique(codes).tolist():
        months = schedule.months([code])[0]
        out[codes == code] = (stamp + pd.DateOffset(months=months)).to_datetime64()
    return out


def worklist_inputs(
    served: ServedBundle, ledger: Ledger, customer_ids: pd.Index, *, as_of: date
) -> pd.DataFrame:
    """Per customer (in ``customer_ids`` order): the worklist's outlook sums over its open
    invoices (zero without any) and its collection facts, stored names."""
    ids = customer_ids.astype(str)
    invoices = predict_open_invoices(served, ledger, as_of=as_of)
    if invoices.empty:
        outlook = pd.DataFrame(columns=list(OUTLOOK_COLUMNS), index=pd.Index([], dtype=str))
    else:
        outlook = customer_outlook(invoices, as_of=as_of, horizon_days=HORIZON_DAYS)
    outlook.index = outlook.index.astype(str)
    out = outlook.reindex(ids)
    for column in OUTLOOK_COLUMNS:
        if column != "next_expected_payment":
            out[column] = out[column].astype(np.float64).fillna(0.0)
    out["next_expected_payment"] = pd.to_datetime(out["next_expected_payment"])
    facts = collection_facts(ledger, as_of=as_of)
    facts.index = facts.index.astype(str)
    facts = facts.reindex(ids)
    for column in FACT_COLUMNS:
        if column in ("last_promise_date", "last_reminder_date"):
            out[column] = pd.to_datetime(facts[column])
        elif column == "default_event":
            out[column] = facts[column].fillna(False).astype(bool)
        else:
            out[column] = facts[column].fillna(0).astype(np.int64)
    renamed = {v: k for k, v in WORKLIST_RENAMES.items()}
    return out.rename(columns=renamed)


def top_factor_texts(served: ServedBundle, features: pd.DataFrame) -> list[str]:
    """Per customer: the names of its :data:`~creditrisk.serving.rating.TOP_FACTORS` top
    factors, comma-separated in the service's order (the bundle's ``top_factor_names``,
    through the batch path of :func:`~creditrisk.models.tree_contributions.batch_top_factors`
    that answers LightGBM's ranking row for row)."""
    bundle = served.bundle
    X = bundle.customer_spec.encode(features)
    index, is_reason = batch_top_factors(bundle.scoring_model(), X, top_n=TOP_FACTORS)
    names = np.asarray(bundle.customer_spec.names, dtype=object)
    picked = np.where(is_reason, names[np.clip(index, 0, len(names) - 1)], "")
    return [LIST_SEPARATOR.join(n for n in row if n) for row in picked.tolist()]


@dataclass(frozen=True)
class RatedChunk:
    """A chunk's score rows and the feature rows they were computed from (same order)."""

    scores: pd.DataFrame
    features: pd.DataFrame


def score_customers(
    ledger: Ledger,
    *,
    as_of: date,
    served: ServedBundle,
    run_id: str | None = None,
    buckets: int = DEFAULT_BUCKETS,
) -> pd.DataFrame:
    """Every customer of ``ledger`` onboarded by ``as_of``, rated: exactly
    :data:`~creditrisk.serving.rescoring.columns.SCORE_COLUMNS`, in ledger order.

    ``buckets`` is the run's bucket count (the ``bucket`` column); ``run_id`` is written as is.
    """
    return rate_chunk(ledger, as_of=as_of, served=served, run_id=run_id, buckets=buckets).scores


def rate_chunk(
    ledger: Ledger,
    *,
    as_of: date,
    served: ServedBundle,
    run_id: str | None = None,
    buckets: int = DEFAULT_BUCKETS,
    timings: dict[str, float] | None = None,
) -> RatedChunk:
    """:func:`score_customers` that also hands back the features (for monitoring) and adds
    seconds per stage (features, scoring, reasons) to ``timings`` when given."""
    clock = _Stopwatch(timings)
    features = build_features(ledger, as_of=as_of)
    clock.lap("features")
    if features.empty:
        return RatedChunk(empty_scores(), features)
    bundle = served.bundle
    policy = bundle.policy
    ids = features.index
    model_pd = bundle.predict_pd_12m(features)
    in_default = defaulted_customers(served, ledger, ids, as_of=as_of).to_numpy(bool)
    pd_12m = rated_pd(model_pd, in_default)
    exposure = features["open_balance"].to_numpy(np.float64)
    limits = policy.recommend_limits(
        pd_12m,
        expected_monthly_sales=expected_monthly_sales(features),
        payment_terms_days=features["payment_terms_days"],
        requested_limit=None,
        annual_revenue=features["annual_revenue"],
        current_exposure=exposure,
        in_default=in_default,
    )
    grade_codes = np.where(in_default, policy.scale.default_grade, policy.grade(model_pd))
    current_limit = features["credit_limit"].to_numpy(np.float64)
    recommended = limits.recommended_limit.astype(np.float64)
    clock.lap("scoring")
    top_factors = top_factor_texts(served, features)
    clock.lap("reasons")
    worklist = worklist_inputs(served, ledger, ids, as_of=as_of)
    clock.lap("scoring")
    lgd = policy.limits.lgd
    frame = pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "customer_id": ids.astype(str).to_numpy(),
            "model_version": served.model_version,
            "model_name": served.model_name,
            "policy_version": policy.version,
            "run_id": run_id,
            "bucket": customer_bucket(pd.Series(ids.astype(str)), buckets).to_numpy(),
            "pd_12m": pd_12m,
            "model_pd_12m": model_pd,
            "grade": grade_labels(policy, model_pd, in_default),
            "in_default": in_default,
            "exposure": money_cents(exposure),
            "overdue_amount": money_cents(features["overdue_balance"].to_numpy(np.float64)),
            "worst_days_past_due": features["worst_days_past_due"].to_numpy(np.float64),
            # unrounded, as the worklist sums and sorts it (rounded when answered)
            "expected_overdue_30d": worklist["expected_overdue_30d"].to_numpy(np.float64),
            "expected_loss": money_cents(
                pd_12m * lgd * np.maximum(np.nan_to_num(exposure, nan=0.0), 0.0)
            ),
            "current_limit": money_cents(current_limit),
            "recommended_limit": money_cents(recommended),
            "limit_action": limit_actions(current_limit, recommended),
            "decision": limits.decision.astype(object),
            "reason_codes": join_reason_codes(limits.reason_flags, LIMIT_REASON_CODES),
            "top_factors": top_factors,
            "next_review_date": next_review_dates(served, grade_codes, as_of=as_of),
            **{c: features[c].to_numpy(np.float64) for c in PORTFOLIO_COLUMNS},
            **{c: worklist[c].to_numpy() for c in worklist.columns
               if c != "expected_overdue_30d"},
            "currency": reporting_currency(policy),
        }
    )
    out = RatedChunk(conform_scores(frame), features)
    clock.lap("scoring")
    return out


class _Stopwatch:
    """Adds the seconds since the last lap to ``timings[stage]`` (no-op without timings)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self._timings = timings
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self._timings is not None:
            self._timings[stage] = self._timings.get(stage, 0.0) + now - self._last
        self._last = now
