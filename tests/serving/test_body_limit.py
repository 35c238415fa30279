"""The body size limit: 413 before the body is read when the length is declared, and as soon
as the limit is crossed when it is not (chunked); bodies within the limit pass untouched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
import orjson
import pytest
from fastapi import FastAPI, Request
from starlette.types import Message, Receive, Scope, Send

from creditrisk.serving.api.body_limit import BodySizeLimitMiddleware, BodyTooLarge
from creditrisk.serving.api.errors import install_error_handlers

LIMIT = 100


def http_scope(headers: Sequence[tuple[bytes, bytes]] = ()) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "root_path": "",
        "query_string": b"",
        "headers": list(headers),
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {"request_id": "rid-1"},
    }


class Recorder:
    """Feeds body chunks to the app and records what was read and what was answered."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = list(chunks)
        self.reads = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        index = self.reads
        self.reads += 1
        if index >= len(self.chunks):
            return {"type": "http.disconnect"}
        more = index < len(self.chunks) - 1
        return {"type": "http.request", "body": self.chunks[index], "more_body": more}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, answers 200 with its length."""
    total = b""
    while True:
        message = await receive()
        total += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(total)).encode()})


def run(app: Any, scope: dict[str, Any], recorder: Recorder) -> None:
    anyio.run(app, scope, recorder.receive, recorder.send)


def test_declared_length_over_limit_is_rejected_without_reading_or_calling_the_app() -> None:
    called: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(True)

    recorder = Recorder([b"x" * 500])
    scope = http_scope([(b"content-length", b"500")])
    run(BodySizeLimitMiddleware(app, max_body_bytes=LIMIT), scope, recorder)
    assert recorder.status == 413
    assert recorder.reads == 0
    assert called == []
    body = orjson.loads(recorder.body)
    assert body["error"] == "payload_too_large"
    assert body["request_id"] == "rid-1"
    assert str(LIMIT) in body["message"]


def test_chunked_body_is_cut_off_at_the_chunk_that_crosses_the_limit() -> None:
    chunks = [b"a" * 40] * 10  # 400 bytes, no content-length
    recorder = Recorder(chunks)
    run(BodySizeLimitMiddleware(echo_app, max_body_bytes=LIMIT), http_scope(), recorder)
    assert recorder.status == 413
    assert recorder.reads == 3  # 40, 80, 120 > 100: nothing after the third chunk is read


def test_body_at_the_limit_passes_unchanged() -> None:
    recorder = Recorder([b"a" * 60, b"b" * 40])
    run(BodySizeLimitMiddleware(echo_app, max_body_bytes=LIMIT), http_scope(), recorder)
    assert recorder.status == 200
    assert recorder.body == b"100"


def test_declared_length_within_limit_passes() -> None:
    recorder = Recorder([b"a" * 50])
    scope = http_scope([(b"content-length", b"50")])
    run(BodySizeLimitMiddleware(echo_app, max_body_bytes=LIMIT), scope, recorder)
    assert (recorder.status, recorder.body) == (200, b"50")


def test_a_lying_short_content_length_is_still_cut_off_by_counting() -> None:
    """A client declaring 10 bytes and streaming 400 gets 413 from the counter."""
    recorder = Recorder([b"a" * 40] * 10)
    scope = http_scope([(b"content-length", b"10")])
    run(BodySizeLimitMiddleware(echo_app, max_body_bytes=LIMIT), scope, recorder)
    assert recorder.status == 413


def test_fastapi_route_reading_a_chunked_json_body_gets_413_in_the_error_format() -> None:
    """FastAPI turns unknown errors while parsing a body into 400; ours must stay 413."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"n": len(await request.json())}

    recorder = Recorder([b'["' + b"a" * 60, b"b" * 60 + b'"]'])
    scope = http_scope([(b"content-type", b"application/json")])
    run(BodySizeLimitMiddleware(app, max_body_bytes=LIMIT), scope, recorder)
    assert recorder.status == 413
    assert orjson.loads(recorder.body)["error"] == "payload_too_large"


def test_limit_crossed_after_the_response_started_is_not_answered_twice() -> None:
    async def streaming_app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body", False):
            pass

    recorder = Recorder([b"a" * 80, b"a" * 80])
    with pytest.raises(BodyTooLarge):
        run(BodySizeLimitMiddleware(streaming_app, max_body_bytes=LIMIT), http_scope(), recorder)
    assert [m["type"] for m in recorder.sent] == ["http.response.start"]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        BodySizeLimitMiddleware(echo_app, max_body_bytes=0)
