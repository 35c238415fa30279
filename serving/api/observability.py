"""Request ids, Prometheus metrics and the access log.

What the access log records per request (logger ``creditrisk.access``, INFO): method, the
*route template* (``/v1/customers/{customer_id}/risk``, never the concrete path, so no
customer or decision id and no query string), status, latency in ms, the caller's API key id
(never the key) and the request id. Bodies, headers and query strings are never logged.
Metrics use the same route template as a label, so label cardinality stays bounded.

Metrics live in a per-app ``CollectorRegistry`` (two apps in one process, as in tests, do not
collide). With several uvicorn worker processes each worker has its own registry; scrape
per worker or switch to prometheus-client's multiprocess mode.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Mapping
from time import perf_counter
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_STATE_KEY: Final = "request_id"
API_KEY_ID_STATE_KEY: Final = "api_key_id"
UNMATCHED_ROUTE: Final = "<unmatched>"
_REQUEST_ID_HEADER: Final = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
LATENCY_BUCKETS_SECONDS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)

access_logger = logging.getLogger("creditrisk.access")


def request_id_of(scope: Scope) -> str | None:
    """The id the observability middleware gave this request (None outside of it)."""
    state = scope.get("state")
    if isinstance(state, Mapping):
        value = state.get(REQUEST_ID_STATE_KEY)
        return value if isinstance(value, str) else None
    return None


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``<unmatched>`` (404s, before routing)."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class ServiceMetrics:
    """The service's Prometheus metrics, in a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "creditrisk_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "creditrisk_http_request_duration_seconds",
            "Time from request start to the end of the response, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS_SECONDS,
            registry=self.registry,
        )
        self.model_info = Gauge(
            "creditrisk_model_info",
            "The model bundle being served (value 1; version and source in labels).",
            ["model_version", "model_uri"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "creditrisk_decisions",
            "Decisions written to the decision log, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.model_reloads = Counter(
            "creditrisk_model_reloads",
            "Model refresh attempts (poller and admin): changed, unchanged or failed.",
            ["outcome"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def set_model(self, version: str, uri: str) -> None:
        """Point the info gauge at the bundle now served (the old series disappears)."""
        self.model_info.clear()
        self.model_info.labels(version, uri).set(1)

    def count_decision(self, kind: str) -> None:
        self.decisions.labels(kind).inc()

    def count_reload(self, outcome: str) -> None:
        self.model_reloads.labels(outcome).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_HEADER:
            return value.decode("ascii") if _SAFE_REQUEST_ID.fullmatch(value) else None
    return None


class ObservabilityMiddleware:
    """Pure ASGI: gives each request an id (``X-Request-ID``, echoed when the client sent a
    safe one), times it, counts it by route template and status, writes the access line."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        state[REQUEST_ID_STATE_KEY] = request_id
        request_id_bytes = request_id.encode("ascii")
        status = 500  # what the client gets if the app raises before answering
        started = perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if not any(name.lower() == _REQUEST_ID_HEADER for name, _ in headers):
                    headers.append((_REQUEST_ID_HEADER, request_id_bytes))
                    message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            seconds = perf_counter() - started
            route = route_template(scope)
            self.metrics.observe_request(scope["method"], route, status, seconds)
            if self.access_log and access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    "%s %s %d %.2fms key=%s request_id=%s",
                    scope["method"],
                    route,
                    status,
                    seconds * 1000.0,
                    state.get(API_KEY_ID_STATE_KEY, "-"),
                    request_id,
                )


def configure_logging(level: str) -> None:
    """Send ``creditrisk.*`` log records (access log included) to stderr at ``level``.

    Called by the entry point, never by library code. Run uvicorn with ``access_log=False``:
    its own access line contains the raw path and query string (customer ids).
    """
    logger = logging.getLogger("creditrisk")
    logger.setLevel(level)
    if not any(getattr(h, "_creditrisk", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler._creditrisk = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
