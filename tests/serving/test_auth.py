"""API keys: only a hash is stored, verification is constant-time, scopes are enforced,
401 carries a WWW-Authenticate challenge, revocation bites within the cache time, and no key
ever appears in a log."""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.serving import api_keys as auth
from creditrisk.serving.api.app import create_app
from creditrisk.serving.api.auth import require_scope
from creditrisk.serving.api.dependencies import ScoreCaller
from creditrisk.serving.api.errors import status_of
from creditrisk.serving.api_keys import (
    ApiKeyRecord,
    ApiKeyStore,
    UnknownScopeError,
    generate_api_key,
    hash_api_key,
    insert_api_key,
    parse_key_id,
    revoke_api_key,
    seed_entry,
)
from creditrisk.serving.errors import AuthenticationError
from creditrisk.serving.settings import API_KEYS_ENV, Settings, SettingsError, parse_seeded_api_keys

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")  # starlette 1.x prefers httpx2
    from fastapi.testclient import TestClient

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def issue(scopes: list[str], label: str = "test") -> tuple[str, ApiKeyRecord]:
    issued = generate_api_key(label=label, scopes=scopes, created_at=NOW)
    return issued.token, issued.record


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_generated_key_shows_its_id_and_only_a_sha256_is_kept() -> None:
    token, record = issue(["score", "read"])
    assert token.startswith(f"cr_{record.key_id}_")
    assert len(token.split("_", 2)[2]) == 43  # 32 random bytes, urlsafe base64
    assert parse_key_id(token) == record.key_id
    assert record.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(record)
    assert record.scopes == frozenset({"score", "read"})


def test_two_keys_never_share_id_or_secret() -> None:
    tokens = {issue(["read"])[0] for _ in range(50)}
    assert len(tokens) == 50
    assert len({parse_key_id(t) for t in tokens}) == 50


@pytest.mark.parametrize("scopes", [["write"], [], ["score", "root"]])
def test_unknown_or_empty_scopes_are_refused(scopes: list[str]) -> None:
    with pytest.raises(UnknownScopeError):
        generate_api_key(label="x", scopes=scopes, created_at=NOW)


def test_require_scope_refuses_an_unknown_scope_at_definition() -> None:
    with pytest.raises(UnknownScopeError):
        require_scope("write")  # type: ignore[arg-type]


def test_verification_compares_hashes_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    token, record = issue(["score"])
    calls: list[tuple[str, str]] = []
    real = auth.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    ApiKeyStore(None, seeded=[record]).authenticate(token)
    assert calls == [(hash_api_key(token), record.key_hash)]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # right id, wrong secret
        lambda t: t[:-2],  # malformed
        lambda t: "cr_000000000000_" + t.split("_", 2)[2],  # unknown id
        lambda t: "",
    ],
)
def test_wrong_malformed_or_unknown_keys_are_rejected(mangle: object) -> None:
    token, record = issue(["score"])
    store = ApiKeyStore(None, seeded=[record])
    with pytest.raises(AuthenticationError) as info:
        store.authenticate(mangle(token))  # type: ignore[operator]
    assert status_of(info.value) == (401, "unauthenticated")


def test_database_key_works_and_revocation_bites_after_the_cache_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    token, record = issue(["read"])
    insert_api_key(engine, record)
    clock = FakeMonotonic()
    store = ApiKeyStore(engine, cache_seconds=30, monotonic=clock)
    assert store.authenticate(token).key_id == record.key_id

    assert revoke_api_key(engine, record.key_id, revoked_at=NOW)
    assert not revoke_api_key(engine, record.key_id, revoked_at=NOW)  # already revoked
    clock.now += 29  # still within the cache time: the cached record is trusted
    assert store.authenticate(token).key_id == record.key_id
    clock.now += 2
    with pytest.raises(AuthenticationError, match="revoked"):
        store.authenticate(token)
    engine.dispose()


def test_seed_entry_round_trips_through_the_environment_variable() -> None:
    _, first = issue(["score", "read"])
    _, second = issue(["admin"])
    seeds = parse_seeded_api_keys(f"{seed_entry(first)}; {seed_entry(second)};")
    assert [(s.key_id, s.key_hash, s.scopes) for s in seeds] == [
        (first.key_id, first.key_hash, first.scopes),
        (second.key_id, second.key_hash, second.scopes),
    ]
    settings = Settings.from_env({API_KEYS_ENV: seed_entry(first)})
    assert settings.api_keys[0].key_id == first.key_id


