"""Every ``Annotated`` dependency a handler can ask for, in one module (the handler's toolbox).

    @router.post("/v1/applications")
    def score_application(
        body: ApplicationIn,
        model: ModelDep,           # LoadedModel: .bundle, .version, .ref.uri
        served: ServedDep,         # ServedBundle: the credit-risk bundle of that model
        caller: ScoreCaller,       # ApiKeyIdentity: .key_id, .label, .scopes
        decisions: DecisionLogDep, # .record(DecisionRecord) -> decision_id
        db: DbDep,                 # sqlalchemy Engine (the ledger and the service tables)
        today: TodayDep,           # the service clock's date (default decision date)
        settings: SettingsDep,
    ) -> ApplicationOut: ...

All of them are ``async def`` functions reading ``app.state`` (no thread hop); ``ModelDep``
answers 503 ``model_not_ready`` when no bundle is loaded. Each request resolves ``ModelDep``
once, so it keeps the bundle it started with even if a swap happens meanwhile.

``DecisionContextDep`` gives a decision handler the model, its bundle, the decision log,
today and the latest accepted decision date as ONE dependency: FastAPI spends about as much
CPU resolving a dependency as the small function itself takes (cache keys, scope checks,
argument binding per node and request), and the five separate ones above were a sixth of
the applicant-scoring request (see ``docs/service.md``). ``ScoringContextDep`` is that
context with the ``score`` caller authenticated in the same node (the key's two header
schemes stay sub-dependencies, so OpenAPI still documents them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from pydantic import BeforeValidator
from sqlalchemy import Engine

from creditrisk.serving.api.auth import BearerCredentials, HeaderKey, authenticate, require_scope
from creditrisk.serving.api.observability import ServiceMetrics
from creditrisk.serving.api.schemas import (
    EARLIEST_AS_OF,
    LATEST_AS_OF,
    NO_CONTROL_CHARACTERS,
    optional_iso_date,
)
from creditrisk.serving.api_keys import ApiKeyIdentity, ApiScope
from creditrisk.serving.book_jobs import BookJobs, BookRateLimit
from creditrisk.serving.decision_log import IDEMPOTENCY_KEY_HEADER, DecisionLog
from creditrisk.serving.errors import InvalidRequest, ModelNotReady
from creditrisk.serving.model_holder import LoadedModel, ModelHolder
from creditrisk.serving.portfolio import BookAnswer, PortfolioCache
from creditrisk.serving.registry import ServedBundle, served_bundle
from creditrisk.serving.settings import Settings

__all__ = [
    "AdminCaller",
    "ApiScope",
    "AsOfQuery",
    "BookCaller",
    "BookJobsDep",
    "CustomerIdPath",
    "DbDep",
    "DecisionContext",
    "DecisionContextDep",
    "DecisionLogDep",
    "HolderDep",
    "IdempotencyKeyHeader",
    "LatestAsOfDep",
    "MetricsDep",
    "ModelDep",
    "PortfolioCacheDep",
    "ReadCaller",
    "ReadingContext",
    "ReadingContextDep",
    "ScoreCaller",
    "ScoringContext",
    "ScoringContextDep",
    "ServedDep",
    "SettingsDep",
    "TodayDep",
    "plausible_as_of",
    "require_scope",
]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_holder(request: Request) -> ModelHolder:
    holder: ModelHolder = request.app.state.model_holder
    return holder


async def get_metrics(request: Request) -> ServiceMetrics:
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


def current_model(holder: ModelHolder) -> LoadedModel:
    """The bundle the holder serves now; :class:`ModelNotReady` (503) when none is loaded."""
    current = holder.current
    if current is None:
        raise ModelNotReady("no model is loaded yet (see /readyz); retry in a few seconds")
    return current


async def get_model(request: Request) -> LoadedModel:
    """The bundle serving this request; 503 with a clear message when none is loaded."""
    return current_model(request.app.state.model_holder)


ModelDep = Annotated[LoadedModel, Depends(get_model)]


async def get_served(model: ModelDep) -> ServedBundle:
    """The credit-risk bundle of the model serving this request."""
    return served_bundle(model)


async def get_decision_log(request: Request) -> DecisionLog:
    log: DecisionLog = request.app.state.decision_log
    return log


async def get_portfolio_cache(request: Request) -> PortfolioCache[BookAnswer]:
    cache: PortfolioCache[BookAnswer] = request.app.state.portfolio_cache
    return cache


async def get_book_jobs(request: Request) -> BookJobs:
    jobs: BookJobs = request.app.state.book_jobs
    return jobs


def today_of(request: Request) -> date:
    """Today by the app's clock (``app.state.clock``, UTC)."""
    now = request.app.state.clock()
    return date(now.year, now.month, now.day)


def latest_as_of_after(today: date, settings: Settings) -> date:
    """The latest decision date the service accepts: ``today`` plus
    ``Settings.as_of_max_days_ahead`` (the schema's fixed bound only stops absurd dates)."""
    return today + timedelta(days=settings.as_of_max_days_ahead)


async def service_today(request: Request) -> date:
    """Today by the app's clock (``app.state.clock``, UTC): the default decision date."""
    return today_of(request)


