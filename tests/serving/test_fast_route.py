"""``POST /v1/applications`` binds a well-formed request's arguments itself
(:mod:`creditrisk.serving.api.fast_route`) and answers exactly what FastAPI's own dependency
solving answers: the same request is sent once each way (with a dependency override the
route takes FastAPI's way) and the two answers compared, decisions and refusals alike. A
counter on FastAPI's ``solve_dependencies`` shows which way each request went."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI

from creditrisk.serving.api.entrypoint import build_service, limit_lightgbm_threads
from creditrisk.serving.api_keys import IssuedApiKey, generate_api_key
from creditrisk.serving.settings import SeededApiKey, Settings
from tests.serving.bundle_fixture import SERVICE_TODAY, TYPICAL_APPLICATION, ServingWorld
from tests.serving.server import running_server

pytestmark = pytest.mark.slow

NOW = datetime(SERVICE_TODAY.year, SERVICE_TODAY.month, SERVICE_TODAY.day, 12, tzinfo=UTC)
VARYING = ("decision_id", "request_id")
"""Fields that differ between two answers to the same request."""


def _unused_dependency() -> None:  # pragma: no cover - never called
    """Overridden to send requests FastAPI's way (any override does)."""


@pytest.fixture(scope="module")
def keys() -> dict[str, IssuedApiKey]:
    return {
        scope: generate_api_key(label=scope, scopes=[scope], created_at=NOW)
        for scope in ("score", "read")
    }


@pytest.fixture(scope="module")
def served(
    serving_world: ServingWorld, serving_ledger_url: str, keys: dict[str, IssuedApiKey]
) -> Iterator[tuple[FastAPI, httpx.Client]]:
    settings = Settings(
        database_url=serving_ledger_url,
        model_uri=serving_world.model_uri,
        tracking_uri=serving_world.tracking_uri,
        api_keys=tuple(
            SeededApiKey(key_id=k.record.key_id, key_hash=k.record.key_hash,
                         scopes=k.record.scopes)
            for k in keys.values()
        ),
        reload_poll_seconds=0,
        access_log=False,
    )
    limit_lightgbm_threads()
    app = build_service(settings, clock=lambda: NOW)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield app, client


@pytest.fixture
def solved_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times FastAPI solved a request's dependencies (its own handler ran)."""
    count = [0]
    solve = fastapi.routing.solve_dependencies  # type: ignore[attr-defined]

    async def counting(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return count


def comparable(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {name: value for name, value in response.headers.items()
               if name not in ("date", "content-length", "x-request-id")}
    try:
        body = response.json()
    except ValueError:
        return response.status_code, headers, response.text
    if isinstance(body, dict):
        body = {name: value for name, value in body.items() if name not in VARYING}
    return response.status_code, headers, body


def both_ways(
    app: FastAPI, client: httpx.Client, solved_count: list[int], **request: Any
) -> tuple[tuple[int, dict[str, str], Any], int, tuple[int, dict[str, str], Any], int]:
    """The answer and the number of FastAPI-solved requests, plain way first, then
    FastAPI's way."""
    before = solved_count[0]
    plain = comparable(client.post("/v1/applications", **request))
    plain_solved = solved_count[0] - before
    app.dependency_overrides[_unused_dependency] = _unused_dependency
    try:
        before = solved_count[0]
        solved = comparable(client.post("/v1/applications", **request))
        return plain, plain_solved, solved, solved_count[0] - before
    finally:
        app.dependency_overrides.clear()


def bearer(key: IssuedApiKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.token}"}


def test_a_well_formed_application_skips_dependency_solving_with_the_same_answer(
    served: tuple[FastAPI, httpx.Client], keys: dict[str, IssuedApiKey],
    solved_count: list[int],
) -> None:
    app, client = served
    for body in (TYPICAL_APPLICATION,
                 {**TYPICAL_APPLICATION, "external_reference": "crm-7", "as_of": "2025-06-30"},
                 {**TYPICAL_APPLICATION, "external_score": None,
                  "expected_monthly_sales": None}):
        plain, plain_solved, solved, solved_solved = both_ways(
            app, client, solved_count, json=body, headers=bearer(keys["score"]))
        assert plain[0] == 200, plain
        assert (plain_solved, solved_solved) == (0, 1)  # negative control: the other way
        assert plain == solved


@pytest.mark.parametrize(
    ("name", "request_of"),
    [
        ("no key", lambda k: {"json": TYPICAL_APPLICATION}),
        ("read key", lambda k: {"json": TYPICAL_APPLICATION, "headers": bearer(k["read"])}),
        ("wrong key", lambda k: {"json": TYPICAL_APPLICATION,
                                 "headers": {"X-API-Key": "cr_nope"}}),
        ("bad field", lambda k: {"json": {**TYPICAL_APPLICATION, "annual_revenue": "1e6"},
                                 "headers": bearer(k["score"])}),
        ("unknown field", lambda k: {"json": {**TYPICAL_APPLICATION, "x": 1},
                                     "headers": bearer(k["score"])}),
        ("bad field, no key", lambda k: {"json": {**TYPICAL_APPLICATION, "country": ""}}),
        ("not JSON", lambda k: {"content": b"{nope", "headers": {
            **bearer(k["score"]), "Content-Type": "application/json"}}),
        ("a list", lambda k: {"json": [TYPICAL_APPLICATION], "headers": bearer(k["score"])}),
        ("text body", lambda k: {"content": json.dumps(TYPICAL_APPLICATION).encode(),
                                 "headers": {**bearer(k["score"]),
                                             "Content-Type": "text/plain"}}),
        ("duplicate key", lambda k: {"content": b'{"country": "DE", "country": "FR"}',
                                     "headers": {**bearer(k["score"]),
                                                 "Content-Type": "application/json"}}),
        ("bad idempotency key", lambda k: {"json": TYPICAL_APPLICATION, "headers": {
            **bearer(k["score"]), "Idempotency-Key": "has space"}}),
        ("founded after as_of", lambda k: {
            "json": {**TYPICAL_APPLICATION, "founded_on": "2025-12-01", "as_of": "2025-06-30"},
            "headers": bearer(k["score"])}),
    ],
)
def test_every_refusal_is_fastapis_own_answer(
    served: tuple[FastAPI, httpx.Client], keys: dict[str, IssuedApiKey],
    solved_count: list[int], name: str, request_of: Any,
) -> None:
    app, client = served
    plain, _, solved, _ = both_ways(app, client, solved_count, **request_of(keys))
    assert plain[0] >= 400, (name, plain)
    assert plain == solved, name
