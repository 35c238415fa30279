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
import os
import re
import sys
import time
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
_CACHED_LABEL_SETS: Final = 1_000
"""At most this many label combinations keep their metric children at hand (routes are
templates, so a service has a few dozen; beyond the bound they are looked up each time)."""
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
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._decision_children: dict[str, Any] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:  # labels() validates and locks: once per combination
            children = (self.requests.labels(method, route, str(status)),
                        self.latency.labels(method, route))
            if len(self._request_children) < _CACHED_LABEL_SETS:
                self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def set_model(self, version: str, uri: str) -> None:
        """Point the info gauge at the bundle now served (the old series disappears)."""
        self.model_info.clear()
        self.model_info.labels(version, uri).set(1)

    def count_decision(self, kind: str) -> None:
        child = self._decision_children.get(kind)
        if child is None:
            child = self.decisions.labels(kind)
            if len(self._decision_children) < _CACHED_LABEL_SETS:
                self._decision_children[kind] = child
        child.inc()

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
        request_id = _incoming_request_id(scope) or new_request_id()
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
                log_access(
                    scope["method"], route, status, seconds, state.get(API_KEY_ID_STATE_KEY, "-"),
                    request_id,
                )


def new_request_id() -> str:
    """A fresh request id: 32 lowercase hex characters of 16 random bytes."""
    return os.urandom(16).hex()


ACCESS_LINE: Final = "%s %s %d %.2fms key=%s request_id=%s"


def log_access(
    method: str, route: str, status: int, seconds: float, key_id: str, request_id: str
) -> None:
    """One access log line (INFO on ``creditrisk.access``). The record is made and handed
    to the logger's handlers directly (``makeRecord`` + ``handle``, what ``info`` does
    after it has walked the call stack for a source line that this line never shows)."""
    record = access_logger.makeRecord(
        access_logger.name, logging.INFO, __file__, 0, ACCESS_LINE,
        (method, route, status, seconds * 1000.0, key_id, request_id), None,
    )
    access_logger.handle(record)


class ServiceLogFormatter(logging.Formatter):
    """``%(asctime)s`` as the standard formatter writes it (``2026-03-31 12:30:15,123``),
    the date and time text made once per second instead of once per line (``strftime`` was
    about a third of an access line's cost)."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second, text = self._second
        if int(record.created) != second:
            second = int(record.created)
            text = time.strftime(_TIME_FORMAT, self.converter(record.created))
            self._second = (second, text)
        return _MSEC_FORMAT % (text, record.msecs)


_TIME_FORMAT: Final = logging.Formatter.default_time_format
_MSEC_FORMAT: Final = "%s,%03d"  # logging.Formatter.default_msec_format


def configure_logging(level: str) -> None:
    """Send ``creditrisk.*`` log records (access log included) to stderr at ``level``.

    Called by the entry point, never by library code. Run uvicorn with ``access_log=False``:
    its own access line contains the raw path and query string (customer ids).
    """
    logger = logging.getLogger("creditrisk")
    logger.setLevel(level)
    if not any(getattr(h, "_creditrisk", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(ServiceLogFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler._creditrisk = True  # type: ignore[attr-defined]  # our mark: added once
        logger.addHandler(handler)
        logger.propagate = False
