"""Request hardening as pure ASGI middleware: JSON bodies that say one thing, answers no cache
keeps.

* A JSON request body with the same key twice in one object (``{"annual_revenue": 1,
  "annual_revenue": 1e9}``) is refused 422 naming the key: Python's parser, like most, keeps
  the last one silently, so two systems reading the same body could decide on different
  values. The body is parsed once here with ``object_pairs_hook`` and handed on unchanged.
* Every ``/v1`` answer (decisions carry credit data) says ``Cache-Control: no-store`` and
  ``X-Content-Type-Options: nosniff``.

Runs inside :class:`creditrisk.serving.api.body_limit.BodySizeLimitMiddleware`, so the body it
keeps a copy of is never larger than the limit.
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: Final = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
)
API_PREFIX: Final = "/v1/"
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


class DuplicateJsonKeyError(ValueError):
    """The same key twice in one JSON object (``path``: the keys leading to that object)."""

    def __init__(self, key: str, path: tuple[str, ...]) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key
        self.path = path


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateJsonKeyError(key, ())
        seen[key] = value
    return seen


_UNIQUE_KEYS_DECODER: Final = json.JSONDecoder(object_pairs_hook=_unique_keys)
"""``json.loads(body, object_pairs_hook=_unique_keys)`` without a new decoder per body."""


def duplicate_key_in(body: bytes) -> str | None:
    """The first key that appears twice in one object of the JSON ``body`` (None: none, or
    not JSON at all: the app's own parsing reports that). Reads the body as ``json.loads``
    reads bytes (UTF-8, -16 or -32 by its first bytes)."""
    try:
        _UNIQUE_KEYS_DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except DuplicateJsonKeyError as exc:
        return exc.key
    except ValueError:
        return None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return bool(media == b"application/json" or media.endswith(b"+json"))
    return False


class DuplicateKeyRefused(HTTPException):
    """422 for a body with a duplicate key; raised while the app reads the body, so FastAPI
    re-raises it untouched and :mod:`creditrisk.serving.api.errors` renders it (with
    ``details``) after routing: the answer counts under its route."""

    def __init__(self, key: str) -> None:
        super().__init__(
            status_code=422,
            detail=f"invalid request: the key {key!r} appears twice in one JSON object",
        )
        self.key = key
        self.details = [{"loc": ["body", key], "msg": "duplicate key in JSON object",
                         "type": "duplicate_key"}]


class RequestHardeningMiddleware:
    """Refuse duplicate JSON keys (422); add the security headers to ``/v1`` answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if str(scope.get("path", "")).startswith(API_PREFIX):
            send = _with_security_headers(send)
        if scope["method"] not in _BODY_METHODS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def checking_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    key = duplicate_key_in(b"".join(chunks))
                    chunks.clear()
                    if key is not None:
                        raise DuplicateKeyRefused(key)
            return message

        await self.app(scope, checking_receive, send)


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
            message["headers"] = headers
        await send(message)

    return sending
