"""The ONE place that turns any error into an HTTP answer.

Domain errors (:mod:`creditrisk.serving.errors`) carry no HTTP knowledge; :data:`ERROR_STATUS`
below gives each its status and error code (the most specific class wins). Every error body
has the same shape::

    {"error": "<code>", "message": "<for humans>", "request_id": "<id>", "details": [...]}

``details`` is present for 422 only (one entry per bad field: ``loc``, ``msg``, ``type``).
No stack trace, exception text of an unexpected error, or echo of the submitted values ever
reaches a client; unexpected errors are logged server-side with the request id, as exception
classes and code locations only (:func:`creditrisk.serving.outages.scrubbed_traceback`: an
exception's text can quote customer data).

An unavailable or read-only database (:func:`creditrisk.serving.outages.is_database_outage`)
is 503 ``database_unavailable`` with ``Retry-After`` and one warning line without traceback.
A 500 answer says ``Connection: close`` and the connection is then closed (the server's
state for it is unknown); no exception reaches uvicorn (:class:`UnexpectedErrorMiddleware`),
so a keep-alive connection is never dropped without saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditrisk.models.bundle import MissingDefaultModel
from creditrisk.serving.api.observability import request_id_of, route_template
from creditrisk.serving.book_jobs import BookBusy, RateLimited
from creditrisk.serving.decision_log import IdempotencyKeyReused, RequestInProgress
from creditrisk.serving.errors import (
    AccessDenied,
    AuthenticationError,
    CustomerNotFound,
    DecisionNotFound,
    IncompatibleBundle,
    InvalidRequest,
    MissingScopeError,
    ModelLoadError,
    ModelNotReady,
    ModelUnavailable,
    NoDefaultModel,
    NotFound,
    ServingError,
)
from creditrisk.serving.outages import failure_summary, is_database_outage, scrubbed_traceback

logger = logging.getLogger("creditrisk.errors")

JSON_MEDIA_TYPE: Final = "application/json"
RETRY_AFTER_SECONDS: Final = "5"
CLOSE_CONNECTION: Final = {"Connection": "close"}

ERROR_STATUS: Final[dict[type[ServingError], tuple[int, str]]] = {
    ServingError: (500, "service_error"),
    NotFound: (404, "not_found"),
    CustomerNotFound: (404, "customer_not_found"),
    DecisionNotFound: (404, "decision_not_found"),
    InvalidRequest: (422, "validation_error"),
    ModelUnavailable: (503, "model_not_ready"),
    ModelNotReady: (503, "model_not_ready"),
    ModelLoadError: (503, "model_load_failed"),
    IncompatibleBundle: (503, "model_load_failed"),
    NoDefaultModel: (503, "no_default_model"),
    AccessDenied: (403, "forbidden"),
    AuthenticationError: (401, "unauthenticated"),
    MissingScopeError: (403, "forbidden"),
    BookBusy: (503, "book_busy"),
    RateLimited: (429, "rate_limited"),
    RequestInProgress: (409, "request_in_progress"),
    IdempotencyKeyReused: (409, "idempotency_key_reused"),
}
"""Domain error class -> (HTTP status, error code); a subclass not listed takes its parent's."""


def status_of(exc: ServingError) -> tuple[int, str]:
    """The status and error code of ``exc``: its own class's entry, else the nearest parent's."""
    for cls in type(exc).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return ERROR_STATUS[ServingError]


def error_headers(exc: ServingError) -> dict[str, str]:
    """Headers an error answer needs: a Bearer challenge on 401, Retry-After on 503/429."""
    if isinstance(exc, BookBusy | RateLimited):
        return {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, RequestInProgress):
        return {"Retry-After": "1"}
    if isinstance(exc, AuthenticationError):
        challenge = 'Bearer realm="creditrisk"'
        if exc.key_presented:
            challenge += ', error="invalid_token"'
        return {"WWW-Authenticate": challenge}
    if isinstance(exc, ModelUnavailable) and not isinstance(exc, NoDefaultModel):
        return {"Retry-After": RETRY_AFTER_SECONDS}  # a late-only bundle stays so: no retry
    return {}


