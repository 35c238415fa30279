"""The whole book computed in a worker process: what runs there and what comes back.

The service scores the whole book (``GET /v1/portfolio`` and ``/v1/worklist`` for a date
with no complete rescoring run) in a separate process (``BookJobs(processes=True)``, see
:mod:`creditrisk.serving.book_jobs`), so that seconds of pandas work never hold the
scoring process's GIL. The worker gets a :class:`BookTask` (plain data: where the bundle
and the ledger are), loads the bundle itself through the registry (kept for the next job
while the version is the same), reads the ledger by URL, and sends back a small
:class:`creditrisk.serving.portfolio.BookAnswer`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from creditrisk.ledger.database import make_engine
from creditrisk.serving.portfolio import BookAnswer, answer_book, load_portfolio
from creditrisk.serving.registry import ModelRegistry, ServedBundle
from creditrisk.serving.worklist import HORIZON_DAYS, DunningStages


@dataclass(frozen=True)
class BookTask:
    """One whole-book computation: the pinned bundle, the ledger and the date."""

    tracking_uri: str
    model_uri: str
    """A pinned registry URI (``models:/creditrisk/7``) or a bundle path, never an alias:
    the worker scores with the version the request was served with."""
    database_url: str
    as_of: date
    stages: DunningStages
    horizon_days: int = HORIZON_DAYS


_bundles: dict[tuple[str, str], ServedBundle] = {}
_engines: dict[str, Engine] = {}


def _bundle(tracking_uri: str, model_uri: str) -> ServedBundle:
    key = (tracking_uri, model_uri)
    if key not in _bundles:
        _bundles.clear()  # one bundle at a time: a new version replaces the old one
        _bundles[key] = ModelRegistry(tracking_uri).load(model_uri)
    return _bundles[key]


def _engine(database_url: str) -> Engine:
    if database_url not in _engines:
        _engines[database_url] = make_engine(database_url)
    return _engines[database_url]


def prepare_worker(
    tracking_uri: str, model_uri: str | None, then: Callable[[], None] | None = None
) -> None:
    """A book worker process's initializer: ``then()`` (the service's LightGBM thread cap),
    then load the bundle ``model_uri`` points at now, so that its books do not wait for the
    load (a worker replaced after its jobs is started at once, and so ready before the next
    book is asked for). A failure here is left to the first job, which reports it."""
    if then is not None:
        then()
    if model_uri is None:
        return
    with contextlib.suppress(Exception):
        _bundle(tracking_uri, ModelRegistry(tracking_uri).resolve(model_uri).uri)


def compute_book(task: BookTask) -> BookAnswer:
    """Score the whole ledger as of ``task.as_of`` and answer summary and worklist."""
    served = _bundle(task.tracking_uri, task.model_uri)
    scores = load_portfolio(served, _engine(task.database_url), as_of=task.as_of)
    return answer_book(scores, served, stages=task.stages, horizon_days=task.horizon_days)