async def latest_as_of(request: Request) -> date:
    """:func:`latest_as_of_after` today by the app's clock."""
    return latest_as_of_after(today_of(request), request.app.state.settings)


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """Everything a decision handler reads from the app, resolved once per request."""

    model: LoadedModel
    """The loaded model serving this request (kept even if a swap happens meanwhile)."""
    served: ServedBundle
    """Its credit-risk bundle."""
    decisions: DecisionLog
    today: date
    """The service clock's date: the default decision date."""
    latest_as_of: date
    """The latest decision date accepted (:func:`plausible_as_of`)."""


async def decision_context(request: Request) -> DecisionContext:
    """:class:`DecisionContext` of this request; 503 ``model_not_ready`` without a model."""
    state = request.app.state
    model = current_model(state.model_holder)
    today = today_of(request)
    return DecisionContext(
        model=model,
        served=served_bundle(model),
        decisions=state.decision_log,
        today=today,
        latest_as_of=latest_as_of_after(today, state.settings),
    )


@dataclass(frozen=True, slots=True)
class ScoringContext:
    """A ``score`` caller and its :class:`DecisionContext`, resolved as one dependency."""

    caller: ApiKeyIdentity
    context: DecisionContext


@dataclass(frozen=True, slots=True)
class ReadingContext:
    """A ``read`` caller, its :class:`DecisionContext` and the database engine, resolved as
    one dependency (what ``GET /v1/customers/{id}/risk`` asks for)."""

    caller: ApiKeyIdentity
    context: DecisionContext
    engine: Engine


async def reading_context(
    request: Request, bearer: BearerCredentials, header: HeaderKey
) -> ReadingContext:
    """:func:`authenticate` a ``read`` caller (401/403 first), then its
    :func:`decision_context` (503 ``model_not_ready``) and the app's engine: ``ReadCaller``,
    ``DecisionContextDep`` and ``DbDep`` in one dependency node instead of three."""
    caller = await authenticate(request, bearer, header, "read")
    return ReadingContext(caller=caller, context=await decision_context(request),
                          engine=request.app.state.engine)


async def scoring_context(
    request: Request, bearer: BearerCredentials, header: HeaderKey
) -> ScoringContext:
    """:func:`authenticate` a ``score`` caller (401/403 first), then its
    :func:`decision_context` (503 ``model_not_ready``): what ``ScoreCaller`` and
    ``DecisionContextDep`` give, in one dependency node fewer."""
    caller = await authenticate(request, bearer, header, "score")
    return ScoringContext(caller=caller, context=await decision_context(request))


def plausible_as_of(asked: date | None, latest: date, *, location: str = "query") -> None:
    """:class:`InvalidRequest` (422 naming ``as_of``) when ``asked`` is after ``latest``."""
    if asked is not None and asked > latest:
        raise InvalidRequest(
            "as_of", f"must not be after {latest.isoformat()} (the service's today plus the "
            "configured margin)", location=location,
        )


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Engine, Depends(get_engine)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
ServedDep = Annotated[ServedBundle, Depends(get_served)]
DecisionLogDep = Annotated[DecisionLog, Depends(get_decision_log)]
PortfolioCacheDep = Annotated[PortfolioCache[BookAnswer], Depends(get_portfolio_cache)]
BookJobsDep = Annotated[BookJobs, Depends(get_book_jobs)]
TodayDep = Annotated[date, Depends(service_today)]
LatestAsOfDep = Annotated[date, Depends(latest_as_of)]
DecisionContextDep = Annotated[DecisionContext, Depends(decision_context)]
ScoringContextDep = Annotated[ScoringContext, Depends(scoring_context)]
"""``ScoreCaller`` + ``DecisionContextDep`` as one node (the applicant request's path)."""
ReadingContextDep = Annotated[ReadingContext, Depends(reading_context)]
"""``ReadCaller`` + ``DecisionContextDep`` + ``DbDep`` as one node (customer risk)."""
ScoreCaller = Annotated[ApiKeyIdentity, Depends(require_scope("score"))]
ReadCaller = Annotated[ApiKeyIdentity, Depends(require_scope("read"))]


async def book_caller(request: Request, caller: ReadCaller) -> ApiKeyIdentity:
    """A ``read`` caller within its book rate limit (429 ``rate_limited`` beyond it)."""
    limit: BookRateLimit = request.app.state.book_rate_limit
    limit.hit(caller.key_id)
    return caller


BookCaller = Annotated[ApiKeyIdentity, Depends(book_caller)]
"""A ``read`` caller of the whole-book endpoints, rate limited per key."""
AdminCaller = Annotated[ApiKeyIdentity, Depends(require_scope("admin"))]

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_KEY_HEADER, min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
        description="Optional: a retried POST with the same key (and the same body) gets the "
        "first decision back instead of a new one; the same key with another body is 422.",
    ),
]
CustomerIdPath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=NO_CONTROL_CHARACTERS,
         description="The customer's id in the ledger (no control characters)."),
]
AsOfQuery = Annotated[
    date | None,
    Query(ge=EARLIEST_AS_OF, le=LATEST_AS_OF,
          description="Decision date, ISO YYYY-MM-DD (default: today)."),
    BeforeValidator(optional_iso_date),  # last: runs first; the schema keeps a plain date
]