def error_details(exc: ServingError) -> list[dict[str, Any]] | None:
    """Field-level details of a 422 (None for any other error)."""
    if isinstance(exc, InvalidRequest):
        return [{"loc": [exc.location, *exc.field.split(".")], "msg": exc.field_message,
                 "type": "value_error"}]
    return None


def error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    request_id: str | None,
    details: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The JSON error answer every handler (and the body-limit middleware) sends."""
    body: dict[str, Any] = {"error": code, "message": message, "request_id": request_id}
    if details is not None:
        body["details"] = list(details)
    all_headers = dict(headers or {})
    if request_id is not None:
        all_headers["X-Request-ID"] = request_id
    return Response(
        content=orjson.dumps(body),
        status_code=status_code,
        headers=all_headers,
        media_type=JSON_MEDIA_TYPE,
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    422: "validation_error",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


async def _serving_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServingError)
    status, code = status_of(exc)
    return error_response(
        status,
        code,
        exc.message,
        request_id=request_id_of(request.scope),
        details=error_details(exc),
        headers=error_headers(exc),
    )


async def _missing_default_model(request: Request, exc: Exception) -> Response:
    """A late-only bundle asked for a PD (any path: applicants, portfolio...): 503."""
    assert isinstance(exc, MissingDefaultModel)
    return await _serving_error(request, NoDefaultModel(exc.reason))


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One field-level message; the submitted value (``input``) is never echoed back."""
    return {
        "loc": [part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
        "msg": str(error.get("msg", "invalid value")),
        "type": str(error.get("type", "value_error")),
    }


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [_field_error(error) for error in exc.errors()]
    fields = ", ".join(".".join(str(p) for p in d["loc"]) for d in details[:5])
    return error_response(
        422,
        "validation_error",
        f"invalid request: {fields}" if fields else "invalid request",
        request_id=request_id_of(request.scope),
        details=details,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return error_response(
        exc.status_code,
        code,
        message,
        request_id=request_id_of(request.scope),
        details=getattr(exc, "details", None),  # a 422 raised as HTTPException (hardening)
        headers=exc.headers,
    )


def database_unavailable_response(scope: Scope, exc: BaseException) -> Response:
    """503 for a database outage: one log line (classes and SQLSTATE, no traceback)."""
    request_id = request_id_of(scope)
    logger.warning(
        "database unavailable on %s (request_id=%s): %s",
        route_template(scope), request_id, failure_summary(exc),
    )
    return error_response(
        503,
        "database_unavailable",
        "the database is unavailable or read-only; retry later",
        request_id=request_id,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def internal_error_response(scope: Scope, exc: BaseException) -> Response:
    """500 for a bug: logged with a scrubbed traceback; the connection is closed."""
    request_id = request_id_of(scope)
    logger.error(
        "unhandled %s on %s (request_id=%s)\n%s",
        type(exc).__name__, route_template(scope), request_id, scrubbed_traceback(exc),
    )
    return error_response(
        500,
        "internal_error",
        "internal server error; quote the request id when reporting it",
        request_id=request_id,
        headers=CLOSE_CONNECTION,
    )


async def _database_error(request: Request, exc: Exception) -> Response:
    if is_database_outage(exc):
        return database_unavailable_response(request.scope, exc)
    return internal_error_response(request.scope, exc)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    return internal_error_response(request.scope, exc)


class UnexpectedErrorMiddleware:
    """Pure ASGI, inside the app's middleware: any exception no handler took becomes the
    500 answer here and goes no further (Starlette's error middleware would answer and then
    re-raise it to uvicorn, which logs the full text and drops the keep-alive connection
    without ``Connection: close``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # half an answer is out: only closing the connection is left
                raise
            if is_database_outage(exc):
                response = database_unavailable_response(scope, exc)
            else:
                response = internal_error_response(scope, exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping: serving errors, 422, HTTPException, and a catch-all 500."""
    app.add_exception_handler(ServingError, _serving_error)
    app.add_exception_handler(MissingDefaultModel, _missing_default_model)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
