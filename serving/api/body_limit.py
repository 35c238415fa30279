"""Request body size limit as pure ASGI middleware (HTTP bodies, not credit limits).

A request whose ``Content-Length`` exceeds the limit is answered 413 at once, before any of
its body is read and without reaching the app. A body without a length (chunked transfer
encoding) is counted while the app reads it; the read that crosses the limit raises
``BodyTooLarge`` (an ``HTTPException(413)``, which FastAPI's body parsing re-raises untouched
and :mod:`creditrisk.serving.api.errors` renders), so nothing past the limit is ever buffered.

Starlette 1.x ships ``RequestBodyLimitMiddleware`` with the same idea; this one answers in
the service's JSON error format and carries the request id.
"""

from __future__ import annotations

from typing import Final

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditrisk.serving.api.errors import error_response
from creditrisk.serving.api.observability import request_id_of

_CONTENT_LENGTH: Final = b"content-length"


class BodyTooLarge(HTTPException):
    """The request body is over the limit (names the limit, in bytes)."""

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"request body exceeds the limit of {max_body_bytes} bytes",
            headers={"Connection": "close"},
        )
        self.max_body_bytes = max_body_bytes


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as an int (None when absent or not a number)."""
    for name, value in scope.get("headers", ()):
        if name == _CONTENT_LENGTH:
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodySizeLimitMiddleware:
    """Reject request bodies larger than ``max_body_bytes`` with 413."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        if max_body_bytes <= 0:
            raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        length = declared_length(scope)
        if length is not None and length > limit:
            await self._reject(scope, receive, send)
            return

        received_bytes = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received_bytes
            message = await receive()
            if message["type"] == "http.request":
                received_bytes += len(message.get("body", b""))
                if received_bytes > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if response_started:
                raise
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        too_large = BodyTooLarge(self.max_body_bytes)
        response = error_response(
            413,
            "payload_too_large",
            str(too_large.detail),
            request_id=request_id_of(scope),
            headers=too_large.headers,
        )
        await response(scope, receive, send)
