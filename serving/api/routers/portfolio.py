"""The book: ``GET /v1/portfolio`` and ``GET /v1/worklist`` (read), as of a date.

Both answer from the latest complete rescoring run (``creditrisk rescore``) when one exists
for the asked as-of (the latest run when none is asked): its as-of, model version and
``run_id`` are in the answer (:mod:`creditrisk.serving.rescoring.readers`). Otherwise they
read the full ledger and score it (:mod:`creditrisk.serving.portfolio`). A live book is cached
per (model version, as-of date) for ``Settings.portfolio_cache_seconds``, so a dashboard
polling it does not rescore the book on every call; a complete run's book per (run, model
version) until the size bound evicts it (its rows never change). Plain ``def`` handlers: the
work runs in the threadpool, never on the event loop; a book scored here is computed on the
bounded pool of :mod:`creditrisk.serving.book_jobs` (503 ``book_busy`` when full): in the
service a worker PROCESS (:mod:`creditrisk.serving.book_worker`), so scoring never waits for
the GIL while a book is computed. A run's book is read in the request's own thread (a few
database reads, no queue behind whole-book work). Each key is rate limited (429
``rate_limited``, ``Settings.book_rate_limit``). What is cached is the small
:class:`creditrisk.serving.portfolio.BookAnswer` (summary and worklist rows), never frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Engine

from creditrisk.serving import portfolio
from creditrisk.serving.api.dependencies import (
    AsOfQuery,
    BookCaller,
    BookJobsDep,
    DbDep,
    LatestAsOfDep,
    ModelDep,
    PortfolioCacheDep,
    ServedDep,
    SettingsDep,
    TodayDep,
    plausible_as_of,
)
from creditrisk.serving.api.error_responses import ROUTE_ERRORS, error_responses
from creditrisk.serving.api.schemas import (
    AgingBucketOut,
    GradeMixOut,
    PortfolioOut,
    WorklistItemOut,
    WorklistOut,
)
from creditrisk.serving.book_jobs import BookJobs
from creditrisk.serving.book_worker import BookTask, compute_book
from creditrisk.serving.model_holder import LoadedModel
from creditrisk.serving.money import reporting_currency
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import readers
from creditrisk.serving.settings import Settings

router = APIRouter(prefix="/v1", tags=["portfolio"])


@dataclass(frozen=True)
class Book:
    answer: portfolio.BookAnswer
    model_name: str
    model_version: str
    policy_version: str


def live_answer(
    jobs: BookJobs, settings: Settings, served: ServedBundle, db: Engine, day: date
) -> portfolio.BookAnswer:
    """The book scored by the served bundle as of ``day`` on the bounded pool: in a worker
    process when the pool has processes (the bundle by its pinned URI, the ledger by URL),
    else on a worker thread."""
    if jobs.processes:
        return jobs.run(compute_book, BookTask(
            tracking_uri=settings.tracking_uri, model_uri=served.source_uri,
            database_url=settings.database_url, as_of=day, stages=settings.dunning_stages,
            horizon_days=settings.worklist_horizon_days,
        ))
    return jobs.run(lambda: portfolio.answer_book(
        portfolio.load_portfolio(served, db, as_of=day), served,
        stages=settings.dunning_stages, horizon_days=settings.worklist_horizon_days,
    ))


def scored_book(
    cache: portfolio.PortfolioCache[portfolio.BookAnswer],
    jobs: BookJobs,
    settings: Settings,
    served: ServedBundle,
    model: LoadedModel,
    db: Engine,
    asked: date | None,
    today: date,
) -> Book:
    """The book of the complete rescoring run for ``asked`` (the latest run when None), or
    scored by the served model as of ``asked`` or ``today``; from the cache."""
    run = readers.batch_run(db, asked)
    if run is not None:
        key = portfolio.run_book_key(run.run_id, model.version)
        answer = cache.get(key, lambda: portfolio.answer_book(
            readers.portfolio_from_run(db, run), served, stages=settings.dunning_stages,
            horizon_days=settings.worklist_horizon_days,
        ))
        return Book(answer, run.model_name, run.model_version, run.policy_version)
    day = asked or today
    answer = cache.get((model.version, day), lambda: live_answer(jobs, settings, served, db, day))
    return Book(answer, served.model_name, model.version, served.bundle.policy.version)


@router.get(
    "/worklist", response_model=WorklistOut, responses=error_responses(*ROUTE_ERRORS, 422, 429)
)
def collections_worklist(
    caller: BookCaller,
    model: ModelDep,
    served: ServedDep,
    db: DbDep,
    cache: PortfolioCacheDep,
    jobs: BookJobsDep,
    settings: SettingsDep,
    today: TodayDep,
    latest: LatestAsOfDep,
    as_of: AsOfQuery = None,
    limit: Annotated[int, Query(ge=1, le=portfolio.ANSWER_ROWS_MAX,
                                description="How many customers.")] = 50,
) -> WorklistOut:
    """Customers with overdue or soon-due money by priority, each with its next step; those
    in default in their own list."""
    plausible_as_of(as_of, latest)
    book = scored_book(cache, jobs, settings, served, model, db, as_of, today)
    answer = book.answer
    return WorklistOut(
        as_of=answer.as_of,
        currency=reporting_currency(served.bundle.policy),
        horizon_days=settings.worklist_horizon_days,
        customer_count=answer.worklist_count,
        items=[WorklistItemOut(**row) for row in answer.worklist_active[:limit]],
        in_default=[WorklistItemOut(**row) for row in answer.worklist_in_default[:limit]],
        model_name=book.model_name,
        model_version=book.model_version,
        policy_version=book.policy_version,
        run_id=answer.run_id,
    )


@router.get(
    "/portfolio", response_model=PortfolioOut, responses=error_responses(*ROUTE_ERRORS, 422, 429)
)
def portfolio_summary(
    caller: BookCaller,
    model: ModelDep,
    served: ServedDep,
    db: DbDep,
    cache: PortfolioCacheDep,
    jobs: BookJobsDep,
    settings: SettingsDep,
    today: TodayDep,
    latest: LatestAsOfDep,
    as_of: AsOfQuery = None,
) -> PortfolioOut:
    """DSO, aging buckets, expected loss and grade mix of the whole book."""
    plausible_as_of(as_of, latest)
    book = scored_book(cache, jobs, settings, served, model, db, as_of, today)
    summary = book.answer.summary
    return PortfolioOut(
        as_of=summary.as_of,
        currency=summary.currency,
        customer_count=summary.customer_count,
        open_balance=summary.open_balance,
        overdue_balance=summary.overdue_balance,
        dso_days=summary.dso_days,
        expected_loss=summary.expected_loss,
        customers_in_default=summary.customers_in_default,
        exposure_in_default=summary.exposure_in_default,
        aging=[
            AgingBucketOut(bucket=b.bucket, amount=b.amount, share=b.share)
            for b in summary.aging
        ],
        grade_mix=[
            GradeMixOut(grade=g.grade, name=g.name, customer_count=g.customer_count,
                        exposure=g.exposure)
            for g in summary.grade_mix
        ],
        model_name=book.model_name,
        model_version=book.model_version,
        policy_version=book.policy_version,
        run_id=book.answer.run_id,
    )
