"""The service's entry point: ``uvicorn creditrisk.serving.api.entrypoint:app_from_env --factory``.

``app_from_env()`` reads the settings from the environment (the only place below the CLI that
does), limits LightGBM to one native thread, and builds the app with the real model loader and
alias resolver from :mod:`creditrisk.serving.registry`. ``build_service(settings, ...)`` is the same
wiring with explicit arguments, for tests and embedding.

Why one LightGBM thread: the service scores one row per request, many requests at once.
With its default OpenMP team, every single-row ``Booster.predict`` starts and joins a team
of threads; on a busy 2-core machine that was measured at 1 to 15 ms per call, against about
0.1 ms on one thread (the answer is identical). The whole-book worker process
(:mod:`creditrisk.serving.book_worker`) gets the same cap: it shares the cores with requests.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from creditrisk.serving.api.app import create_app, utc_now
from creditrisk.serving.api.observability import configure_logging
from creditrisk.serving.book_worker import prepare_worker
from creditrisk.serving.registry import ModelRegistry
from creditrisk.serving.settings import Settings

FACTORY = "creditrisk.serving.api.entrypoint:app_from_env"
"""What uvicorn is pointed at (``--factory``): the CLI, the benchmark and tests use it."""
SERVICE_LIGHTGBM_THREADS = 1


def limit_lightgbm_threads(threads: int = SERVICE_LIGHTGBM_THREADS) -> None:
    """Cap the OpenMP threads LightGBM uses in this process (``LGBM_SetMaxThreads``)."""
    # LightGBM has no public call for a process-wide thread cap; its C API does.
    import lightgbm.basic as lightgbm_c_api

    library = getattr(lightgbm_c_api, "_LIB")  # noqa: B009 - private, not exported for mypy
    lightgbm_c_api._safe_call(library.LGBM_SetMaxThreads(ctypes.c_int(threads)))


def build_service(
    settings: Settings,
    *,
    registry: ModelRegistry | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """The app wired to the registry of ``settings.tracking_uri``: it loads
    ``settings.model_uri`` (alias, version or path) and follows the alias when it moves."""
    models = registry if registry is not None else ModelRegistry(settings.tracking_uri)
    resolver = models.resolver(settings.model_uri) if settings.model_uri else None
    worker_init = functools.partial(
        prepare_worker, settings.tracking_uri, settings.model_uri, limit_lightgbm_threads
    )
    return create_app(settings, model_loader=models.load, version_resolver=resolver, clock=clock,
                      book_processes=True, book_worker_init=worker_init)


def app_from_env() -> FastAPI:
    """The uvicorn factory: settings from ``CREDITRISK_*`` and ``MLFLOW_TRACKING_URI``."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    limit_lightgbm_threads()
    return build_service(settings)
