"""Operations: liveness, readiness and Prometheus metrics (unauthenticated, no personal data).

- ``GET /healthz``: the process answers (200 always).
- ``GET /readyz``: 200 only when a model bundle is loaded AND the database answers and takes
  a decision-log write (rolled back; a read-only database is not ready); otherwise 503 with
  which check failed. Load balancers send traffic only to ready instances.
- ``GET /metrics``: Prometheus scrape endpoint (expose it on the internal network only).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import Engine, text
from starlette.responses import Response

from creditrisk.serving.api.dependencies import HolderDep, MetricsDep
from creditrisk.serving.api.schemas import HealthOut, ReadinessOut
from creditrisk.serving.decision_log import probe_writable
from creditrisk.serving.outages import failure_summary

logger = logging.getLogger("creditrisk.health")

router = APIRouter(tags=["health"])


def database_answers(engine: Engine) -> bool:
    """True when the database answers AND takes a decision-log write (an insert rolled back:
    a read-only database is not ready); blocking. A failure is one log line, no text."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe_writable(engine)
    except Exception as exc:
        logger.warning("readiness: database check failed: %s", failure_summary(exc))
        return False
    return True


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    """The process is alive."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=ReadinessOut,
    responses={503: {"model": ReadinessOut, "description": "Not ready: which check failed.",
                     "headers": {"Retry-After": {"schema": {"type": "string"}}}}},
)
def readyz(request: Request, response: Response, holder: HolderDep) -> ReadinessOut:
    """Ready to serve: a model is loaded and the database answers."""
    engine: Engine | None = getattr(request.app.state, "engine", None)
    current = holder.current
    database_ok = engine is not None and database_answers(engine)
    ready = current is not None and database_ok
    if not ready:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    return ReadinessOut(
        status="ready" if ready else "not_ready",
        model="loaded" if current is not None else "missing",
        database="ok" if database_ok else "unavailable",
        model_version=current.version if current is not None else None,
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(service_metrics: MetricsDep) -> Response:
    """Prometheus scrape endpoint (unauthenticated: expose it on the internal network only)."""
    return Response(service_metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
