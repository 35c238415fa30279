"""The whole receivables book as of a date: every customer rated, and the portfolio summary.

:class:`PortfolioScores` holds every customer's features, PD, grade and default status and
every open invoice's late-payment prediction, computed from the full ledger in vectorised
passes; the summary (here) and the collections worklist (:mod:`creditrisk.serving.worklist`)
are read from it. Computing it reads the whole ledger, so the service caches it per (model
version, as-of date) for a short time within a memory bound (:class:`PortfolioCache`) and
computes it on a bounded pool (:mod:`creditrisk.serving.book_jobs`).

Definitions (receivables practice):

* **DSO** = open balance / amount invoiced in the last 90 days x 90 (None without sales);
* **aging buckets** = open balance by days past due: current (not yet due), 1-30, 31-60,
  61-90, over 90, as amounts and shares of the open balance;
* **expected loss** = sum over customers of PD x LGD (the policy's) x exposure (open
  balance), where a customer in default has PD 1 (:mod:`creditrisk.serving.rating`): the
  book's expected loss is never below LGD x the exposure of the customers in default;
* **grade mix** = customers and exposure per grade of the policy's master scale, then grade
  ``D`` (in default).
"""

from __future__ import annotations

import contextlib
import math
import pickle
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

import numpy as np
import pandas as pd
from cachetools import TLRUCache
from sqlalchemy import Engine

from creditrisk.features.customer import AGING_BUCKETS, build_features
from creditrisk.ledger.database import read_ledger
from creditrisk.ledger.frame import Ledger
from creditrisk.models.grades import DEFAULT_GRADE_NAME
from creditrisk.serving.book_jobs import BookJobs
from creditrisk.serving.money import reporting_currency
from creditrisk.serving.open_invoices import predict_open_invoices
from creditrisk.serving.rating import (
    DEFAULT_GRADE,
    defaulted_customers,
    grade_labels,
    rated_pd,
)
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.worklist import (
    HORIZON_DAYS,
    DunningStages,
    Worklist,
    assemble_worklist,
    build_worklist,
    collection_facts,
    worklist_records,
)

DEFAULT_CACHE_SECONDS = 60.0
DEFAULT_CACHE_ENTRIES = 16
ANSWER_ROWS_MAX = 1000
"""Worklist rows kept per section in a :class:`BookAnswer` (the most a request may ask)."""
DSO_WINDOW_DAYS = 90.0
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "open_balance",
    "overdue_balance",
    "invoiced_amount_90d",
    *(f"aging_{bucket}_amount" for bucket in AGING_BUCKETS),
    "worst_days_past_due",
)


@dataclass(frozen=True)
class PortfolioScores:
    """Every customer's rating and every open invoice's prediction, as of one date."""

    as_of: date
    model_version: str
    customers: pd.DataFrame
    """Index customer_id; columns :data:`CUSTOMER_COLUMNS`, model_pd_12m, pd_12m (1 in
    default), grade (label "1".."n" or "D"), in_default."""
    invoices: pd.DataFrame
    """Open invoices (``open_invoices.INVOICE_PREDICTION_COLUMNS``), ledger order."""
    collections: pd.DataFrame
    """Per customer: disputes, promises, reminders (:func:`worklist.collection_facts`)."""
    outlook: pd.DataFrame | None = None
    """Per customer worklist sums (:func:`worklist.customer_outlook`) when read from a
    rescoring run, which keeps no invoice rows (``invoices`` is then empty)."""
    run_id: str | None = None
    """The complete rescoring run these scores were read from (None: scored live)."""