@pytest.mark.parametrize(
    "text",
    [
        "abc",  # not three fields
        "0123456789ab:" + "0" * 64 + ":write",  # unknown scope
        "0123456789ab:" + "0" * 63 + ":read",  # short hash
        "XYZ:" + "0" * 64 + ":read",  # bad key id
    ],
)
def test_bad_seed_entries_name_the_variable(text: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse_seeded_api_keys(text)
    assert info.value.variable == API_KEYS_ENV


class Order(BaseModel):
    amount: float


def scoring_router() -> APIRouter:
    router = APIRouter()

    @router.post("/test/score")
    async def score(caller: ScoreCaller, order: Order) -> dict[str, str]:
        return {"key_id": caller.key_id}

    return router


@pytest.fixture
def keys() -> dict[str, tuple[str, ApiKeyRecord]]:
    return {"score": issue(["score"]), "read": issue(["read"]), "admin": issue(["admin"])}


@pytest.fixture
def client(tmp_path: Path, keys: dict[str, tuple[str, ApiKeyRecord]]) -> Iterator[TestClient]:
    from creditrisk.serving.settings import SeededApiKey

    seeds = tuple(
        SeededApiKey(key_id=r.key_id, key_hash=r.key_hash, scopes=r.scopes)
        for _, r in keys.values()
    )
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'svc.db'}", api_keys=seeds)
    app = create_app(settings, extra_routers=[scoring_router()])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_missing_key_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.post("/test/score", json={"amount": 1})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="creditrisk"'
    assert response.json()["error"] == "unauthenticated"


def test_invalid_key_is_401_invalid_token(client: TestClient) -> None:
    response = client.post(
        "/test/score", json={"amount": 1}, headers={"Authorization": "Bearer cr_nope"}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_valid_key_without_the_scope_is_403(
    client: TestClient, keys: dict[str, tuple[str, ApiKeyRecord]]
) -> None:
    token, _record = keys["read"]
    response = client.post("/test/score", json={"amount": 1}, headers={"X-API-Key": token})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "'score'" in response.json()["message"]


def test_admin_scope_does_not_imply_score(
    client: TestClient, keys: dict[str, tuple[str, ApiKeyRecord]]
) -> None:
    token, _ = keys["admin"]
    response = client.post("/test/score", json={"amount": 1}, headers={"X-API-Key": token})
    assert response.status_code == 403


def test_scoped_key_gets_through_by_either_header(
    client: TestClient, keys: dict[str, tuple[str, ApiKeyRecord]]
) -> None:
    """Bearer in any case (extra spaces tolerated) or X-API-Key; Basic is not a key."""
    token, record = keys["score"]
    for headers in ({"Authorization": f"Bearer {token}"}, {"Authorization": f"bearer  {token} "},
                    {"X-API-Key": token}, {"X-API-Key": f" {token} "}):
        response = client.post("/test/score", json={"amount": 1}, headers=headers)
        assert response.status_code == 200, headers
        assert response.json() == {"key_id": record.key_id}
    basic = client.post("/test/score", json={"amount": 1},
                        headers={"Authorization": f"Basic {token}"})
    assert basic.status_code == 401
    assert basic.json()["error"] == "unauthenticated"


def test_ambiguous_credentials_are_refused_not_resolved(
    client: TestClient, keys: dict[str, tuple[str, ApiKeyRecord]]
) -> None:
    """A valid X-API-Key next to a non-bearer Authorization header, or next to another key,
    is 401: the service never picks one of two credentials. The same key twice is fine."""
    token, _ = keys["score"]
    other, _ = keys["read"]
    for headers in ({"Authorization": f"Basic {token}", "X-API-Key": token},
                    {"Authorization": f"Bearer {other}", "X-API-Key": token}):
        response = client.post("/test/score", json={"amount": 1}, headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"] == "unauthenticated"
    same = client.post("/test/score", json={"amount": 1},
                       headers={"Authorization": f"Bearer {token}", "X-API-Key": token})
    assert same.status_code == 200


def test_openapi_declares_both_key_schemes_on_protected_routes_only(client: TestClient) -> None:
    """fastapi.security gives the OpenAPI security schemes (the /docs Authorize button)."""
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {"type": "http", "scheme": "bearer",
                                    "description": schemes["BearerKey"]["description"]}
    assert schemes["ApiKeyHeader"]["type"] == "apiKey"
    assert schemes["ApiKeyHeader"]["in"] == "header"
    assert schemes["ApiKeyHeader"]["name"] == "X-API-Key"
    protected = schema["paths"]["/test/score"]["post"]["security"]
    assert {name for requirement in protected for name in requirement} == {
        "BearerKey", "ApiKeyHeader"
    }
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_unauthenticated_callers_learn_nothing_about_the_body_schema(client: TestClient) -> None:
    """401 wins over 422: validation details are for authenticated callers only."""
    response = client.post("/test/score", json={"amount": "not a number"})
    assert response.status_code == 401


def test_no_key_appears_in_logs_but_the_key_id_does(
    client: TestClient,
    keys: dict[str, tuple[str, ApiKeyRecord]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    token, record = keys["score"]
    secret = token.split("_", 2)[2]
    with caplog.at_level(logging.DEBUG):
        client.post("/test/score", json={"amount": 1}, headers={"X-API-Key": token})
        client.post("/test/score", json={"amount": 1}, headers={"X-API-Key": token + "x"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in text
    access = [r.getMessage() for r in caplog.records if r.name == "creditrisk.access"]
    assert any(f"key={record.key_id}" in line for line in access)
