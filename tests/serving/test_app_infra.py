"""The service shell around the scoring endpoints: settings from the environment, one error
format (422 field messages, 404, 500 without a stack trace), request ids, metrics and access
log by route template (no ids), probes, and the same behaviour from a REAL uvicorn server over
HTTP: auth, body limits (declared and chunked), readiness, the decision log on SQLite and
PostgreSQL, and a model swap under concurrent load without a failed request."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import create_engine

from creditrisk.serving.api.app import create_app
from creditrisk.serving.api.dependencies import DecisionLogDep, ModelDep, ReadCaller, ScoreCaller
from creditrisk.serving.api.observability import ServiceLogFormatter, access_logger, log_access
from creditrisk.serving.api.routers.health import database_answers
from creditrisk.serving.api_keys import IssuedApiKey, generate_api_key
from creditrisk.serving.decision_log import DecisionRecord
from creditrisk.serving.errors import CustomerNotFound, InvalidRequest
from creditrisk.serving.model_holder import ModelRef
from creditrisk.serving.settings import (
    DEFAULT_MAX_BODY_BYTES,
    SeededApiKey,
    Settings,
    SettingsError,
)
from tests.serving.server import running_server

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")  # starlette 1.x prefers httpx2
    from fastapi.testclient import TestClient

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SECRET_TEXT = "database password is hunter2"


# --------------------------------------------------------------------------- test doubles


@dataclass(frozen=True)
class FakeBundle:
    version: str


def load_fake(uri: str) -> FakeBundle:
    return FakeBundle(version=uri.rsplit("/", 1)[-1])


class ApplicationIn(BaseModel):
    company: str = Field(min_length=1)
    requested_limit: float = Field(gt=0)


def routes_for_tests() -> APIRouter:
    """Routes that exist only in tests, added through ``create_app(extra_routers=...)``."""
    router = APIRouter(prefix="/test")

    @router.post("/applications")
    def apply(
        caller: ScoreCaller, body: ApplicationIn, model: ModelDep, log: DecisionLogDep
    ) -> dict[str, Any]:
        if body.company == "ghost":
            raise CustomerNotFound("C-404")
        if body.requested_limit > 1_000_000:
            raise InvalidRequest("requested_limit", "above the absolute maximum of 1000000")
        decision_id = log.record(
            DecisionRecord(
                kind="application",
                api_key_id=caller.key_id,
                model_name="fake",
                model_version=model.version,
                policy_version="p1",
                request=body,
                outputs={"decision": "approve", "limit": body.requested_limit},
            )
        )
        return {"decision_id": decision_id, "model_version": model.version}

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError(SECRET_TEXT)

    @router.get("/customers/{customer_id}")
    async def customer(customer_id: str, caller: ReadCaller) -> dict[str, str]:
        return {"customer_id": customer_id}

    @router.get("/model")
    def which_model(model: ModelDep) -> dict[str, str]:
        first = model.bundle.version
        time.sleep(0.002)  # overlap with swaps
        return {"ref": model.version, "bundle": model.bundle.version, "first": first}

    return router


def seeds(*keys: IssuedApiKey) -> tuple[SeededApiKey, ...]:
    return tuple(
        SeededApiKey(key_id=k.record.key_id, key_hash=k.record.key_hash, scopes=k.record.scopes)
        for k in keys
    )


@pytest.fixture(scope="module")
def scorer() -> IssuedApiKey:
    return generate_api_key(label="erp", scopes=["score", "read"], created_at=NOW)


@pytest.fixture(scope="module")
def reader() -> IssuedApiKey:
    return generate_api_key(label="bi", scopes=["read"], created_at=NOW)


@pytest.fixture(scope="module")
def admin() -> IssuedApiKey:
    return generate_api_key(label="ops", scopes=["admin"], created_at=NOW)


def build_app(
    database_url: str, *keys: IssuedApiKey, resolver: Any = None, loader: Any = load_fake,
    **settings: Any,
) -> FastAPI:
    config = Settings(
        database_url=database_url,
        model_uri=None if resolver else "/models/v1",
        api_keys=seeds(*keys),
        **settings,
    )
    return create_app(config, model_loader=loader, version_resolver=resolver,
                      extra_routers=[routes_for_tests()])


@pytest.fixture
def client(tmp_path: Path, scorer: IssuedApiKey, reader: IssuedApiKey) -> Iterator[TestClient]:
    app = build_app(f"sqlite:///{tmp_path / 'svc.db'}", scorer, reader)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# --------------------------------------------------------------------------- settings


def test_settings_defaults_suit_a_local_demo() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///creditrisk.db"
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 65536
    assert settings.model_uri is None
    assert settings.api_keys == ()


def test_settings_read_every_variable() -> None:
    settings = Settings.from_env(
        {
            "CREDITRISK_DATABASE_URL": "postgresql+psycopg://db/credit",
            "CREDITRISK_MODEL_URI": "models:/creditrisk@champion",
            "MLFLOW_TRACKING_URI": "http://mlflow:5000",
            "CREDITRISK_MAX_BODY_BYTES": "1024",
            "CREDITRISK_RELOAD_POLL_SECONDS": "0",
            "CREDITRISK_MODEL_LOAD": "background",
            "CREDITRISK_API_KEY_CACHE_SECONDS": "5",
            "CREDITRISK_LOG_LEVEL": "debug",
            "CREDITRISK_ACCESS_LOG": "false",
            "CREDITRISK_RUN_MIGRATIONS": "0",
            "CREDITRISK_PORTFOLIO_CACHE_SECONDS": "12",
            "CREDITRISK_PORTFOLIO_CACHE_MB": "64",
            "CREDITRISK_BOOK_WORKERS": "2",
            "CREDITRISK_BOOK_JOBS_PER_PROCESS": "3",
            "CREDITRISK_BOOK_QUEUE_LIMIT": "0",
            "CREDITRISK_BOOK_RATE_LIMIT": "3/second",
            "CREDITRISK_AS_OF_MAX_DAYS_AHEAD": "30",
            "CREDITRISK_WORKLIST_HORIZON_DAYS": "14",
            "CREDITRISK_DUNNING_CALL_FROM_DAYS": "10",
            "CREDITRISK_DUNNING_HOLD_DELIVERIES_FROM_DAYS": "20",
            "CREDITRISK_DUNNING_COLLECTIONS_FROM_DAYS": "45",
            "CREDITRISK_DUNNING_WRITE_OFF_REVIEW_FROM_DAYS": "120",
        }
    )
    assert settings.model_dump(exclude={"api_keys"}) == {
        "database_url": "postgresql+psycopg://db/credit",
        "model_uri": "models:/creditrisk@champion",
        "tracking_uri": "http://mlflow:5000",
        "max_body_bytes": 1024,
        "reload_poll_seconds": 0.0,
        "model_load": "background",
        "api_key_cache_seconds": 5.0,
        "log_level": "DEBUG",
        "access_log": False,
        "run_migrations": False,
        "portfolio_cache_seconds": 12.0,
        "portfolio_cache_mb": 64.0,
        "book_workers": 2,
        "book_jobs_per_process": 3,
        "book_queue_limit": 0,
        "book_rate_limit": "3/second",
        "as_of_max_days_ahead": 30,
        "worklist_horizon_days": 14,
        "dunning_call_from_days": 10,
        "dunning_hold_deliveries_from_days": 20,
        "dunning_collections_from_days": 45,
        "dunning_write_off_review_from_days": 120,
    }


def test_settings_written_as_variables_read_back_equal() -> None:
    """One source of names: ``to_environment`` writes what ``from_env`` reads."""
    key = generate_api_key(label="ops", scopes=["admin", "read"], created_at=NOW)
    settings = Settings(
        database_url="postgresql+psycopg://db/credit", model_uri="models:/creditrisk@champion",
        tracking_uri="http://mlflow:5000", api_keys=seeds(key), access_log=False,
        reload_poll_seconds=2.5, dunning_call_from_days=7,
    )
    environment = settings.to_environment()
    assert environment["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert environment["CREDITRISK_ACCESS_LOG"] == "false"
    assert all(name.startswith("CREDITRISK_") for name in environment
               if name != "MLFLOW_TRACKING_URI")
    assert Settings.from_env(environment) == settings


def test_constructing_settings_never_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Library code gets explicit settings: only ``from_env`` (at the edge) reads variables."""
    monkeypatch.setenv("CREDITRISK_DATABASE_URL", "postgresql+psycopg://elsewhere/db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://elsewhere:5000")
    assert Settings().database_url == "sqlite:///creditrisk.db"
    assert Settings().tracking_uri == "sqlite:///mlflow.db"
    assert Settings.from_env().database_url == "postgresql+psycopg://elsewhere/db"