def score_portfolio(served: ServedBundle, ledger: Ledger, *, as_of: date) -> PortfolioScores:
    """Rate every customer onboarded by ``as_of`` and predict every invoice open at its end."""
    features = build_features(ledger, as_of=as_of)
    bundle = served.bundle
    model_pd = bundle.predict_pd_12m(features) if len(features) else np.zeros(0)
    in_default = defaulted_customers(served, ledger, features.index, as_of=as_of).to_numpy(bool)
    customers = features[list(CUSTOMER_COLUMNS)].copy()
    customers["model_pd_12m"] = model_pd
    customers["pd_12m"] = rated_pd(model_pd, in_default)
    customers["grade"] = grade_labels(bundle.policy, model_pd, in_default)
    customers["in_default"] = in_default
    return PortfolioScores(
        as_of=as_of,
        model_version=served.model_version,
        customers=customers,
        invoices=predict_open_invoices(served, ledger, as_of=as_of),
        collections=collection_facts(ledger, as_of=as_of),
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
    grade: str
    name: str
    customer_count: int
    exposure: float


@dataclass(frozen=True)
class PortfolioSummary:
    """The book's headline figures (see the module docstring for definitions); money in
    cents of ``currency``."""

    as_of: date
    currency: str
    customer_count: int
    open_balance: float
    overdue_balance: float
    dso_days: float | None
    expected_loss: float
    customers_in_default: int
    exposure_in_default: float
    aging: tuple[AgingBucket, ...]
    grade_mix: tuple[GradeMix, ...]


def expected_loss_amounts(scores: PortfolioScores, lgd: float) -> np.ndarray:
    """Per customer: PD x LGD x exposure (PD 1 in default; a credit balance counts as 0)."""
    customers = scores.customers
    exposure = np.maximum(customers["open_balance"].to_numpy(np.float64), 0.0)
    return np.asarray(customers["pd_12m"].to_numpy(np.float64) * lgd * exposure)


def summarize_portfolio(scores: PortfolioScores, served: ServedBundle) -> PortfolioSummary:
    """DSO, aging, expected loss and grade mix of the scored book."""
    customers = scores.customers
    policy = served.bundle.policy
    open_balance = float(customers["open_balance"].sum())
    invoiced_90d = float(customers["invoiced_amount_90d"].sum())
    amounts = [float(customers[f"aging_{b}_amount"].sum()) for b in AGING_BUCKETS]
    aging = tuple(
        AgingBucket(b, round(amount, 2), round(amount / open_balance, 4) if open_balance > 0
                    else None)
        for b, amount in zip(AGING_BUCKETS, amounts, strict=True)
    )
    exposure = customers["open_balance"].to_numpy(np.float64)
    grades = customers["grade"].to_numpy(object)
    in_default = customers["in_default"].to_numpy(bool)
    mix = [
        (str(band.grade), band.name) for band in policy.scale.bands
    ] + [(DEFAULT_GRADE, DEFAULT_GRADE_NAME)]
    grade_mix = tuple(
        GradeMix(
            grade,
            name,
            int((grades == grade).sum()),
            round(float(exposure[grades == grade].sum()), 2),
        )
        for grade, name in mix
    )
    return PortfolioSummary(
        as_of=scores.as_of,
        currency=reporting_currency(policy),
        customer_count=len(customers),
        open_balance=round(open_balance, 2),
        overdue_balance=round(float(customers["overdue_balance"].sum()), 2),
        dso_days=(
            round(open_balance / invoiced_90d * DSO_WINDOW_DAYS, 1) if invoiced_90d > 0 else None
        ),
        expected_loss=round(float(expected_loss_amounts(scores, policy.limits.lgd).sum()), 2),
        customers_in_default=int(in_default.sum()),
        exposure_in_default=round(float(np.maximum(exposure[in_default], 0.0).sum()), 2),
        aging=aging,
        grade_mix=grade_mix,
    )


T = TypeVar("T")


def run_book_key(run_id: str, model_version: str) -> tuple[str, str, str]:
    """The cache key of a complete rescoring run's book as the served model answers it. A
    complete run's rows never change, so its book lasts in :class:`PortfolioCache` (evicted
    by the size bound only, never recomputed every cache period in the serving process)."""
    return ("run", run_id, model_version)


def is_run_book_key(key: Hashable) -> bool:
    """Whether ``key`` is a :func:`run_book_key` (what lasts in the service's cache)."""
    return isinstance(key, tuple) and len(key) == 3 and key[0] == "run"


class PortfolioCache(Generic[T]):
    """Values computed per key, kept for ``ttl_seconds``, within a size bound (a
    ``cachetools.TLRUCache``): ``max_entries`` values, or with ``sizeof`` (bytes of a value)
    at most ``max_entries`` bytes in all; the least recently used beyond the bound are
    evicted and expired entries are dropped on every access, so old as-of dates neither pile
    up nor stay in memory. Keys for which ``lasting`` is true never expire (the book of a
    complete rescoring run: its rows do not change); the size bound still evicts them. One
    computation per key at a time.

    Keys are (model version, as-of date) in the service. A miss computes under the key's own
    lock, so concurrent requests for the same key wait for one computation instead of each
    reading the whole ledger; other keys are not blocked. With ``jobs`` the computation runs
    on its bounded pool (:class:`creditrisk.serving.book_jobs.BookJobs`: 503 when full).
    A value larger than the whole bound is returned but not kept.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = DEFAULT_CACHE_SECONDS,
        max_entries: int = DEFAULT_CACHE_ENTRIES,
        sizeof: Callable[[T], float] | None = None,
        jobs: BookJobs | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        lasting: Callable[[Hashable], bool] = lambda key: False,
    ) -> None:
        def expires_at(key: Hashable, value: T, now: float) -> float:
            return math.inf if lasting(key) else now + ttl_seconds

        self._values: TLRUCache[Hashable, T] = TLRUCache(
            maxsize=max_entries, ttu=expires_at, timer=monotonic, getsizeof=sizeof
        )
        self._jobs = jobs
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()  # TLRUCache is not thread-safe

    def __len__(self) -> int:
        with self._guard:
            self._values.expire()
            return len(self._values)

    @property
    def size(self) -> float:
        """What the kept values weigh (entries, or bytes with ``sizeof``)."""
        with self._guard:
            self._values.expire()
            return self._values.currsize

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, computing it (once) when missing or expired."""
        with self._guard:
            self._values.expire()
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:
                    return self._values[key]
            computed = self._jobs.run(compute) if self._jobs is not None else compute()
            with self._guard:
                with contextlib.suppress(ValueError):  # larger than the whole bound
                    self._values[key] = computed
                self._locks = {
                    k: v for k, v in self._locks.items() if k in self._values or v.locked()
                }
            return computed


def collections_worklist(
    scores: PortfolioScores, *, stages: DunningStages, horizon_days: int = HORIZON_DAYS
) -> Worklist:
    """The collections worklist of the scored book (:mod:`creditrisk.serving.worklist`)."""
    if scores.outlook is not None:
        return assemble_worklist(scores.outlook, scores.customers, scores.collections,
                                 as_of=scores.as_of, stages=stages)
    return build_worklist(
        scores.customers,
        scores.invoices,
        scores.collections,
        as_of=scores.as_of,
        stages=stages,
        horizon_days=horizon_days,
    )


@dataclass(frozen=True)
class BookAnswer:
    """What the book endpoints answer from, small enough to cache and to send between
    processes: the summary and the first :data:`ANSWER_ROWS_MAX` worklist rows of each
    section (:func:`worklist.worklist_records` form), never the frames."""

    as_of: date
    summary: PortfolioSummary
    worklist_active: tuple[dict[str, object], ...]
    worklist_in_default: tuple[dict[str, object], ...]
    worklist_count: int
    """Customers in the active section (all of them, not only the rows kept)."""
    run_id: str | None = None


def answer_book(
    scores: PortfolioScores,
    served: ServedBundle,
    *,
    stages: DunningStages,
    horizon_days: int = HORIZON_DAYS,
    rows_max: int = ANSWER_ROWS_MAX,
) -> BookAnswer:
    """The summary and worklist of a scored book (live or from a rescoring run)."""
    worklist = collections_worklist(scores, stages=stages, horizon_days=horizon_days)
    return BookAnswer(
        as_of=scores.as_of,
        summary=summarize_portfolio(scores, served),
        worklist_active=tuple(worklist_records(worklist.active.head(rows_max))),
        worklist_in_default=tuple(worklist_records(worklist.in_default.head(rows_max))),
        worklist_count=len(worklist.active),
        run_id=scores.run_id,
    )


def answer_nbytes(answer: BookAnswer) -> int:
    """Memory a kept answer stands for (its pickled size), for the cache's size bound."""
    return len(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
