"""``GET /v1/worklist`` and ``GET /v1/portfolio`` (read): the whole book as of a date.

Both read the full ledger and score it (:mod:`serving.portfolio`), cached per (model version,
as-of date) for :data:`~serving.portfolio.DEFAULT_CACHE_SECONDS`, so a dashboard polling
them does not rescore the book on every call. Plain ``def`` handlers: the work runs in the
threadpool, never on the event loop.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine

from creditrisk.serving import portfolio
from creditrisk.serving.customer_risk import invoice_records
from creditrisk.serving.dependencies import DbDep, ModelDep, ReadCaller
from creditrisk.serving.registry import ServedBundle, served_bundle
from creditrisk.serving.routes_customers import AsOfQuery, service_today
from creditrisk.serving.schemas import (
    AgingBucketOut,
    GradeMixOut,
    InvoicePredictionOut,
    PortfolioOut,
    WorklistOut,
)

router = APIRouter(prefix="/v1", tags=["portfolio"])

_CACHE_ATTRIBUTE = "portfolio_cache"
_cache_creation = threading.Lock()


def portfolio_cache(request: Request) -> portfolio.PortfolioCache[portfolio.PortfolioScores]:
    """The app's portfolio cache, created on first use (one per app)."""
    state = request.app.state
    cache = getattr(state, _CACHE_ATTRIBUTE, None)
    if cache is None:
        with _cache_creation:
            cache = getattr(state, _CACHE_ATTRIBUTE, None)
            if cache is None:
                cache = portfolio.PortfolioCache[portfolio.PortfolioScores]()
                setattr(state, _CACHE_ATTRIBUTE, cache)
    return cache


def scored_book(
    request: Request, served: ServedBundle, model_version: str, db: Engine, as_of: date | None
) -> portfolio.PortfolioScores:
    """The book scored by ``model_version`` as of ``as_of`` (default today), from the cache."""
    day = as_of or service_today(request)
    return portfolio_cache(request).get(
        (model_version, day), lambda: portfolio.load_portfolio(served, db, as_of=day)
    )


@router.get("/worklist", response_model=WorklistOut)
def collections_worklist(
    caller: ReadCaller,
    model: ModelDep,
    db: DbDep,
    request: Request,
    as_of: AsOfQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many invoices.")] = 50,
) -> WorklistOut:
    """Open invoices ranked by expected overdue amount (open amount x p_late)."""
    served = served_bundle(model)
    book = scored_book(request, served, model.version, db, as_of)
    items = invoice_records(portfolio.worklist(book, limit=limit))
    return WorklistOut(
        as_of=book.as_of,
        open_invoice_count=len(book.invoices),
        items=[InvoicePredictionOut(**item) for item in items],
        model_name=served.model_name,
        model_version=model.version,
        policy_version=served.bundle.policy.version,
    )


@router.get("/portfolio", response_model=PortfolioOut)
def portfolio_summary(
    caller: ReadCaller,
    model: ModelDep,
    db: DbDep,
    request: Request,
    as_of: AsOfQuery = None,
) -> PortfolioOut:
    """DSO, aging buckets, expected loss and grade mix of the whole book."""
    served = served_bundle(model)
    book = scored_book(request, served, model.version, db, as_of)
    summary = portfolio.summarize_portfolio(book, served)
    return PortfolioOut(
        as_of=summary.as_of,
        customer_count=summary.customer_count,
        open_balance=summary.open_balance,
        overdue_balance=summary.overdue_balance,
        dso_days=summary.dso_days,
        expected_loss=summary.expected_loss,
        customers_in_default=summary.customers_in_default,
        aging=[
            AgingBucketOut(bucket=b.bucket, amount=b.amount, share=b.share)
            for b in summary.aging
        ],
        grade_mix=[
            GradeMixOut(grade=g.grade, name=g.name, customer_count=g.customer_count,
                        exposure=g.exposure)
            for g in summary.grade_mix
        ],
        model_name=served.model_name,
        model_version=model.version,
        policy_version=served.bundle.policy.version,
    )
