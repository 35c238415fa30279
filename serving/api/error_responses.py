"""The error answers each route declares in OpenAPI: one helper, one error-body schema.

Every error the service sends has the body :mod:`creditrisk.serving.api.errors` writes::

    {"error": "<code>", "message": "<for humans>", "request_id": "<id>", "details": [...]}

:class:`ErrorOut` is that body as a schema; :func:`error_responses` gives a route's
``responses=`` for the statuses it can answer, each with this schema, a description of when
it happens and the headers that come with it (``WWW-Authenticate`` on 401, ``Retry-After`` on
429 and 503). Routes list their statuses explicitly, so ``/docs`` shows what a client must
handle and a schema fuzzer (tests/serving/test_schemathesis.py) flags any status a route
answers without declaring it.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, Field


class FieldErrorOut(BaseModel):
    """One bad field of a 422: where it is and what is wrong (the value is never echoed)."""

    loc: list[int | str] = Field(description="Where: 'body', 'query' or 'path', then the field.")
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="A machine-readable error type.")


class ErrorOut(BaseModel):
    """The body of every error answer (4xx and 5xx)."""

    error: str = Field(description="Error code, e.g. 'unauthenticated', 'customer_not_found'.")
    message: str = Field(description="What went wrong, for humans; never a stack trace.")
    request_id: str | None = Field(
        description="The request's id (also in the X-Request-ID header): quote it when reporting."
    )
    details: list[FieldErrorOut] | None = Field(
        default=None, description="422 only: one entry per bad field."
    )


_RETRY_AFTER: Final = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "string"},
    }
}
_WWW_AUTHENTICATE: Final = {
    "WWW-Authenticate": {
        "description": "The bearer challenge (error=\"invalid_token\" when a key was sent).",
        "schema": {"type": "string"},
    }
}

ERROR_STATUSES: Final[dict[int, tuple[str, dict[str, Any]]]] = {
    400: ("The request body could not be parsed (not JSON, or not UTF-8).", {}),
    401: ("No API key, or an unknown, malformed or revoked one.", _WWW_AUTHENTICATE),
    403: ("The API key is valid but lacks the scope this route needs.", {}),
    404: ("The customer or decision does not exist.", {}),
    409: ("The Idempotency-Key was used before for a different request.", {}),
    413: ("The request body exceeds the configured size limit.", {}),
    422: ("A parameter or body field is invalid; `details` names each one.", {}),
    429: ("Too many requests for this API key on this route; retry later.", _RETRY_AFTER),
    500: ("An unexpected error; the body carries only the request id to quote.", {}),
    503: (
        "No model is loaded yet, the loaded bundle cannot answer this, the database is "
        "unavailable, or the service is busy; retry after Retry-After when it is sent.",
        _RETRY_AFTER,
    ),
}
"""Status -> (when the service answers it, headers sent with it)."""

ROUTE_ERRORS: Final = (401, 403, 500, 503)
"""What every authenticated ``/v1`` route can answer: key checks, the catch-all, and the
model or database being unavailable (keys are checked against the database)."""


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: each status with :class:`ErrorOut`, a description and headers.

    Raises ``KeyError`` naming the status when it is not one of :data:`ERROR_STATUSES`.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted(set(statuses)):
        if status not in ERROR_STATUSES:
            raise KeyError(f"no documented error answer for status {status}")
        description, headers = ERROR_STATUSES[status]
        entry: dict[str, Any] = {"model": ErrorOut, "description": description}
        if headers:
            entry["headers"] = dict(headers)
        responses[status] = entry
    return responses