def test_dunning_thresholds_must_escalate() -> None:
    with pytest.raises(SettingsError):
        Settings.from_env({"CREDITRISK_DUNNING_CALL_FROM_DAYS": "90"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CREDITRISK_MAX_BODY_BYTES", "0"),
        ("CREDITRISK_MAX_BODY_BYTES", "lots"),
        ("CREDITRISK_RELOAD_POLL_SECONDS", "-1"),
        ("CREDITRISK_MODEL_LOAD", "lazy"),
        ("CREDITRISK_LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({variable: value})
    assert info.value.variable == variable


# --------------------------------------------------------------------------- error mapping


def test_unexpected_error_is_a_generic_500_with_a_request_id_and_no_trace(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="creditrisk"):
        response = client.get("/test/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert SECRET_TEXT not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    logged = [r for r in caplog.records if r.name == "creditrisk.errors"]
    assert logged
    assert body["request_id"] in logged[0].getMessage()
    # where it failed stays server-side, scrubbed: code locations, never the text
    assert "in boom" in logged[0].getMessage()
    assert SECRET_TEXT not in logged[0].getMessage()
    assert logged[0].exc_info is None
    assert response.headers["connection"] == "close"


def test_pydantic_422_lists_each_bad_field_without_echoing_values(
    client: TestClient, scorer: IssuedApiKey
) -> None:
    response = client.post(
        "/test/applications",
        json={"company": "", "requested_limit": "Ölfirma-secret"},
        headers={"X-API-Key": scorer.token},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    by_field = {tuple(d["loc"]): d for d in body["details"]}
    assert set(by_field) == {("body", "company"), ("body", "requested_limit")}
    assert all(d["msg"] and d["type"] for d in body["details"])
    assert "Ölfirma-secret" not in response.text
    assert "input" not in response.text


def test_malformed_json_is_422_too(client: TestClient, scorer: IssuedApiKey) -> None:
    response = client.post(
        "/test/applications",
        content=b'{"company": ',
        headers={"X-API-Key": scorer.token, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["type"] == "json_invalid"


def test_domain_errors_map_to_their_status(client: TestClient, scorer: IssuedApiKey) -> None:
    key = {"X-API-Key": scorer.token}
    missing = client.post("/test/applications", json={"company": "ghost", "requested_limit": 1},
                          headers=key)
    assert missing.status_code == 404
    assert missing.json()["error"] == "customer_not_found"
    assert "C-404" in missing.json()["message"]
    too_much = client.post("/test/applications",
                           json={"company": "Acme", "requested_limit": 2_000_000}, headers=key)
    assert too_much.status_code == 422
    assert too_much.json()["details"] == [
        {"loc": ["body", "requested_limit"], "msg": "above the absolute maximum of 1000000",
         "type": "value_error"}
    ]


def test_unknown_route_and_wrong_method_use_the_same_error_format(client: TestClient) -> None:
    unknown = client.get("/v1/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"
    wrong = client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"


# --------------------------------------------------------------------------- observability


def test_request_id_is_echoed_when_safe_and_replaced_when_not(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers[
        "x-request-id"
    ] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id\r\n<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])


def test_metrics_and_access_log_use_route_templates_never_ids(
    client: TestClient, reader: IssuedApiKey, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="creditrisk.access"):
        response = client.get(
            "/test/customers/C-0042?name=Jane%20Doe", headers={"X-API-Key": reader.token}
        )
    assert response.status_code == 200
    line = next(r.getMessage() for r in caplog.records if r.name == "creditrisk.access")
    assert line.startswith("GET /test/customers/{customer_id} 200 ")
    assert f"key={reader.record.key_id}" in line
    assert "C-0042" not in line
    assert "Jane" not in line
    assert "?" not in line

    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert ('creditrisk_http_requests_total{method="GET",route="/test/customers/{customer_id}",'
            'status="200"} 1.0') in text
    assert "C-0042" not in text
    assert 'creditrisk_model_info{model_uri="/models/v1",model_version="/models/v1"} 1.0' in text
    assert "creditrisk_http_request_duration_seconds_bucket" in text


def test_log_lines_carry_the_standard_timestamp_made_once_per_second() -> None:
    """The service's log formatter writes ``%(asctime)s`` exactly as logging's own formatter
    does (same second twice, the next second, another day), and the access line through
    ``log_access`` reads as ``logger.info`` would write it."""
    fmt = "%(asctime)s %(levelname)s %(name)s %(message)s"
    ours, standard = ServiceLogFormatter(fmt), logging.Formatter(fmt)
    for created in (1_780_000_000.001, 1_780_000_000.999, 1_780_000_001.5, 1_790_000_123.25):
        record = logging.LogRecord("creditrisk.access", logging.INFO, __file__, 1, "x", (), None)
        record.created, record.msecs = created, (created - int(created)) * 1000.0
        assert ours.format(record) == standard.format(record)
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep()
    access_logger.addHandler(handler)
    try:
        log_access("POST", "/v1/applications", 200, 0.00123, "abc", "r1")
    finally:
        access_logger.removeHandler(handler)
    assert seen[0].getMessage() == "POST /v1/applications 200 1.23ms key=abc request_id=r1"
    assert (seen[0].name, seen[0].levelno) == ("creditrisk.access", logging.INFO)


def test_decisions_are_counted_by_kind(client: TestClient, scorer: IssuedApiKey) -> None:
    for _ in range(2):
        client.post("/test/applications", json={"company": "Acme", "requested_limit": 10},
                    headers={"X-API-Key": scorer.token})
    assert 'creditrisk_decisions_total{kind="application"} 2.0' in client.get("/metrics").text


def test_readiness_reports_an_unreachable_database() -> None:
    engine = create_engine("sqlite:////nonexistent-dir/never/there.db")
    assert database_answers(engine) is False


# --------------------------------------------------------------------------- real server


def raw_exchange(base_url: str, payload: list[bytes], timeout: float = 5.0) -> bytes:
    """Send raw bytes in one write, return everything the server answers until it closes.

    One write, so the server has all of it in its buffer at once: a server that answers 413
    and closes while some of our bytes are still unread sends a TCP reset, and a reset can
    discard the answer before we read it (seen once in a full-suite run). A reset after the
    answer arrived ends the exchange like a close.
    """
    host, port = base_url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(b"".join(payload))
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def wait_until_ready(http: httpx.Client, seconds: float = 10) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while (response := http.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, f"not ready after {seconds}s: {response.text}"
        time.sleep(0.02)
    return response


@pytest.mark.slow
def test_real_server_probes_auth_errors_and_body_limits(
    tmp_path: Path, scorer: IssuedApiKey, reader: IssuedApiKey
) -> None:
    release = threading.Event()

    def gated_loader(uri: str) -> FakeBundle:
        assert release.wait(10), "test never released the model"
        return load_fake(uri)

    app = build_app(f"sqlite:///{tmp_path / 'svc.db'}", scorer, reader, loader=gated_loader,
                    model_load="background", max_body_bytes=4096)
    with running_server(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        not_ready = http.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["model"] == "missing"
        application = {"company": "Acme", "requested_limit": 5000}
        early = http.post("/test/applications", json=application,
                          headers={"X-API-Key": scorer.token})
        assert early.status_code == 503
        release.set()
        assert wait_until_ready(http).json()["model_version"] == "/models/v1"

        assert http.post("/test/applications", json=application).status_code == 401
        assert http.post("/test/applications", json=application,
                         headers={"X-API-Key": reader.token}).status_code == 403
        bad = http.post("/test/applications", json={"requested_limit": -1},
                        headers={"Authorization": f"Bearer {scorer.token}"})
        assert bad.status_code == 422
        assert {tuple(d["loc"]) for d in bad.json()["details"]} == {
            ("body", "company"), ("body", "requested_limit")}

        boom = http.get("/test/boom")
        assert boom.status_code == 500
        assert SECRET_TEXT not in boom.text
        assert "Traceback" not in boom.text

        # Declared too large: answered from the headers alone, no body ever sent.
        declared = raw_exchange(base_url, [
            b"POST /test/applications HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000\r\n\r\n"])
        assert declared.startswith(b"HTTP/1.1 413 ")
        assert b"payload_too_large" in declared

        # Chunked, no length: cut off while streaming; the body is never terminated, so a
        # server that waited for all of it would hang until the socket timeout.
        chunk = b"x" * 1500
        chunked = raw_exchange(base_url, [
            b"POST /test/applications HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            *[b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 4])
        assert chunked.startswith(b"HTTP/1.1 413 ")

        def oversized() -> Iterator[bytes]:
            for _ in range(8):
                yield b" " * 1024

        streamed = http.post("/test/applications", content=oversized(),
                             headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert streamed.json()["error"] == "payload_too_large"

        ok = http.post("/test/applications", json=application,
                       headers={"X-API-Key": scorer.token})
        assert ok.status_code == 200

        metrics = http.get("/metrics").text
        assert 'route="/test/applications",status="413"' in metrics
        assert 'route="/test/applications",status="200"' in metrics


@pytest.mark.slow
def test_decision_is_written_before_the_answer_and_read_back_over_http(
    database_url: str, scorer: IssuedApiKey
) -> None:
    app = build_app(database_url, scorer)
    with running_server(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as http:
        key = {"X-API-Key": scorer.token}
        answer = http.post("/test/applications",
                           json={"company": "Acme GmbH", "requested_limit": 25_000}, headers=key)
        assert answer.status_code == 200
        decision_id = answer.json()["decision_id"]
        stored = http.get(f"/v1/decisions/{decision_id}", headers=key)
        assert stored.status_code == 200
        body = stored.json()
        assert body["request"] == {"company": "Acme GmbH", "requested_limit": 25000.0}
        assert body["outputs"] == {"decision": "approve", "limit": 25000.0}
        assert body["api_key_id"] == scorer.record.key_id
        assert body["model_version"] == "/models/v1"
        assert http.get(f"/v1/decisions/{'f' * 32}", headers=key).status_code == 404


@pytest.mark.slow
def test_model_swap_under_concurrent_load_fails_no_request(
    tmp_path: Path, scorer: IssuedApiKey, admin: IssuedApiKey
) -> None:
    """8 clients hammer a model-reading route while the alias moves and an admin reloads
    every few milliseconds: every request succeeds and sees one consistent version."""
    counter = {"version": 1}

    def alias() -> ModelRef:
        version = str(counter["version"])
        return ModelRef(uri=f"fake://{version}", version=version)

    def slow_loader(uri: str) -> FakeBundle:
        time.sleep(0.003)
        return load_fake(uri)

    app = build_app(f"sqlite:///{tmp_path / 'svc.db'}", scorer, admin, resolver=alias,
                    loader=slow_loader, reload_poll_seconds=0)
    with running_server(app) as base_url:
        done = threading.Event()
        reloads: list[int] = []

        def keep_reloading() -> None:
            with httpx.Client(base_url=base_url, timeout=10) as http:
                while not done.is_set():
                    counter["version"] += 1
                    reloads.append(http.post("/v1/admin/reload",
                                             headers={"X-API-Key": admin.token}).status_code)
                    time.sleep(0.005)

        def client_run(_: int) -> list[dict[str, Any]]:
            out = []
            with httpx.Client(base_url=base_url, timeout=10) as http:
                for _ in range(40):
                    response = http.get("/test/model")
                    out.append({"status": response.status_code, **response.json()})
            return out

        reloader = threading.Thread(target=keep_reloading)
        reloader.start()
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                results = [r for batch in pool.map(client_run, range(8)) for r in batch]
        finally:
            done.set()
            reloader.join()

    assert len(results) == 320
    assert [r for r in results if r["status"] != 200] == []
    assert [r for r in results if not (r["ref"] == r["bundle"] == r["first"])] == []
    assert len({r["ref"] for r in results}) >= 3, "the model never moved during the load"
    assert reloads
    assert set(reloads) == {200}


def unmapped_errors(module: Any) -> list[str]:
    """Domain error classes of ``module`` that would fall through to the generic 500."""
    from creditrisk.serving.api.errors import status_of
    from creditrisk.serving.errors import ServingError

    return sorted(
        cls.__name__
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, ServingError) and cls is not ServingError
        and status_of(cls.__new__(cls))[0] == 500
    )


def test_every_domain_error_has_its_http_status_in_the_one_mapping() -> None:
    from creditrisk.serving import errors

    assert unmapped_errors(errors) == []


def test_the_mapping_check_catches_an_unmapped_error_and_subclasses_inherit() -> None:
    """Negative control: a new direct subclass of the base is caught; a subclass of a mapped
    family takes the family's status."""
    import types

    from creditrisk.serving.api.errors import status_of
    from creditrisk.serving.errors import NotFound, ServingError

    class QuotaExceeded(ServingError):
        pass

    class InvoiceNotFound(NotFound):
        pass

    fake = types.SimpleNamespace(QuotaExceeded=QuotaExceeded, InvoiceNotFound=InvoiceNotFound)
    assert unmapped_errors(fake) == ["QuotaExceeded"]
    assert status_of(InvoiceNotFound("invoice 7 is not in the ledger")) == (404, "not_found")
