"""Domain exceptions and the ONE place that turns any error into an HTTP answer.

Every error body has the same shape::

    {"error": "<code>", "message": "<for humans>", "request_id": "<id>", "details": [...]}

``details`` is present for 422 only (one entry per bad field: ``loc``, ``msg``, ``type``).
No stack trace, exception text of an unexpected error, or echo of the submitted values ever
reaches a client; unexpected errors are logged server-side with the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from creditrisk.serving.observability import request_id_of, route_template

logger = logging.getLogger("creditrisk.errors")

JSON_MEDIA_TYPE = "application/json"


class ServiceError(Exception):
    """A failure the client can understand; subclasses fix the HTTP status and error code."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "service_error"

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})

    def details(self) -> list[dict[str, Any]] | None:
        return None


class CustomerNotFound(ServiceError):  # noqa: N818 (name fixed by the API design)
    """The customer id is not in the ledger."""

    status_code = 404
    code = "customer_not_found"

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id!r} is not in the ledger")
        self.customer_id = customer_id


class DecisionNotFound(ServiceError):  # noqa: N818
    """No decision with this id was ever logged."""

    status_code = 404
    code = "decision_not_found"

    def __init__(self, decision_id: str) -> None:
        super().__init__(f"decision {decision_id!r} is not in the decision log")
        self.decision_id = decision_id


class ModelNotReady(ServiceError):  # noqa: N818
    """No model bundle is loaded (yet): scoring is impossible, retry later."""

    status_code = 503
    code = "model_not_ready"

    def __init__(self, reason: str = "no model is loaded yet; retry later") -> None:
        super().__init__(reason, headers={"Retry-After": "5"})


class ModelLoadError(ServiceError):
    """A new bundle could not be loaded; the old one keeps serving."""

    status_code = 503
    code = "model_load_failed"

    def __init__(self, source: str, current_version: str | None) -> None:
        keeping = f"; still serving version {current_version}" if current_version else ""
        super().__init__(f"could not load the model from {source}{keeping}")
        self.source = source


class InvalidRequest(ServiceError):  # noqa: N818
    """The request is well-formed but a field's value cannot be used (business validation)."""

    status_code = 422
    code = "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.field_message = message

    def details(self) -> list[dict[str, Any]]:
        return [{"loc": ["body", *self.field.split(".")], "msg": self.field_message,
                 "type": "value_error"}]


class AuthenticationError(ServiceError):
    """No API key, or one that is unknown, malformed or revoked."""

    status_code = 401
    code = "unauthenticated"

    def __init__(self, message: str, *, key_presented: bool) -> None:
        challenge = 'Bearer realm="creditrisk"'
        if key_presented:
            challenge += ', error="invalid_token"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class MissingScopeError(ServiceError):
    """The API key is valid but lacks the scope this endpoint needs."""

    status_code = 403
    code = "forbidden"

    def __init__(self, key_id: str, scope: str) -> None:
        super().__init__(f"API key {key_id} lacks the {scope!r} scope")
        self.key_id = key_id
        self.scope = scope


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
    415: "unsupported_media_type",
    429: "too_many_requests",
}


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(
        exc.status_code,
        exc.code,
        exc.message,
        request_id=request_id_of(request.scope),
        details=exc.details(),
        headers=exc.headers,
    )


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
        headers=exc.headers,
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = request_id_of(request.scope)
    logger.error(
        "unhandled %s on %s (request_id=%s)",
        type(exc).__name__,
        route_template(request.scope),
        request_id,
        exc_info=exc,
    )
    return error_response(
        500,
        "internal_error",
        "internal server error; quote the request id when reporting it",
        request_id=request_id,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping: ServiceError subclasses, 422, HTTPException, and a catch-all 500."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
