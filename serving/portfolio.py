"""The whole receivables book as of a date: portfolio summary and collections worklist.

Both answers come from one :class:`PortfolioScores`: every customer's features and PD, and
every open invoice's late-payment prediction, computed from the full ledger in vectorised
passes. Computing it reads the whole ledger, so it is cached per (model version, as-of date)
for a short time (:class:`PortfolioCache`); a new model version or another date is a new
entry, and concurrent requests for the same entry compute it once.

Definitions (receivables practice):

* **DSO** = open balance / amount invoiced in the last 90 days x 90 (None without sales);
* **aging buckets** = open balance by days past due: current (not yet due), 1-30, 31-60,
  61-90, over 90, as amounts and shares of the open balance;
* **expected loss** = sum over customers of PD x LGD (the policy's) x exposure (open balance);
* **grade mix** = customers and exposure per risk grade of the policy's master scale;
* **worklist** = open invoices ranked by expected overdue amount (open amount x p_late),
  largest first; ties by days past due, then invoice id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from creditrisk.features.customer import AGING_BUCKETS, build_features
from creditrisk.ledger.database import read_ledger
from creditrisk.ledger.frame import Ledger
from creditrisk.serving.customer_risk import defaulted_customers, predict_open_invoices
from creditrisk.serving.registry import ServedBundle

DEFAULT_CACHE_SECONDS = 60.0
DSO_WINDOW_DAYS = 90.0


@dataclass(frozen=True)
class PortfolioScores:
    """Every customer's PD and grade and every open invoice's prediction, as of one date."""

    as_of: date
    model_version: str
    customers: pd.DataFrame
    """Index customer_id; columns open_balance, overdue_balance, invoiced_amount_90d, the
    aging amounts, worst_days_past_due, pd_12m, grade, in_default."""
    invoices: pd.DataFrame
    """Open invoices (``customer_risk.INVOICE_PREDICTION_COLUMNS``), worklist order."""


def score_portfolio(served: ServedBundle, ledger: Ledger, *, as_of: date) -> PortfolioScores:
    """Score every customer onboarded by ``as_of`` and every invoice open at its end."""
    features = build_features(ledger, as_of=as_of)
    bundle = served.bundle
    pd_12m = bundle.predict_pd_12m(features) if len(features) else np.zeros(0)
    keep = [
        "open_balance",
        "overdue_balance",
        "invoiced_amount_90d",
        *(f"aging_{bucket}_amount" for bucket in AGING_BUCKETS),
        "worst_days_past_due",
    ]
    customers = features[keep].copy()
    customers["pd_12m"] = pd_12m
    customers["grade"] = bundle.policy.grade(pd_12m) if len(features) else np.zeros(0, np.int64)
    customers["in_default"] = defaulted_customers(
        served, ledger, features.index, as_of=as_of
    ).to_numpy()
    invoices = predict_open_invoices(served, ledger, as_of=as_of)
    if len(invoices):
        invoices = invoices.sort_values(
            ["expected_overdue_amount", "days_past_due", "invoice_id"],
            ascending=[False, False, True],
            kind="stable",
        ).reset_index(drop=True)
    return PortfolioScores(
        as_of=as_of, model_version=served.model_version, customers=customers, invoices=invoices
    )


def load_portfolio(served: ServedBundle, engine: Engine, *, as_of: date) -> PortfolioScores:
    """:func:`score_portfolio` on the full ledger read from the database."""
    return score_portfolio(served, read_ledger(engine), as_of=as_of)


@dataclass(frozen=True)
class AgingBucket:
    bucket: str
    amount: float
    share: float | None


@dataclass(frozen=True)
class GradeMix:
    grade: int
    name: str
    customer_count: int
    exposure: float


@dataclass(frozen=True)
class PortfolioSummary:
    """The book's headline figures (see the module docstring for definitions)."""

    as_of: date
    customer_count: int
    open_balance: float
    overdue_balance: float
    dso_days: float | None
    expected_loss: float
    customers_in_default: int
    aging: tuple[AgingBucket, ...]
    grade_mix: tuple[GradeMix, ...]


def summarize_portfolio(scores: PortfolioScores, served: ServedBundle) -> PortfolioSummary:
    """DSO, aging, expected loss and grade mix of the scored book."""
    customers = scores.customers
    policy = served.bundle.policy
    open_balance = float(customers["open_balance"].sum())
    invoiced_90d = float(customers["invoiced_amount_90d"].sum())
    amounts = [float(customers[f"aging_{b}_amount"].sum()) for b in AGING_BUCKETS]
    aging = tuple(
        AgingBucket(b, amount, amount / open_balance if open_balance > 0 else None)
        for b, amount in zip(AGING_BUCKETS, amounts, strict=True)
    )
    exposure = customers["open_balance"].to_numpy(np.float64)
    expected_loss = float(
        np.sum(customers["pd_12m"].to_numpy(np.float64) * policy.limits.lgd * exposure)
    )
    grades = customers["grade"].to_numpy(np.int64)
    n_grades = policy.scale.n_grades
    counts = np.bincount(grades, minlength=n_grades + 1)
    exposures = np.bincount(grades, weights=exposure, minlength=n_grades + 1)
    grade_mix = tuple(
        GradeMix(band.grade, band.name, int(counts[band.grade]), float(exposures[band.grade]))
        for band in policy.scale.bands
    )
    return PortfolioSummary(
        as_of=scores.as_of,
        customer_count=len(customers),
        open_balance=open_balance,
        overdue_balance=float(customers["overdue_balance"].sum()),
        dso_days=open_balance / invoiced_90d * DSO_WINDOW_DAYS if invoiced_90d > 0 else None,
        expected_loss=round(expected_loss, 2),
        customers_in_default=int(customers["in_default"].sum()),
        aging=aging,
        grade_mix=grade_mix,
    )


def worklist(scores: PortfolioScores, *, limit: int) -> pd.DataFrame:
    """The ``limit`` open invoices with the largest expected overdue amount."""
    return scores.invoices.head(limit)


T = TypeVar("T")


class PortfolioCache(Generic[T]):
    """Values computed per key, kept for ``ttl_seconds``; one computation per key at a time.

    Keys are (model version, as-of date) in the service. A miss computes under the key's own
    lock, so concurrent requests for the same key wait for one computation instead of each
    reading the whole ledger; other keys are not blocked.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = DEFAULT_CACHE_SECONDS,
        max_entries: int = 16,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[Hashable, tuple[float, T]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def _fresh(self, key: Hashable) -> tuple[bool, T | None]:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._monotonic():
            return True, entry[1]
        return False, None

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, computing it (once) when missing or expired."""
        found, value = self._fresh(key)
        if found:
            return value  # type: ignore[return-value]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            found, value = self._fresh(key)
            if found:
                return value  # type: ignore[return-value]
            computed = compute()
            self._store(key, computed)
            return computed

    def _store(self, key: Hashable, value: T) -> None:
        """Keep ``value``; drop expired entries (and the oldest beyond ``max_entries``)."""
        with self._guard:
            now = self._monotonic()
            entries = {k: v for k, v in self._entries.items() if v[0] > now and k != key}
            while len(entries) >= self._max_entries:
                entries.pop(next(iter(entries)))
            entries[key] = (now + self._ttl, value)
            self._entries = entries
            self._locks = {k: v for k, v in self._locks.items() if k in entries}
